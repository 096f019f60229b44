"""OpenAI-compatible routes, so chat front ends (Open WebUI, LibreChat) and OpenAI's SDKs can use the service:
GET /v1/models and POST /v1/chat/completions (plain or streamed as `chat.completion.chunk` events).

The messages list is the conversation: the last user message is the question, the earlier ones its history
(a follow-up is made whole as on /v1/ask). The reply's content is the answer with its [n] markers and a
Sources list linking each passage. System messages are dropped: the service's own instructions stand. The
client keeps the conversation, so nothing is stored here. Errors on these routes are OpenAI's
`{"error": {"message", "type", "param", "code"}}` (`reshape_errors`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
from typing import Any, Callable

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from ..conversation import cut_history
from ..logs import log_event
from .auth import at_least
from .errors import error_reply
from .runtime import AnswerTimeout, ShuttingDown
from .openai_format import (OpenAIError, completion, completion_id, content_of, chunk, error_body, model_ids,
                            models_list, parse_model, pieces, read_messages, usage)

log = logging.getLogger("qa.api")

OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")


class ChatRequest(BaseModel):
    """OpenAI's request; parameters a grounded answer cannot honour (temperature, max_tokens, tools, …) are
    accepted and ignored, as chat front ends send them by default."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="One of GET /v1/models: `qa-member`, `qa-helpdesk`, or `qa-<mode>-<generator>`.")
    messages: list[Any] = Field(description="The conversation: system (ignored), user and assistant messages; "
                                            "the last one is the member's question.")
    stream: bool = Field(False, description="Reply as `chat.completion.chunk` Server-Sent Events, ending with "
                                            "`data: [DONE]`.")
    stream_options: dict[str, Any] | None = Field(None, description="`{\"include_usage\": true}` adds a last "
                                                                    "chunk with `usage`.")


class _Cancelled(Exception):
    """The client went away: stop generating."""


def install(app: FastAPI, state, *, member: Callable, helpdesk: Callable, limited: Callable) -> None:
    """Add the routes and give their errors OpenAI's shape (after the app's own error handlers exist)."""
    app.include_router(router(state, member=member, limited=limited))
    reshape_errors(app)


def reshape_errors(app: FastAPI) -> None:
    """Wrap every error handler: on the OpenAI routes, `{"detail": m}` becomes `{"error": {...}}`."""
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = _openai_shaped(handler)


def _openai_shaped(handler):
    async def handle(request: Request, exc: Exception):
        response = handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        if request.url.path.rstrip("/") not in OPENAI_PATHS or not isinstance(response, JSONResponse):
            return response
        try:
            detail = json.loads(response.body).get("detail")
        except (ValueError, AttributeError):
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        body = error_body(response.status_code, str(detail), getattr(exc, "param", None), getattr(exc, "code", None))
        return JSONResponse(body, status_code=response.status_code, headers=headers)
    return handle


