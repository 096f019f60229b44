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
    """The DESIGN rule, tolerant of chunk boundaries: the passage comes from the question's document and
    holds one of its evidence quotes, or the first or the second half of one (a quote cut by a chunk
    boundary is found in two overlapping passages, each holding a half)."""
    return holds_evidence(chunk.doc, chunk.text, question)


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


# ---------------------------------------------------------------- answers

ANSWER_METRICS = ("evidence_citation_rate", "citation_precision", "key_fact_recall", "abstain_unanswerable",
                  "false_abstain", "language_match", "p50_ms", "p95_ms")


def holds_evidence(chunk_doc: str, chunk_text: str, question: Question) -> bool:
    """A cited passage holds evidence when it is from the question's document and has an evidence quote, or
    the first or second half of one (a quote may straddle two overlapping chunks)."""
    if question.unanswerable or chunk_doc != question.doc:
        return False
    text = fold(chunk_text)
    for quote in question.evidence:
        words = fold(quote).split()
        half = max(4, len(words) // 2)
        if " ".join(words) in text or " ".join(words[:half]) in text or " ".join(words[-half:]) in text:
            return True
    return False


def fact_present(fact: str, answer: str) -> bool:
    """Folded substring match; a fact that starts or ends with a digit must not be part of a longer number."""
    import re

    pattern = re.escape(fold(fact))
    if fact[:1].isdigit():
        pattern = r"(?<![\d.,])" + pattern
    if fact[-1:].isdigit():
        pattern += r"(?![\d]|[.,]\d)"
    return re.search(pattern, fold(answer)) is not None


@dataclass
class AnswerRecord:
    id: str
    lang: str
    unanswerable: bool
    abstained: bool
    answer_language: str
    cites_evidence: bool
    citation_precision: float | None
    key_fact_recall: float | None
    ms: float
    answer: str
    citations: list[str]
    failed: list[str]


def score_answer(q: Question, answer) -> AnswerRecord:
    from .language import detect_language

    import re

    cites = [holds_evidence(c.chunk.doc, c.chunk.text, q) for c in answer.citations]
    plain = re.sub(r"\[\d+\]", "", answer.answer)
    lang = detect_language(plain)
    answered = not answer.abstained and not q.unanswerable
    facts = [fact_present(f, answer.answer) for f in q.key_facts] if answered and q.key_facts else []
    rec = AnswerRecord(
        id=q.id, lang=q.lang, unanswerable=q.unanswerable, abstained=answer.abstained, answer_language=lang,
        cites_evidence=any(cites), citation_precision=(sum(cites) / len(cites)) if answered and cites else None,
        key_fact_recall=(sum(facts) / len(facts)) if facts else None,
        ms=answer.timings_ms.get("total_ms", 0.0), answer=answer.answer,
        citations=[c.chunk.chunk_id for c in answer.citations], failed=[])
    rec.failed = _failures(q, rec, facts)
    return rec


def _failures(q: Question, r: AnswerRecord, facts: list[bool]) -> list[str]:
    failed = []
    if q.unanswerable and not r.abstained:
        failed.append("answered an unanswerable question")
    if not q.unanswerable and r.abstained:
        failed.append("abstained on an answerable question")
    if not q.unanswerable and not r.abstained and not r.cites_evidence:
        failed.append("cites no passage holding the evidence")
    if r.answer_language != q.lang:
        failed.append(f"answer language {r.answer_language}")
    if facts and not all(facts):
        failed.append("missing key facts: " + ", ".join(f for f, ok in zip(q.key_facts, facts) if not ok))
    return failed


def summarise_answers(records: list[AnswerRecord]) -> dict:
    out = {}
    for lang in (*LANGS, "all"):
        rs = [r for r in records if lang == "all" or r.lang == lang]
        if rs:
            out[lang] = _answer_scores(rs)
    return out


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _answer_scores(rs: list[AnswerRecord]) -> dict:
    import numpy as np

    answerable = [r for r in rs if not r.unanswerable]
    answered = [r for r in answerable if not r.abstained]
    unanswerable = [r for r in rs if r.unanswerable]
    ms = [r.ms for r in rs]
    return {
        "evidence_citation_rate": _mean([float(r.cites_evidence) for r in answered]),
        "citation_precision": _mean([r.citation_precision for r in answered if r.citation_precision is not None]),
        "key_fact_recall": _mean([r.key_fact_recall for r in answered if r.key_fact_recall is not None]),
        "abstain_unanswerable": _mean([float(r.abstained) for r in unanswerable]),
        "false_abstain": _mean([float(r.abstained) for r in answerable]),
        "language_match": _mean([float(r.answer_language == r.lang) for r in rs]),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "questions": len(rs),
    }


def evaluate_answers(questions: list[Question], service, generator: str, mode: str = "member",
                     progress=None) -> tuple[dict, list[AnswerRecord]]:
    records = []
    for i, q in enumerate(questions):
        answer = service.ask(q.question, mode=mode, language=None, generator=generator)
        records.append(score_answer(q, answer))
        if progress:
            progress(i + 1, len(questions))
    return summarise_answers(records), records


def format_answer_table(answers: dict) -> str:
    rows = [f"{'':5}" + "".join(f"{m:>23}" for m in ANSWER_METRICS[:6]) + f"{'p50 ms':>9}{'p95 ms':>9}"]
    for lang in (*LANGS, "all"):
        if lang in answers:
            a = answers[lang]
            cells = "".join(f"{'-' if a[m] is None else format(a[m], '.3f'):>23}" for m in ANSWER_METRICS[:6])
            rows.append(f"{lang:5}{cells}{a['p50_ms']:>9.0f}{a['p95_ms']:>9.0f}")
    return "\n".join(rows)
