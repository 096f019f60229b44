"""Where conversations are kept between turns: one small interface, so the HTTP routes do not care which store.

A conversation is an id and its turns, each `{"question", "answer": <the answer JSON>, "language",
"created_at"}`. It expires `ttl_s` seconds after its last turn (QA_CONVERSATION_TTL_S): an expired one reads
as unknown and is deleted by `purge_expired`. The turns hold members' questions (personal data): stores keep
them only as long as the conversation lives, and nothing here logs them.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable


class ConversationNotFound(LookupError):
    """The id is unknown, was deleted, or expired."""


def new_conversation_id() -> str:
    """Unguessable (128 bits): the id is the only key to a member's questions."""
    return secrets.token_hex(16)


@runtime_checkable
class ConversationStore(Protocol):
    def create(self) -> str:
        """A new, empty conversation's id."""

    def append(self, conversation_id: str, turn: dict[str, Any]) -> None:
        """Add a turn and restart the conversation's time to live; ConversationNotFound if it is gone."""

    def get(self, conversation_id: str) -> list[dict[str, Any]] | None:
        """The turns, oldest first, or None when the conversation is unknown or expired."""

    def delete(self, conversation_id: str) -> bool:
        """Remove the conversation and its turns; False when there was none."""

    def purge_expired(self) -> int:
        """Delete expired conversations; how many were deleted."""


@dataclass
class _Conversation:
    turns: list[dict[str, Any]] = field(default_factory=list)
    touched: float = 0.0


class MemoryConversations:
    """Process memory: for `qa chat` and tests; lost on restart."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: dict[str, _Conversation] = {}
        self._lock = threading.Lock()

    def _live(self, conversation_id: str) -> _Conversation | None:
        item = self._items.get(conversation_id)
        if item is not None and self._clock() - item.touched > self.ttl_s:
            del self._items[conversation_id]
            return None
        return item

    def create(self) -> str:
        conversation_id = new_conversation_id()
        with self._lock:
            self._items[conversation_id] = _Conversation(touched=self._clock())
        return conversation_id

    def append(self, conversation_id: str, turn: dict[str, Any]) -> None:
        with self._lock:
            item = self._live(conversation_id)
            if item is None:
                raise ConversationNotFound(conversation_id)
            item.turns.append(dict(turn, created_at=turn.get("created_at") or time.time()))
            item.touched = self._clock()

    def get(self, conversation_id: str) -> list[dict[str, Any]] | None:
        with self._lock:
            item = self._live(conversation_id)
            return [dict(t) for t in item.turns] if item is not None else None

    def delete(self, conversation_id: str) -> bool:
        with self._lock:
            return self._items.pop(conversation_id, None) is not None

    def purge_expired(self) -> int:
        with self._lock:
            now = self._clock()
            gone = [cid for cid, item in self._items.items() if now - item.touched > self.ttl_s]
            for cid in gone:
                del self._items[cid]
            return len(gone)
