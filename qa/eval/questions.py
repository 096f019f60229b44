"""Question sets: parse and validate one (schema, languages, evidence quotes found verbatim in their cleaned
documents), every bad line reported with its number; which passages hold a question's evidence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..datatypes import Chunk
from ..fold import fold

KEYS = ("id", "lang", "question", "doc", "evidence", "answer", "key_facts", "unanswerable")
LANGS = ("nl", "fr")
RETRIEVAL_METRICS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10")


class QuestionSetError(Exception):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    doc: str | None
    evidence: list[str]
    answer: str | None
    key_facts: list[str]
    unanswerable: bool
    style: str | None = None  # optional: "colloquial" (avoids the words of the text that answers) or "plain"
    kind: str | None = None  # optional: the kind of answer asked (amount, count, date, duration, yesno, ...)

    @property
    def groups(self) -> list[str]:
        """The report groups the question counts in besides its language ("colloquial", "colloquial/fr",
        "kind:count"), from its optional fields."""
        out = [self.style, f"{self.style}/{self.lang}"] if self.style else []
        return out + ([f"kind:{self.kind}"] if self.kind else [])


def check_line(obj) -> str | None:
    """Why a parsed line breaks the schema, or None."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    missing = [k for k in KEYS if k not in obj]
    if missing:
        return f"missing keys {missing}"
    if not isinstance(obj["id"], str) or not obj["id"]:
        return "id must be a non-empty string"
    if obj["lang"] not in LANGS:
        return f"lang must be one of {LANGS}"
    if not isinstance(obj["question"], str) or not obj["question"].strip():
        return "question must be a non-empty string"
    if not isinstance(obj["unanswerable"], bool):
        return "unanswerable must be true or false"
    for key in ("evidence", "key_facts"):
        if not isinstance(obj[key], list) or not all(isinstance(x, str) and x.strip() for x in obj[key]):
            return f"{key} must be a list of non-empty strings"
    if obj["unanswerable"] and (obj["doc"] is not None or obj["evidence"]):
        return "an unanswerable question has doc null and no evidence"
    if not obj["unanswerable"] and (not isinstance(obj["doc"], str) or not obj["evidence"]):
        return "an answerable question needs doc and at least one evidence quote"
    return None


def load_questions(path: Path, corpus_texts: dict[str, str] | None = None) -> list[Question]:
    """Parse and validate a question set; every bad line is reported with its number, none is skipped.

    With `corpus_texts` (doc -> text), each evidence quote must occur in its document (folded)."""
    problems: list[str] = []
    questions: list[Question] = []
    seen: set[str] = set()
    folded = {doc: fold(text) for doc, text in corpus_texts.items()} if corpus_texts is not None else None
    for number, obj in json_lines(path, problems):
        why = question_problem(obj, seen, folded)
        if why:
            problems.append(f"{path}:{number}: {why}")
            continue
        seen.add(obj["id"])
        questions.append(Question(**{k: obj[k] for k in KEYS}, style=obj.get("style"), kind=obj.get("kind")))
    if problems:
        raise QuestionSetError(f"{len(problems)} invalid line(s) in {path}:\n" + "\n".join(problems))
    if not questions:
        raise QuestionSetError(f"{path} holds no questions")
    return questions


def json_lines(path: Path, problems: list[str]) -> Iterator[tuple[int, object]]:
    """(line number, parsed object) of each non-empty line; a line that is not JSON goes to `problems`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON ({exc.msg})")


def question_problem(obj: object, seen: set[str], folded: dict[str, str] | None) -> str | None:
    """What is wrong with one question of a set: its schema, an id already used, or (with the folded corpus
    texts) an evidence quote its document does not hold; None when nothing is."""
    why = check_line(obj)
    if why is None and obj["id"] in seen:
        why = f"duplicate id {obj['id']!r}"
    if why is None and folded is not None and not obj["unanswerable"]:
        why = check_evidence(obj, folded)
    return why


def check_evidence(obj: dict, folded: dict[str, str]) -> str | None:
    if obj["doc"] not in folded:
        return f"doc {obj['doc']!r} is not in the corpus"
    for quote in obj["evidence"]:
        if fold(quote) not in folded[obj["doc"]]:
            return f"evidence not found verbatim in {obj['doc']}: {quote[:60]!r}"
    return None


def holds_folded(doc: str, folded_text: str, question: Question) -> bool:
    if question.unanswerable or doc != question.doc:
        return False
    for quote in question.evidence:
        words = fold(quote).split()
        half = max(4, len(words) // 2)
        if " ".join(words) in folded_text or " ".join(words[:half]) in folded_text \
                or " ".join(words[-half:]) in folded_text:
            return True
    return False


def holds_evidence(chunk_doc: str, chunk_text: str, question: Question) -> bool:
    """A cited passage holds evidence when it is from the question's document and has an evidence quote, or
    the first or second half of one (a quote may straddle two overlapping chunks)."""
    if question.unanswerable or chunk_doc != question.doc:
        return False
    return holds_folded(chunk_doc, fold(chunk_text), question)


def is_evidence(chunk: Chunk, question: Question) -> bool:
    """The DESIGN rule, tolerant of chunk boundaries: the passage comes from the question's document and
    holds one of its evidence quotes, or the first or the second half of one (a quote cut by a chunk
    boundary is found in two overlapping passages, each holding a half)."""
    return holds_evidence(chunk.doc, chunk.text, question)


def relevant_chunks(chunks: list[Chunk], question: Question) -> set[str]:
    return {c.chunk_id for c in chunks if is_evidence(c, question)}



def index_texts(index) -> dict[str, str]:
    """doc -> the cleaned text the index was built from (what the chunks, and so the evidence, come from)."""
    out = {}
    for doc in index.documents:
        found = index.document_text(doc)
        if found is not None:
            out[doc] = found[0]
    return out


def corpus_texts(folder: Path) -> dict[str, str]:
    """doc -> cleaned text of every document in a corpus folder, cleaned exactly as `qa ingest` cleans it."""
    from ..ingest import load_folder

    return {d.doc: d.text for d in load_folder(folder).documents}
