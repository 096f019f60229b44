"""OpenAI's chat-completions formats, as plain functions: the model ids, messages -> question and history,
an answer -> `chat.completion` / `chat.completion.chunk` objects, and errors as `{"error": {...}}`.

Shapes follow OpenAI's API reference (the `openai` Python client parses them in tests/test_chat_api.py).
"""

from __future__ import annotations

import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException

from ..conversation import Turn
from ..generate import CHARS_PER_TOKEN

MODES = ("member", "helpdesk")
GENERATORS = ("embedded", "ollama", "extractive")
OWNER = "qa"
ROLES = ("system", "user", "assistant")
# Presentation labels of the Sources list, in the answer's language.
SOURCES_LABEL = {"nl": "Bronnen", "fr": "Sources"}
PAGE_LABEL = {"nl": "p.", "fr": "p."}
WORDS_PER_CHUNK = 8  # the finished answer is streamed in pieces of about this many words


# ---------------------------------------------------------------- model ids


def model_ids() -> list[str]:
    """`qa-member` and `qa-helpdesk` answer with the configured generator; `qa-<mode>-<generator>` with that one."""
    return [f"qa-{mode}{suffix}" for mode in MODES for suffix in ("", *(f"-{g}" for g in GENERATORS))]


def parse_model(model_id: str) -> tuple[str, str | None] | None:
    """(mode, generator or None for the configured one), or None for an unknown id."""
    match = re.fullmatch(r"qa-(member|helpdesk)(?:-(embedded|ollama|extractive))?", model_id or "")
    return (match.group(1), match.group(2)) if match else None


def models_list(created: int) -> dict:
    return {"object": "list",
            "data": [{"id": m, "object": "model", "created": created, "owned_by": OWNER} for m in model_ids()]}


# ---------------------------------------------------------------- errors


class OpenAIError(HTTPException):
    """An HTTP error that also names the request parameter at fault and OpenAI's error code."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message, headers=headers)
        self.param, self.code = param, code


_TYPES = {401: "authentication_error", 403: "permission_error", 404: "invalid_request_error",
          429: "rate_limit_error"}
_CODES = {401: "invalid_api_key", 403: "insufficient_permissions", 404: "not_found", 413: "request_too_large",
          415: "unsupported_media_type", 422: "invalid_value", 429: "rate_limit_exceeded", 503: "service_unavailable"}


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict:
    kind = _TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code or _CODES.get(status)}}


# ---------------------------------------------------------------- messages in


@dataclass
class Conversation:
    """What a messages list asks: the last user message, the earlier turns, and the text that was read."""

    question: str
    history: list[Turn]
    prompt_chars: int  # characters of the user and assistant messages read (system messages are not)
    messages: int


def _text(content: Any, where: str) -> str:
    """A message's text: a string, or a list of text parts (OpenAI's content parts); anything else is a 422."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        pieces = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise OpenAIError(422, f"{where}.content[{i}] is {kind!r}: only text content is accepted",
                                  param=f"{where}.content")
            pieces.append(part["text"])
        return "\n".join(pieces)
    raise OpenAIError(422, f"{where}.content must be a non-empty string or a list of text parts",
                      param=f"{where}.content")


def read_messages(messages: list[dict[str, Any]]) -> Conversation:
    """The last message is the question (it must be the member's); earlier user messages, each with the
    assistant reply after it, are the history. System messages are dropped: the service's own instructions
    stand, and a caller's never reach a model."""
    if not messages:
        raise OpenAIError(422, "messages is empty: send at least one user message", param="messages")
    turns: list[Turn] = []
    chars = read = 0
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise OpenAIError(422, f"{where} must be an object with role and content", param=where)
        role = message.get("role")
        if role not in ROLES:
            raise OpenAIError(422, f"{where}.role is {role!r}; accepted roles are system, user and assistant",
                              param=f"{where}.role")
        text = _text(message.get("content"), where)
        if not text.strip():
            raise OpenAIError(422, f"{where}.content is empty", param=f"{where}.content")
        if role == "system":
            continue
        chars += len(text)
        read += 1
        if role == "user":
            turns.append(Turn(question=text.strip()))
        elif turns and not turns[-1].answer:
            turns[-1] = Turn(question=turns[-1].question, answer=text)
        # an assistant message with no question before it (a greeting) is no turn of the member's
    if messages[-1].get("role") != "user":
        raise OpenAIError(422, "the last message must be the member's (role user)",
                          param=f"messages[{len(messages) - 1}].role")
    last = turns.pop()
    return Conversation(question=last.question, history=turns, prompt_chars=chars, messages=read)


# ---------------------------------------------------------------- answer out


def _escape(text: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", text)


def passage_url(base_url: str, doc: str, chunk_id: str) -> str:
    return f"{base_url.rstrip('/')}/v1/documents/{quote(doc, safe='/')}/chunks/{quote(chunk_id, safe='')}"


def content_of(payload: dict[str, Any], base_url: str) -> str:
    """The answer with its [n] markers, then the Sources list: title, page, a link to the passage."""
    text = payload.get("answer", "")
    citations = payload.get("citations") or []
    if not citations:
        return text
    language = payload.get("language") if payload.get("language") in SOURCES_LABEL else "nl"
    lines = [text, "", f"{SOURCES_LABEL[language]}:"]
    for c in citations:
        page = f", {PAGE_LABEL[language]} {c['page']}" if c.get("page") else ""
        title = _escape(c.get("title") or c.get("doc", ""))
        lines.append(f"- [{c['n']}] [{title}]({passage_url(base_url, c['doc'], c['chunk_id'])}){page}")
    return "\n".join(lines)


def usage(conversation: Conversation, content: str) -> dict[str, int]:
    """Rough token counts: characters / 3 rounded up, plus 8 per message read (the over-estimate of
    `qa.generate.estimate_tokens` that sizes Ollama's context). No tokenizer: most of an answer is quoted
    from the documents, not generated, and the generator may be none."""
    prompt = math.ceil(conversation.prompt_chars / CHARS_PER_TOKEN) + 8 * conversation.messages
    completion = math.ceil(len(content) / CHARS_PER_TOKEN)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def completion(cid: str, model: str, content: str, use: dict[str, int], created: int | None = None) -> dict:
    return {"id": cid, "object": "chat.completion", "created": created or int(time.time()), "model": model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": use}


def chunk(cid: str, model: str, created: int, delta: dict[str, Any] | None, finish: str | None = None,
          use: dict[str, int] | None = None) -> dict:
    """One `chat.completion.chunk`; `delta` None makes the usage-only chunk (empty choices)."""
    out: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                           "system_fingerprint": None, "choices": []}
    if delta is not None:
        out["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    if use is not None:
        out["usage"] = use
    return out


def pieces(content: str, words: int = WORDS_PER_CHUNK) -> list[str]:
    """The content cut after every `words` words, whitespace kept, so the pieces join back exactly."""
    words_ = re.findall(r"\S+\s*|\s+", content)
    return ["".join(words_[i:i + words]) for i in range(0, len(words_), words)] or [""]
