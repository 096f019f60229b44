"""Conversations over HTTP: the turns a follow-up is read with, and GET / DELETE /v1/conversations/{id}.

`/v1/ask` calls `thread_for` before answering (the earlier turns, from a stored conversation or the request's
own `history`) and `record` after (the new turn, stored; its id goes back with the answer). A conversation
lives `QA_CONVERSATION_TTL_S` after its last turn; an unknown or expired id is a 404 that says so.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from ..conversation import Turn, cut_history
from ..conversation_store import ConversationNotFound, ConversationStore

PURGE_EVERY_S = 60.0  # expired conversations are deleted at most this often, on the way of a request
_ID_CHARS = frozenset("0123456789abcdefABCDEF-")


@dataclass
class Thread:
    """The conversation a question belongs to: its id (None until stored) and the earlier turns."""

    conversation_id: str | None
    history: list[Turn] = field(default_factory=list)


class Purger:
    """Deletes expired conversations now and then, never on every request."""

    def __init__(self, every_s: float = PURGE_EVERY_S) -> None:
        self.every_s = every_s
        self._last = 0.0
        self._lock = threading.Lock()

    def maybe(self, store: ConversationStore) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every_s:
                return
            self._last = now
        store.purge_expired()


_purger = Purger()


def not_found(conversation_id: str, ttl_s: int) -> HTTPException:
    return HTTPException(404, f"conversation {conversation_id!r} is unknown or has expired (a conversation is kept "
                              f"{ttl_s} s after its last question, QA_CONVERSATION_TTL_S); leave conversation_id "
                              "out to start a new one")


def _plausible(conversation_id: str) -> bool:
    return 0 < len(conversation_id) <= 64 and set(conversation_id) <= _ID_CHARS


def turns_of(stored: list[dict[str, Any]]) -> list[Turn]:
    out = []
    for t in stored:
        answer = t.get("answer") or {}
        out.append(Turn(question=t.get("question", ""), answer=answer.get("answer", "") if isinstance(answer, dict)
                        else str(answer), language=t.get("language") or (answer.get("language")
                                                                           if isinstance(answer, dict) else None)))
    return out


def thread_for(store: ConversationStore, settings, conversation_id: str | None,
               history: list[dict[str, Any]] | None) -> Thread:
    """The earlier turns of a question: a stored conversation's (404 when gone), or the given history (a new
    conversation is stored for it after the answer); cut to QA_MAX_HISTORY_TURNS from the oldest."""
    _purger.maybe(store)
    if conversation_id is not None and history is not None:
        raise HTTPException(422, "send either conversation_id or history, not both")
    if conversation_id is not None:
        stored = store.get(conversation_id) if _plausible(conversation_id) else None
        if stored is None:
            raise not_found(conversation_id, settings.conversation_ttl_s)
        return Thread(conversation_id, cut_history(turns_of(stored), settings.max_history_turns))
    turns = [Turn(question=h["question"], answer=h.get("answer") or "", language=h.get("language"))
             for h in history or []]
    for turn in turns:
        if not turn.question.strip():
            raise HTTPException(422, "history: every turn needs a non-empty question")
        if len(turn.question) > settings.max_question_chars:
            raise HTTPException(422, f"history: a question is longer than {settings.max_question_chars} characters")
    return Thread(None, cut_history(turns, settings.max_history_turns))


def record(store: ConversationStore, settings, thread: Thread, question: str, payload: dict[str, Any]) -> str:
    """Store the answered turn (with the given history first, for a new conversation); the conversation's id."""
    turn = {"question": question, "answer": payload, "language": payload.get("language")}
    if thread.conversation_id is not None:
        try:
            store.append(thread.conversation_id, turn)
            return thread.conversation_id
        except ConversationNotFound:  # expired while the answer was made: keep the turns in a new one
            pass
    conversation_id = store.create()
    for earlier in thread.history:
        store.append(conversation_id, {"question": earlier.question, "language": earlier.language,
                                       "answer": {"answer": earlier.answer, "language": earlier.language}})
    store.append(conversation_id, turn)
    return conversation_id


def router(state, *, member: Callable, limited: Callable) -> APIRouter:
    """GET and DELETE /v1/conversations/{id}; `state` is the app's `AppState` (its `conversations` store)."""
    api = APIRouter(tags=["conversations"])
    ttl = state.settings.conversation_ttl_s
    errors = {401: {"description": "the API key is not valid"},
              404: {"description": "the conversation is unknown, deleted or expired"},
              429: {"description": "too many requests"}}

    @api.get("/v1/conversations/{conversation_id}", responses=errors)
    @limited
    def get_conversation(request: Request, conversation_id: str, who=Depends(member)):
        """The turns of a conversation, oldest first: each question and the answer JSON it got (the web page
        re-reads them after a reload; it keeps only the id)."""
        stored = state.conversations.get(conversation_id) if _plausible(conversation_id) else None
        if stored is None:
            raise not_found(conversation_id, ttl)
        return {"conversation_id": conversation_id, "ttl_s": ttl,
                "turns": [{"question": t.get("question"), "answer": t.get("answer"), "language": t.get("language"),
                           "created_at": t.get("created_at")} for t in stored]}

    @api.delete("/v1/conversations/{conversation_id}", status_code=204, responses=errors)
    @limited
    def delete_conversation(request: Request, conversation_id: str, who=Depends(member)):
        """Delete a conversation and every question and answer in it, now."""
        if not (_plausible(conversation_id) and state.conversations.delete(conversation_id)):
            raise not_found(conversation_id, ttl)
        return Response(status_code=204)

    return api
