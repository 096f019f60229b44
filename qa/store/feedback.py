"""Feedback: votes and comments on answers.

Privacy: the member's question is stored only when they consented (`consent=True`); otherwise only the
answer, its citations, the vote and the comment are kept. Negative feedback with a consented question can be
exported as question-set lines (the DESIGN.md schema) for evaluators to complete with gold evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable

from sqlalchemy import func, select

from .database import Database
from .tables import feedback

VOTES = ("up", "down")
MAX_COMMENT_CHARS = 4000


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


class Feedback:
    """The feedback table; `ready` is called before each use (it makes or checks the schema once)."""

    def __init__(self, db: Database, ready: Callable[[], None]):
        self.db = db
        self._ready = ready

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
        abstained = answer.get("abstained")
        row = dict(created_at=_now(), answer_id=answer_id, vote=vote, comment=comment, consent=bool(consent),
                   question=stored_question, language=_opt_str(answer.get("language")),
                   mode=_opt_str(answer.get("mode")), generator=_opt_str(answer.get("generator")),
                   abstained=None if abstained is None else bool(abstained), answer=answer["answer"],
                   citations=json.dumps(cited(answer), ensure_ascii=False))
        self._ready()
        with self.db.writing() as conn:
            return int(conn.execute(feedback.insert().values(**row)).inserted_primary_key[0])

    # ------------------------------------------------------------ reading

    def list(self, *, vote: str | None = None, limit: int = 100, offset: int = 0) -> list[FeedbackRecord]:
        if vote is not None and vote not in VOTES:
            raise FeedbackError("vote must be 'up' or 'down'")
        query = select(feedback).order_by(feedback.c.id.desc()).limit(limit).offset(offset)
        if vote:
            query = query.where(feedback.c.vote == vote)
        self._ready()
        with self.db.reading() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def count(self, vote: str | None = None) -> int:
        query = select(func.count()).select_from(feedback)
        if vote:
            query = query.where(feedback.c.vote == vote)
        self._ready()
        with self.db.reading() as conn:
            return int(conn.execute(query).scalar_one())

    # ------------------------------------------------------------ export

    def export_confirmed(self, out: str | Path | IO[str]) -> int:
        """Write positive feedback that has a consented question as JSON lines for the question memory
        (`qa memory add`): the question, and the document and chunk id of the first passage it cites, which
        the memory ties to that passage's text. Returns the count."""
        query = (select(feedback.c.id, feedback.c.language, feedback.c.question, feedback.c.citations)
                 .where(feedback.c.vote == "up", feedback.c.consent.is_(True), feedback.c.question.is_not(None))
                 .order_by(feedback.c.id))
        self._ready()
        with self.db.reading() as conn:
            rows = conn.execute(query).all()
        lines = []
        for row_id, language, question, citations in rows:
            first = next((c for c in json.loads(citations) if c.get("doc") and c.get("chunk_id")), None)
            if first is None:  # a confirmed abstention: no passage to remember
                continue
            lines.append(json.dumps({"id": f"fb-{row_id}", "lang": _question_language(language, question),
                                     "question": question, "doc": first["doc"], "chunk_id": first["chunk_id"],
                                     "evidence": [], "unanswerable": False}, ensure_ascii=False))
        _write_lines(out, lines)
        return len(lines)

    def export_negative(self, out: str | Path | IO[str]) -> int:
        """Write negative feedback that has a consented question as question-set JSON lines; returns the count.

        Each line follows the DESIGN.md schema with the gold fields left for an evaluator to fill in:
        `{"id": "fb-<n>", "lang", "question", "doc": null, "evidence": [], "answer": null, "key_facts": [],
        "unanswerable": false}`. Feedback without a consented question cannot become a question and is left out.
        """
        query = (select(feedback.c.id, feedback.c.language, feedback.c.question)
                 .where(feedback.c.vote == "down", feedback.c.consent.is_(True), feedback.c.question.is_not(None))
                 .order_by(feedback.c.id))
        self._ready()
        with self.db.reading() as conn:
            rows = conn.execute(query).all()
        lines = [json.dumps({"id": f"fb-{row_id}", "lang": _question_language(language, question),
                             "question": question, "doc": None, "evidence": [], "answer": None,
                             "key_facts": [], "unanswerable": False}, ensure_ascii=False)
                 for row_id, language, question in rows]
        _write_lines(out, lines)
        return len(lines)


def cited(answer: dict) -> list[dict]:
    """The citations' numbers, documents and chunk ids: all feedback keeps of them (not the passage texts)."""
    return [{"n": c.get("n"), "doc": c.get("doc"), "chunk_id": c.get("chunk_id")}
            for c in answer.get("citations") or [] if isinstance(c, dict)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _question_language(answer_language: str | None, question: str) -> str:
    """The answer is in the question's language; detect only when the answer's language is not nl/fr."""
    if answer_language in ("nl", "fr"):
        return answer_language
    from ..language import detect_question_language

    detected = detect_question_language(question)
    return detected if detected in ("nl", "fr") else "nl"


def _record(row) -> FeedbackRecord:
    return FeedbackRecord(id=row["id"], created_at=row["created_at"], answer_id=row["answer_id"], vote=row["vote"],
                          comment=row["comment"], consent=bool(row["consent"]), question=row["question"],
                          language=row["language"], mode=row["mode"], generator=row["generator"],
                          abstained=None if row["abstained"] is None else bool(row["abstained"]),
                          answer=row["answer"], citations=json.loads(row["citations"]))


def _write_lines(out: str | Path | IO[str], lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    if isinstance(out, (str, Path)):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    else:
        out.write(text)
