"""Conversations in the database: the `qa.conversation_store.ConversationStore` interface, shared by replicas.

Table `conversations (id, created, expires, turns)`: Unix-second times, `turns` a JSON list of objects the
store does not interpret beyond stamping `created_at` (the routes decide their shape). Each append moves the
expiry to `ttl_s` after it, so a conversation lives as long as it is used; an expired one reads as unknown.
Turns hold members' questions (personal data): every conversation expires, and expired ones are deleted by
the next `create` at most once a minute (`purge_expired`).

Appends to one conversation from two replicas at once are serialised (the row is locked while it is read and
rewritten: `FOR UPDATE` on PostgreSQL, the write lock on SQLite), so no turn is lost.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from sqlalchemy import delete, select, update

from ..conversation_store import ConversationNotFound, new_conversation_id
from .database import Database
from .expiring import Expiring
from .tables import conversations


class Conversations(Expiring):
    table = conversations

    def __init__(self, db: Database, ready: Callable[[], None], ttl_s: float):
        super().__init__(db, ready)
        self.ttl_s = ttl_s

    def create(self) -> str:
        """A new, empty conversation's id."""
        conversation_id, now = new_conversation_id(), time.time()
        self._ready()
        with self.db.writing() as conn:
            conn.execute(conversations.insert().values(id=conversation_id, created=now, expires=now + self.ttl_s,
                                                       turns=[]))
        self._purge_now_and_then(now)
        return conversation_id

    def append(self, conversation_id: str, turn: dict[str, Any]) -> None:
        """Add a turn and restart the time to live; `ConversationNotFound` when it is unknown or expired."""
        now = time.time()
        self._ready()
        with self.db.writing() as conn:
            turns = conn.execute(select(conversations.c.turns)
                                 .where(conversations.c.id == conversation_id, conversations.c.expires > now)
                                 .with_for_update()).scalar()
            if turns is None:
                raise ConversationNotFound(conversation_id)
            turns = list(turns) + [dict(turn, created_at=turn.get("created_at") or now)]
            conn.execute(update(conversations).where(conversations.c.id == conversation_id)
                         .values(turns=turns, expires=now + self.ttl_s))

    def get(self, conversation_id: str) -> list[dict[str, Any]] | None:
        """The turns, oldest first, or None when the conversation is unknown or expired."""
        self._ready()
        with self.db.reading() as conn:
            turns = conn.execute(select(conversations.c.turns).where(conversations.c.id == conversation_id,
                                                                     conversations.c.expires > time.time())).scalar()
        return None if turns is None else [dict(t) for t in turns]

    def delete(self, conversation_id: str) -> bool:
        """Forget a conversation at once; False when there was none."""
        self._ready()
        with self.db.writing() as conn:
            return conn.execute(delete(conversations).where(conversations.c.id == conversation_id)).rowcount > 0
