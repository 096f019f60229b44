"""`qa eval --details`: one JSON object per question (retrieved, cited, answered, failed checks, flips)."""

from __future__ import annotations

import json
from pathlib import Path

from .answer_scores import AnswerRecord
from .questions import Question
from .retrieval_scores import RetrievalRecord


def detail_lines(questions: list[Question], retrieval: list[RetrievalRecord],
                 answers: list[AnswerRecord] | None = None, flipped: dict[str, list[str]] | None = None) -> list[dict]:
    """One object per question: what was retrieved (top passages, whether each holds evidence), what the
    answer cited and said, which checks failed, and (with a baseline) which metrics it flipped on."""
    ret = {r.id: r for r in retrieval}
    ans = {r.id: r for r in answers or []}
    out = []
    for q in questions:
        line = {"id": q.id, "lang": q.lang, "question": q.question, "doc": q.doc, "unanswerable": q.unanswerable}
        failed: list[str] = []
        r = ret.get(q.id)
        if r is not None:
            line["retrieval"] = {"rank": r.rank, "passed": r.passed, "reachable": r.reachable, "top": r.top}
            failed += [f"retrieval: {why}" for why in r.failed()]
        a = ans.get(q.id)
        if a is not None:
            line["answer"] = {
                "text": a.answer, "abstained": a.abstained, "abstain_reason": a.abstain_reason,
                "abstain_check": a.abstain_check, "language": a.answer_language,
                "citations": [{"chunk_id": cid, "doc": doc, "evidence": ev}
                              for cid, doc, ev in zip(a.citations, a.citation_docs, a.citation_evidence)],
                "cites_evidence": a.cites_evidence, "citation_precision": a.citation_precision,
                "key_fact_recall": a.key_fact_recall, "key_facts_missing": a.key_facts_missing,
                "ms": round(a.ms, 1), "passed": a.passed}
            if a.faithful is not None:
                line["answer"]["faithful"] = a.faithful
            failed += [f"answer: {why}" for why in a.failed]
        line["passed"] = not failed
        line["failed"] = failed
        if flipped is not None:
            line["flipped"] = flipped.get(q.id, [])
        out.append(line)
    return out


def write_details(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
