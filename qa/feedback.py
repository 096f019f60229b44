"""The feedback store: votes and comments on answers, in SQLite at `<data_dir>/feedback.sqlite3`.

Privacy: the member's question is stored only when they consented (`consent=True`); otherwise only the
answer, its citations, the vote and the comment are kept. Negative feedback with a consented question can be
exported as question-set lines (the DESIGN.md schema) for evaluators to complete with gold evidence.

Safe under concurrent writers: WAL journal, one short-lived connection per call, a generous busy timeout.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterator

SCHEMA_VERSION = 1
FILE_NAME = "feedback.sqlite3"
VOTES = ("up", "down")
MAX_COMMENT_CHARS = 4000
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT NOT NULL,
    answer_id   TEXT,
    vote        TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    comment     TEXT,
    consent     INTEGER NOT NULL CHECK (consent IN (0, 1)),
    question    TEXT CHECK (question IS NULL OR consent = 1),
    language    TEXT,
    mode        TEXT,
    generator   TEXT,
    abstained   INTEGER,
    answer      TEXT NOT NULL,
    citations   TEXT NOT NULL  -- JSON list of {"n", "doc", "chunk_id"}
);
CREATE INDEX IF NOT EXISTS feedback_vote ON feedback (vote, id);
"""


class FeedbackError(ValueError):
    """Feedback that cannot be stored as given (bad vote, missing answer), or an unusable database."""


@dataclass
class FeedbackRecord:
    id: int
    created_at: str
    answer_id: str | None
    vote: str
    comment: str | None
    consent: bool
    question: str | None
    language: str | None
    mode: str | None
    generator: str | None
    abstained: bool | None
    answer: str
    citations: list[dict]

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._init_lock = threading.Lock()
        self._ready = False

    @classmethod
    def from_settings(cls, settings) -> "FeedbackStore":
        return cls(Path(settings.data_dir) / FILE_NAME)

    # ------------------------------------------------------------ connection

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self._ensure_schema()
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            yield db
        finally:
            db.close()

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._init_lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                _use_wal(db)
                db.executescript(_SCHEMA)  # idempotent (IF NOT EXISTS)
                db.execute("BEGIN IMMEDIATE")  # one writer decides the version row
                row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
                if row[0] is None:
                    db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                elif row[0] > SCHEMA_VERSION:
                    db.execute("ROLLBACK")
                    raise FeedbackError(f"{self.path} has feedback schema version {row[0]}; this version of qa "
                                        f"reads up to {SCHEMA_VERSION}: upgrade qa")
                if db.in_transaction:
                    db.execute("COMMIT")
            finally:
                db.close()
            self._ready = True

    # ------------------------------------------------------------ writing

    def add(self, *, vote: str, answer: dict, consent: bool, question: str | None = None,
            comment: str | None = None, answer_id: str | None = None) -> int:
        """Store one piece of feedback; returns its id. `question` is dropped unless `consent` is true.

        `answer` is the answer JSON (`Answer.to_json()`); only its text, language, mode, generator, abstention
        and the citations' numbers, documents and chunk ids are kept.
        """
        if vote not in VOTES:
            raise FeedbackError("vote must be 'up' or 'down'")
        if not isinstance(answer, dict) or not isinstance(answer.get("answer"), str):
            raise FeedbackError("the answer JSON needs an 'answer' text")
        if comment is not None:
            comment = comment.strip()[:MAX_COMMENT_CHARS] or None
        stored_question = question.strip() if consent and isinstance(question, str) and question.strip() else None
        citations = [{"n": c.get("n"), "doc": c.get("doc"), "chunk_id": c.get("chunk_id")}
                     for c in answer.get("citations") or [] if isinstance(c, dict)]
        abstained = answer.get("abstained")
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (created_at, answer_id, vote, comment, consent, question, language, mode, "
                "generator, abstained, answer, citations) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (_now(), answer_id, vote, comment, int(bool(consent)), stored_question,
                 _opt_str(answer.get("language")), _opt_str(answer.get("mode")), _opt_str(answer.get("generator")),
                 None if abstained is None else int(bool(abstained)), answer["answer"],
                 json.dumps(citations, ensure_ascii=False)))
            return int(cur.lastrowid)

    # ------------------------------------------------------------ reading

    def list(self, *, vote: str | None = None, limit: int = 100, offset: int = 0) -> list[FeedbackRecord]:
        if vote is not None and vote not in VOTES:
            raise FeedbackError("vote must be 'up' or 'down'")
        where, args = ("WHERE vote = ?", [vote]) if vote else ("", [])
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM feedback {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                              (*args, limit, offset)).fetchall()
        return [_record(r) for r in rows]

    def count(self, vote: str | None = None) -> int:
        with self._connect() as db:
            if vote:
                return db.execute("SELECT COUNT(*) FROM feedback WHERE vote = ?", (vote,)).fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]

    def schema_version(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]

    # ------------------------------------------------------------ export

    def export_negative(self, out: str | Path | IO[str]) -> int:
        """Write negative feedback that has a consented question as question-set JSON lines; returns the count.

        Each line follows the DESIGN.md schema with the gold fields left for an evaluator to fill in:
        `{"id": "fb-<n>", "lang", "question", "doc": null, "evidence": [], "answer": null, "key_facts": [],
        "unanswerable": false}`. Feedback without a consented question cannot become a question and is left out.
        """
        with self._connect() as db:
            rows = db.execute("SELECT id, language, question FROM feedback WHERE vote = 'down' AND consent = 1 "
                              "AND question IS NOT NULL ORDER BY id").fetchall()
        lines = [json.dumps({"id": f"fb-{row_id}", "lang": _question_language(language, question),
                             "question": question, "doc": None, "evidence": [], "answer": None,
                             "key_facts": [], "unanswerable": False}, ensure_ascii=False)
                 for row_id, language, question in rows]
        text = "".join(line + "\n" for line in lines)
        if isinstance(out, (str, Path)):
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(text, encoding="utf-8")
        else:
            out.write(text)
        return len(lines)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _question_language(answer_language: str | None, question: str) -> str:
    """The answer is in the question's language; detect only when the answer's language is not nl/fr."""
    if answer_language in ("nl", "fr"):
        return answer_language
    from .language import detect_question_language

    detected = detect_question_language(question)
    return detected if detected in ("nl", "fr") else "nl"


def _record(row: tuple) -> FeedbackRecord:
    (id_, created_at, answer_id, vote, comment, consent, question, language, mode, generator, abstained,
     answer, citations) = row
    return FeedbackRecord(id=id_, created_at=created_at, answer_id=answer_id, vote=vote, comment=comment,
                          consent=bool(consent), question=question, language=language, mode=mode,
                          generator=generator, abstained=None if abstained is None else bool(abstained),
                          answer=answer, citations=json.loads(citations))
