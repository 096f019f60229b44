"""Question sets: loading with validation, and deterministic retrieval scores (ranx)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .datatypes import Chunk
from .fold import fold

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


def _check_line(obj) -> str | None:
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
    folded = {doc: fold(text) for doc, text in (corpus_texts or {}).items()}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON ({exc.msg})")
            continue
        why = _check_line(obj)
        if why is None and obj["id"] in seen:
            why = f"duplicate id {obj['id']!r}"
        if why is None and corpus_texts is not None and not obj["unanswerable"]:
            why = _check_evidence(obj, folded)
        if why:
            problems.append(f"{path}:{number}: {why}")
            continue
        seen.add(obj["id"])
        questions.append(Question(**{k: obj[k] for k in KEYS}))
    if problems:
        raise QuestionSetError(f"{len(problems)} invalid line(s) in {path}:\n" + "\n".join(problems))
    if not questions:
        raise QuestionSetError(f"{path} holds no questions")
    return questions


def _check_evidence(obj: dict, folded: dict[str, str]) -> str | None:
    if obj["doc"] not in folded:
        return f"doc {obj['doc']!r} is not in the corpus"
    for quote in obj["evidence"]:
        if fold(quote) not in folded[obj["doc"]]:
            return f"evidence not found verbatim in {obj['doc']}: {quote[:60]!r}"
    return None


def is_evidence(chunk: Chunk, question: Question) -> bool:
    """The DESIGN rule: the passage comes from the question's document and holds one of its evidence quotes."""
    if question.unanswerable or chunk.doc != question.doc:
        return False
    text = fold(chunk.text)
    return any(fold(q) in text for q in question.evidence)


def relevant_chunks(chunks: list[Chunk], question: Question) -> set[str]:
    return {c.chunk_id for c in chunks if is_evidence(c, question)}


def evaluate_retrieval(questions: list[Question], retriever, k: int = 10) -> dict:
    """recall@k (share of questions with an evidence passage in the top k), MRR, nDCG@10, per language."""
    from ranx import Qrels, Run, evaluate

    runs, qrels, unreachable = {}, {}, []
    for q in (q for q in questions if not q.unanswerable):
        relevant = relevant_chunks(retriever.index.chunks, q)
        if not relevant:
            unreachable.append(q.id)  # every evidence quote straddles a chunk boundary: counted as a miss
        hits = retriever.search(q.question, k, q.lang)
        runs[q.id] = {h.chunk.chunk_id: float(k - i) for i, h in enumerate(hits)} or {"-": 0.0}
        qrels[q.id] = {cid: 1 for cid in relevant} or {"<unreachable>": 1}
    out = {}
    for lang in (*LANGS, "all"):
        ids = [q.id for q in questions if q.id in runs and (lang == "all" or q.lang == lang)]
        if not ids:
            continue
        scores = evaluate(Qrels({i: qrels[i] for i in ids}), Run({i: runs[i] for i in ids}),
                          ["hit_rate@1", "hit_rate@3", "hit_rate@5", "hit_rate@10", "mrr", "ndcg@10"],
                          make_comparable=True)
        out[lang] = {name: round(float(scores[m]), 4) for name, m in
                     zip(RETRIEVAL_METRICS, ["hit_rate@1", "hit_rate@3", "hit_rate@5", "hit_rate@10", "mrr", "ndcg@10"])}
        out[lang]["questions"] = len(ids)
    out["unreachable"] = unreachable
    return out


def format_table(retrieval: dict) -> str:
    rows = [f"{'':5}" + "".join(f"{m:>11}" for m in RETRIEVAL_METRICS) + f"{'n':>6}"]
    for lang in (*LANGS, "all"):
        if lang in retrieval:
            r = retrieval[lang]
            rows.append(f"{lang:5}" + "".join(f"{r[m]:>11.3f}" for m in RETRIEVAL_METRICS) + f"{r['questions']:>6}")
    if retrieval.get("unreachable"):
        rows.append(f"evidence split across chunks (counted as misses): {', '.join(retrieval['unreachable'])}")
    return "\n".join(rows)
