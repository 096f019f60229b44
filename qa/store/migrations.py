"""The schema's history: numbered migrations, the version the database is at, and `upgrade`.

Each migration is a function with its own frozen table definitions (later edits to `tables.py` must not
change what an old migration builds). `schema_version` holds one row, the number of the last migration
applied. `upgrade` runs in one transaction, holding the write lock (SQLite) or an advisory lock (PostgreSQL),
so replicas starting together apply each migration once; both engines roll DDL back with the transaction,
so a failed migration leaves the previous version intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, Connection, Float, Index, Integer, MetaData, String,
                        Table, Text, inspect, text)

from .database import Database, StoreError

# pg_advisory_xact_lock key: any constant shared by every replica (the bytes of "qa-db-up").
_LOCK_KEY = int.from_bytes(b"qa-db-up", "big") & 0x7FFF_FFFF_FFFF_FFFF


class SchemaTooNew(StoreError):
    """The database was migrated by a newer version of qa; this one might misread it."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _feedback(conn: Connection) -> None:
    metadata = MetaData()
    table = Table(
        "feedback", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("created_at", Text, nullable=False),
        Column("answer_id", Text),
        Column("vote", Text, CheckConstraint("vote IN ('up', 'down')"), nullable=False),
        Column("comment", Text),
        Column("consent", Boolean, nullable=False),
        Column("question", Text),
        Column("language", Text),
        Column("mode", Text),
        Column("generator", Text),
        Column("abstained", Boolean),
        Column("answer", Text, nullable=False),
        Column("citations", Text, nullable=False),
        CheckConstraint("question IS NULL OR consent", name="question_needs_consent"),
        sqlite_autoincrement=True,
    )
    Index("feedback_vote", table.c.vote, table.c.id)
    metadata.create_all(conn)  # checkfirst: a file whose tables were made before its version row was written


def _answers_and_conversations(conn: Connection) -> None:
    metadata = MetaData()
    for name, body in (("answers", "answer"), ("conversations", "turns")):
        table = Table(name, metadata,
                      Column("id", String(64), primary_key=True),
                      Column("created", Float, nullable=False),
                      Column("expires", Float, nullable=False),
                      Column(body, JSON, nullable=False))
        Index(f"{name}_expires", table.c.expires)
    metadata.create_all(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "feedback", _feedback),
    Migration(2, "answers that feedback refers to; conversations", _answers_and_conversations),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def _read_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar() or 0)


def _refuse_newer(db: Database, found: int) -> None:
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(f"the database {db.shown_url} has schema version {found}; this version of qa knows up "
                           f"to {SCHEMA_VERSION}: upgrade qa (or point QA_DATABASE_URL at another database)")


def version(db: Database) -> int:
    """The schema version of the database; 0 when it has none yet."""
    with db.reading() as conn:
        return _read_version(conn)


def upgrade(db: Database) -> tuple[int, int]:
    """Apply the migrations the database lacks; returns (version before, version after).

    Raises `SchemaTooNew` when the database is ahead of this code."""
    with db.writing() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        conn.execute(text("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
        before = _read_version(conn)
        _refuse_newer(db, before)
        for migration in MIGRATIONS:
            if migration.version > before:
                migration.apply(conn)
        if before == 0:
            conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": SCHEMA_VERSION})
        elif before < SCHEMA_VERSION:
            conn.execute(text("UPDATE schema_version SET version = :v"), {"v": SCHEMA_VERSION})
    return before, SCHEMA_VERSION


def ensure_current(db: Database) -> None:
    """Upgrade an older schema, refuse a newer one; a database already current only reads its version."""
    found = version(db)
    _refuse_newer(db, found)
    if found < SCHEMA_VERSION:
        upgrade(db)
