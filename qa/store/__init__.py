"""Everything the service stores, in one database: feedback, the answers feedback refers to, conversations.

`QA_DATABASE_URL` chooses the engine: an SQLite file by default (`<QA_DATA_DIR>/feedback.sqlite3`, no server,
as a single machine needs), or `postgresql://USER:PASSWORD@HOST:5432/DATABASE` for a PostgreSQL server that
several replicas share (SQLAlchemy 2 Core, psycopg 3). `open_store(settings)` gives a `Store`:

- `store.feedback`: `add(vote=, answer=, consent=, question=, comment=, answer_id=) -> id`, `list(vote=, limit=,
  offset=)`, `count(vote=)`, `export_negative(out)` (qa/store/feedback.py);
- `store.answers`: `add(answer_id, answer_json, ttl_s)`, `get(answer_id) -> dict | None`, `purge_expired()`:
  what feedback keeps of each answer given, so feedback sent to any replica can name it by `answer_id`;
- `store.conversations`: the `qa.conversation_store.ConversationStore` interface (`create() -> id`,
  `append(id, turn)`, `get(id) -> turns | None`, `delete(id) -> bool`, `purge_expired() -> int`) over the
  table `conversations (id, created, expires, turns)`: Unix-second times, turns a JSON list; each append
  extends the expiry by `QA_CONVERSATION_TTL_S`, an expired conversation reads as unknown
  (qa/store/conversations.py).

Schema changes are numbered migrations (qa/store/migrations.py) recorded in a one-row `schema_version`
table, not Alembic: the SQLite files already in use carry that table (version 1, feedback only), so they
upgrade in place; three tables need no autogeneration, no script folder and no second version table; and
each migration runs in one transaction under a lock, which both engines make all-or-nothing. The first use
of a store (and `qa serve` at start-up) upgrades an older schema and refuses a newer one (`SchemaTooNew`:
that database was migrated by a newer qa); `qa db upgrade` applies the migrations on its own, e.g. before
replicas of a new version start.
"""

from __future__ import annotations

import threading

from .answers import Answers
from .conversations import Conversations
from .database import Database, StoreError, StoreUnavailable, default_url, settings_url
from .feedback import Feedback, FeedbackError, FeedbackRecord
from .migrations import SCHEMA_VERSION, SchemaTooNew, ensure_current, upgrade, version

__all__ = ["FeedbackError", "FeedbackRecord", "SCHEMA_VERSION", "SchemaTooNew", "Store",
           "StoreError", "StoreUnavailable", "default_url", "open_store"]


class Store:
    """One database and its tables. Nothing connects until the first use, which brings the schema up to date
    once per store (a newer schema raises `SchemaTooNew` on every use, until qa is upgraded)."""

    def __init__(self, url: str, conversation_ttl_s: float = 3600.0):
        self.db = Database(url)
        self._ready = False
        self._ready_lock = threading.Lock()
        self.feedback = Feedback(self.db, self.ready)
        self.answers = Answers(self.db, self.ready)
        self.conversations = Conversations(self.db, self.ready, conversation_ttl_s)

    @property
    def url(self) -> str:
        """The URL with its password hidden, for messages and logs."""
        return self.db.shown_url

    def ready(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if not self._ready:
                ensure_current(self.db)
                self._ready = True

    def upgrade(self) -> tuple[int, int]:
        """Apply missing migrations; (version before, version after)."""
        result = upgrade(self.db)
        self._ready = True
        return result

    def version(self) -> int:
        return version(self.db)

    def close(self) -> None:
        self.db.dispose()


def open_store(settings) -> Store:
    """The store `QA_DATABASE_URL` names (default: the SQLite file under `QA_DATA_DIR`)."""
    return Store(settings_url(settings), conversation_ttl_s=settings.conversation_ttl_s)


def open_conversations(settings, store: Store | None = None):
    """The service's conversation store (a `qa.conversation_store.ConversationStore`): the shared database's
    (QA_DATABASE_URL; SQLite under QA_DATA_DIR by default), which replicas behind one proxy share: a member's
    next question may reach another."""
    return (store if store is not None else open_store(settings)).conversations
