"""What the stores of expiring rows share: each table with an `expires` column (Unix seconds) is purged of
expired rows by a write at most once a minute, and by `purge_expired`, which an operator's job may also call."""

from __future__ import annotations

import threading
import time
from typing import Callable

from sqlalchemy import Table, delete

from .database import Database

PURGE_EVERY_S = 60.0


class Expiring:
    table: Table  # set by each store

    def __init__(self, db: Database, ready: Callable[[], None]):
        self.db = db
        self._ready = ready
        self._purged_at = 0.0
        self._purge_lock = threading.Lock()

    def purge_expired(self) -> int:
        """Delete the expired rows; returns how many."""
        self._ready()
        with self.db.writing() as conn:
            return conn.execute(delete(self.table).where(self.table.c.expires <= time.time())).rowcount

    def _purge_now_and_then(self, now: float) -> None:
        with self._purge_lock:
            if now - self._purged_at < PURGE_EVERY_S:
                return
            self._purged_at = now
        self.purge_expired()
