"""The feedback store as callers have used it: `FeedbackStore(path_or_store)`, a face over `qa.store`.

The tables, queries and migrations live in `qa.store` (SQLite by default, PostgreSQL by `QA_DATABASE_URL`);
this keeps the older calls working: a path means an SQLite file, and a database this version cannot use
raises `FeedbackError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from .store import SCHEMA_VERSION, Store, StoreError, StoreUnavailable, open_store
from .store.database import SQLITE_FILE_NAME
from .store.feedback import MAX_COMMENT_CHARS, VOTES, FeedbackError, FeedbackRecord

FILE_NAME = SQLITE_FILE_NAME

__all__ = ["FILE_NAME", "MAX_COMMENT_CHARS", "SCHEMA_VERSION", "VOTES", "FeedbackError", "FeedbackRecord",
           "FeedbackStore"]


class FeedbackStore:
    def __init__(self, where: str | Path | Store):
        if isinstance(where, Store):
            self.store = where
        elif isinstance(where, Path) or "://" not in where:  # a path: an SQLite file
            self.store = Store(f"sqlite:///{Path(where)}")
        else:
            self.store = Store(where)

    @classmethod
    def from_settings(cls, settings) -> "FeedbackStore":
        return cls(open_store(settings))

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on a database server."""
        return self.store.db.sqlite_path

    def _ready(self) -> None:
        try:
            self.store.ready()
        except StoreUnavailable:
            raise
        except StoreError as exc:  # a newer schema or an unusable URL: callers have always caught FeedbackError
            raise FeedbackError(str(exc)) from exc

    def add(self, **fields) -> int:
        self._ready()
        return self.store.feedback.add(**fields)

    def list(self, *, vote: str | None = None, limit: int = 100, offset: int = 0) -> list[FeedbackRecord]:
        self._ready()
        return self.store.feedback.list(vote=vote, limit=limit, offset=offset)

    def count(self, vote: str | None = None) -> int:
        self._ready()
        return self.store.feedback.count(vote)

    def schema_version(self) -> int:
        self._ready()
        return self.store.version()

    def export_confirmed(self, out: str | Path | IO[str]) -> int:
        """Positive feedback with a consented question as lines for the question memory (`qa memory add`)."""
        self._ready()
        return self.store.feedback.export_confirmed(out)

    def export_negative(self, out: str | Path | IO[str]) -> int:
        self._ready()
        return self.store.feedback.export_negative(out)
