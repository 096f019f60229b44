"""The tables as the current schema has them (what `migrations.py` builds), for the queries of the store.

Times of answers and conversations are Unix seconds (floats): compared and purged the same way on SQLite and
PostgreSQL. Feedback keeps its ISO text timestamp, as it has since its first schema.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Text, nullable=False),
    Column("answer_id", Text),
    Column("vote", Text, nullable=False),
    Column("comment", Text),
    Column("consent", Boolean, nullable=False),
    Column("question", Text),
    Column("language", Text),
    Column("mode", Text),
    Column("generator", Text),
    Column("abstained", Boolean),
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),  # JSON list of {"n", "doc", "chunk_id"}
)

answers = Table(
    "answers", metadata,
    Column("id", String(64), primary_key=True),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Column("answer", JSON, nullable=False),
)

conversations = Table(
    "conversations", metadata,
    Column("id", String(64), primary_key=True),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Column("turns", JSON, nullable=False),
)
