"""Answer scores (DESIGN.md): evidence citation, citation precision, key facts, abstention, language, latency;
per language, per question group, and per question which check failed."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..fold import fold
from .questions import LANGS, Question, holds_evidence

ANSWER_METRICS = ("evidence_citation_rate", "citation_precision", "key_fact_recall", "abstain_unanswerable",
                  "false_abstain", "language_match", "p50_ms", "p95_ms")


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
    citation_evidence: list[bool] = field(default_factory=list)  # per citation: its passage holds evidence
    citation_docs: list[str] = field(default_factory=list)
    key_facts_missing: list[str] = field(default_factory=list)
    faithful: bool | None = None  # the LLM judge's verdict (--judge), never part of the deterministic scores
    abstain_reason: str | None = None  # why the service abstained
    abstain_check: str | None = None  # which check made it abstain (qa/answer/checks/)

    @property
    def passed(self) -> bool:
        return not self.failed


def score_answer(q: Question, answer) -> AnswerRecord:
    from ..language import detect_language

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
        citations=[c.chunk.chunk_id for c in answer.citations], failed=[], citation_evidence=cites,
        citation_docs=[c.chunk.doc for c in answer.citations],
        key_facts_missing=[f for f, ok in zip(q.key_facts, facts) if not ok],
        abstain_reason=getattr(answer, "abstain_reason", None), abstain_check=getattr(answer, "abstain_check", None))
    rec.failed = _failures(q, rec, facts)
    return rec


def _failures(q: Question, r: AnswerRecord, facts: list[bool]) -> list[str]:
    failed = []
    if q.unanswerable and not r.abstained:
        failed.append("answered an unanswerable question")
    if not q.unanswerable and r.abstained:
        failed.append("abstained on an answerable question"
                      + (f" ({r.abstain_check}: {r.abstain_reason})" if r.abstain_reason else ""))
    if not q.unanswerable and not r.abstained and not r.cites_evidence:
        failed.append("cites no passage holding the evidence")
    if r.answer_language != q.lang:
        failed.append(f"answer language {r.answer_language}")
    if facts and not all(facts):
        failed.append("missing key facts: " + ", ".join(f for f, ok in zip(q.key_facts, facts) if not ok))
    return failed


def summarise_answers(records: list[AnswerRecord], questions: list[Question] = ()) -> dict:
    """Scores per language and, when `questions` carry styles or kinds, per group (`by_group`)."""
    out = {}
    for lang in (*LANGS, "all"):
        rs = [r for r in records if lang == "all" or r.lang == lang]
        if rs:
            out[lang] = scores_of(rs)
    out["checks"] = check_report(records)
    in_group = {q.id: q.groups for q in questions}
    groups = sorted({g for gs in in_group.values() for g in gs})
    if groups:
        out["by_group"] = {g: scores_of([r for r in records if g in in_group.get(r.id, ())]) for g in groups}
    return out


def check_report(records: list[AnswerRecord]) -> dict:
    """Per check: how often it refused, rightly (an unanswerable question) or wrongly (the answerable questions
    it refused, by id)."""
    out: dict = {}
    for r in records:
        if r.abstained:
            entry = out.setdefault(r.abstain_check or "unnamed", {"fired": 0, "rightly": 0, "wrongly": []})
            entry["fired"] += 1
            if r.unanswerable:
                entry["rightly"] += 1
            else:
                entry["wrongly"].append(r.id)
    return out


def format_check_table(checks: dict) -> str:
    """The refusals by check, for the console and report.md: which check said "not in the sources", how often
    rightly, and the answerable questions it refused (where a check is too strict)."""
    if not checks:
        return "refusals by check: none"
    rows = ["refusals by check:"]
    for name, c in sorted(checks.items(), key=lambda kv: -kv[1]["fired"]):
        wrong = f", wrongly {len(c['wrongly'])}: {', '.join(c['wrongly'])}" if c["wrongly"] else ""
        rows.append(f"  {name}: {c['fired']} (rightly {c['rightly']}{wrong})")
    return "\n".join(rows)


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def scores_of(rs: list[AnswerRecord]) -> dict:
    import numpy as np

    answerable = [r for r in rs if not r.unanswerable]
    answered = [r for r in answerable if not r.abstained]
    unanswerable = [r for r in rs if r.unanswerable]
    ms = [r.ms for r in rs]
    return {
        "evidence_citation_rate": mean([float(r.cites_evidence) for r in answered]),
        # over all answerable questions, an abstention counting as a miss (what a member gets)
        "evidence_citation_all": mean([float(r.cites_evidence and not r.abstained) for r in answerable]),
        "key_fact_recall_all": mean([(r.key_fact_recall or 0.0) if not r.abstained else 0.0
                                      for r in answerable if r.key_fact_recall is not None or r.abstained]),
        "citation_precision": mean([r.citation_precision for r in answered if r.citation_precision is not None]),
        "key_fact_recall": mean([r.key_fact_recall for r in answered if r.key_fact_recall is not None]),
        "abstain_unanswerable": mean([float(r.abstained) for r in unanswerable]),
        "false_abstain": mean([float(r.abstained) for r in answerable]),
        "language_match": mean([float(r.answer_language == r.lang) for r in rs]),
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
    return summarise_answers(records, questions), records


def format_answer_table(answers: dict) -> str:
    rows = [f"{'':5}" + "".join(f"{m:>23}" for m in ANSWER_METRICS[:6]) + f"{'p50 ms':>9}{'p95 ms':>9}"]
    for lang in (*LANGS, "all"):
        if lang in answers:
            a = answers[lang]
            cells = "".join(f"{'-' if a[m] is None else format(a[m], '.3f'):>23}" for m in ANSWER_METRICS[:6])
            rows.append(f"{lang:5}{cells}{a['p50_ms']:>9.0f}{a['p95_ms']:>9.0f}")
    return "\n".join(rows)

