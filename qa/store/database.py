"""One database connection for everything stored: the engine for `QA_DATABASE_URL`, and its transactions.

SQLite (the embedded default) and PostgreSQL behave the same to callers:
- `reading()` is a plain transaction; `writing()` is one that takes the write lock at its start (SQLite's
  `BEGIN IMMEDIATE`), so a transaction that reads and then writes waits for other writers in the busy handler
  instead of failing with "database is locked" when it upgrades its lock. PostgreSQL callers that read and
  then write lock the rows they read (`SELECT ... FOR UPDATE`).
- Errors that mean the database cannot be reached (server down, file unreadable) become `StoreUnavailable`,
  which the API answers with 503.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

# The file name predates the other tables: kept so that an existing single-machine install keeps its feedback.
SQLITE_FILE_NAME = "feedback.sqlite3"
BUSY_TIMEOUT_S = 30.0


class StoreError(Exception):
    """The database cannot be used as configured."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached or the file cannot be opened (a 503, not the caller's fault)."""


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / SQLITE_FILE_NAME}"


def settings_url(settings) -> str:
    """`QA_DATABASE_URL`, or the SQLite file under `QA_DATA_DIR` when it is not set."""
    return settings.database_url or default_url(settings.data_dir)


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy's ArgumentError, or a ValueError from a bad port
        raise StoreError(f"QA_DATABASE_URL is not a database URL ({exc})") from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3; SQLAlchemy's default is psycopg2
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"QA_DATABASE_URL: {parsed.get_backend_name()!r} is not supported; use sqlite:///FILE "
                         "or postgresql://USER:PASSWORD@HOST/DATABASE")
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise StoreError("QA_DATABASE_URL: an SQLite database must be a file (sqlite:///path/to/file)")
    return parsed


class Database:
    """The engine for one URL. Nothing connects until the first transaction."""

    def __init__(self, url: str):
        self.url = _parse(url)
        self.dialect = self.url.get_backend_name()
        self.shown_url = self.url.render_as_string(hide_password=True)
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(self.url)
        else:
            # pre_ping: a connection dropped by a database restart is replaced instead of failing one request.
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                        pool_timeout=BUSY_TIMEOUT_S, connect_args={"connect_timeout": 10})

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database) if self.dialect == "sqlite" else None

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        with self._transaction(write=False) as conn:
            yield conn

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        with self._transaction(write=True) as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(qa_write=write)
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            if _unreachable(exc):
                raise StoreUnavailable(f"the database {self.shown_url} is unavailable: {_first_line(exc)}") from exc
            raise

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_engine(url: URL) -> Engine:
    # isolation_level=None hands transactions to SQLAlchemy's "begin" event below (pysqlite's own handling
    # does not begin a transaction before DDL and cannot take the write lock up front).
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "isolation_level": None,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _use_wal(dbapi_connection)

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("qa_write") else "BEGIN")

    return engine


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL, once. Processes opening a new file at the same moment can get "database is
    locked" from this switch without SQLite's busy handler ever waiting (9 of 320 workers in a stress run of
    8 processes x 40 new files), so it is retried here until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _unreachable(exc: DBAPIError) -> bool:
    """A connection that failed, as opposed to a statement the database rejected."""
    if exc.connection_invalidated:
        return True
    text = str(exc.orig).lower()
    return any(sign in text for sign in ("connection", "connect to server", "could not translate host",
                                         "unable to open database", "server closed", "timeout expired",
                                         "database is locked", "disk i/o error", "readonly database"))


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