def router(state, *, member: Callable, limited: Callable) -> APIRouter:
    api = APIRouter(tags=["openai"])
    settings = state.settings
    created = int(time.time())

    @api.get("/v1/models")
    @limited
    def models(request: Request, who=Depends(member)):
        """The model ids, in OpenAI's list format: each names a mode and, optionally, a generator."""
        return models_list(created)

    @api.post("/v1/chat/completions")
    @limited
    async def chat_completions(request: Request, body: ChatRequest, who=Depends(member)):
        """Answer the last user message, read as a follow-up of the earlier ones, in OpenAI's format."""
        service = state.ready_service()
        parsed = parse_model(body.model)
        if parsed is None:
            raise OpenAIError(404, f"the model {body.model!r} does not exist; use one of {', '.join(model_ids())}",
                              param="model", code="model_not_found")
        mode, generator = parsed
        if mode == "helpdesk" and state.keys.configured and not at_least(who.role, "helpdesk"):
            raise OpenAIError(403, "helpdesk models need a helpdesk or admin API key", param="model")
        conversation = read_messages(body.messages)
        question = service.check_question(conversation.question)
        options = dict(mode=mode, language=None, generator=generator or settings.generator, k=None,
                       history=cut_history(conversation.history, settings.max_history_turns))
        job = _Job(state, question, options)  # PoolFull: a 503 now, before any streaming starts
        cid, model, base = completion_id(), body.model, str(request.base_url)
        if body.stream:
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            return EventSourceResponse(_events(job, cid, model, base, conversation, include_usage, request),
                                       ping=15, send_timeout=60,
                                       headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        payload = await job.result()
        content = content_of(payload, base)
        _log(request, job, payload, stream=False)
        return completion(cid, model, content, usage(conversation, content))

    return api


class _Job:
    """One answer in the generation pool, with the same deadline and shutdown behaviour as /v1/ask."""

    def __init__(self, state, question: str, options: dict) -> None:
        self.state, self.options = state, options
        self.started = time.perf_counter()
        limit = state.settings.answer_timeout_s
        self.limit, self.deadline = limit, time.monotonic() + limit
        self.too_slow = (f"the answer took longer than {limit:g} s (all answer workers are busy or slow); "
                         "try again shortly")
        self.cancelled = threading.Event()
        self.future = state.pool.submit(state.service.ask, question, on_token=self._checkpoint, **options)

    def _checkpoint(self, piece: str = "") -> None:  # between tokens: stop on shutdown, past the deadline, or gone
        if self.cancelled.is_set():
            raise _Cancelled()
        self.state.pool.checkpoint(piece)
        if time.monotonic() > self.deadline:
            raise AnswerTimeout(self.too_slow)

    async def result(self) -> dict:
        try:
            answer = await asyncio.wait_for(asyncio.wrap_future(self.future), self.limit)
        except asyncio.TimeoutError:
            self.future.cancel()
            raise AnswerTimeout(self.too_slow) from None
        except asyncio.CancelledError:
            self.future.cancel()
            raise ShuttingDown("the service is restarting and the answer was not finished; ask again in a moment") \
                from None
        self.state.metrics.observe_answer(answer)
        return self.state.remember(answer)

    def cancel(self) -> None:
        self.cancelled.set()
        self.future.cancel()


async def _events(job: _Job, cid: str, model: str, base: str, conversation, include_usage: bool, request: Request):
    """The role first (the client sees the reply start), then the checked answer in pieces, then the finish."""
    created = int(time.time())
    try:
        yield {"data": json.dumps(chunk(cid, model, created, {"role": "assistant", "content": ""}))}
        try:
            payload = await job.result()
        except Exception as exc:
            status, message, _ = error_reply(exc)
            if status == 500:
                log.error(json.dumps({"event": "internal_error", "error": repr(exc)}), exc_info=exc)
                message = "internal error"
            yield {"data": json.dumps(error_body(status, message), ensure_ascii=False)}
            yield {"data": "[DONE]"}
            return
        content = content_of(payload, base)
        for piece in pieces(content):
            yield {"data": json.dumps(chunk(cid, model, created, {"content": piece}), ensure_ascii=False)}
        yield {"data": json.dumps(chunk(cid, model, created, {}, finish="stop"))}
        if include_usage:
            yield {"data": json.dumps(chunk(cid, model, created, None, use=usage(conversation, content)))}
        yield {"data": "[DONE]"}
        _log(request, job, payload, stream=True)
    finally:
        job.cancel()  # a client gone before the end: never start, or stop at the next token


def _log(request: Request, job: _Job, payload: dict, stream: bool) -> None:
    """Counts and timings only: the question and its history are personal data."""
    log_event(log, "chat_answer", request_id=getattr(request.state, "request_id", None), mode=job.options["mode"],
              generator=job.options["generator"], language=payload.get("language"), abstained=payload.get("abstained"),
              citations=len(payload.get("citations", [])), history_turns=len(job.options["history"]), stream=stream,
              ms=round((time.perf_counter() - job.started) * 1000, 1))
