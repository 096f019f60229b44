"""Retrieval scores: recall@1/3/5/10, MRR, nDCG@10 (ranx) per language and per document, and per question
what was retrieved."""

from __future__ import annotations

from dataclasses import dataclass

from ..fold import fold
from .questions import LANGS, RETRIEVAL_METRICS, Question, holds_folded

RANX_METRICS = ("hit_rate@1", "hit_rate@3", "hit_rate@5", "hit_rate@10", "mrr", "ndcg@10")
DETAIL_TOP = 5  # retrieved passages listed per question in the details file
RETRIEVAL_PASS_K = 5  # a question "passes" retrieval when an evidence passage is in the top 5


@dataclass
class RetrievalRecord:
    """What retrieval did for one answerable question."""

    id: str
    lang: str
    doc: str
    rank: int | None  # rank of the first passage holding evidence in the top k; None: not found
    reachable: bool  # some passage of the index holds an evidence quote (or half of one)
    top: list[dict]  # the first DETAIL_TOP hits: {"rank", "chunk_id", "doc", "evidence"}

    @property
    def passed(self) -> bool:
        return self.rank is not None and self.rank <= RETRIEVAL_PASS_K

    def failed(self) -> list[str]:
        if self.passed:
            return []
        if not self.reachable:
            return ["no passage of the index holds the evidence (quotes split across chunks)"]
        where = f"found at rank {self.rank}" if self.rank else "not in the top 10"
        return [f"no evidence passage in the top {RETRIEVAL_PASS_K} ({where})"]


def run_retrieval(questions: list[Question], retriever, k: int = 10,
                  progress=None) -> tuple[dict, list[RetrievalRecord]]:
    """Scores (per language, per document) and one record per answerable question.

    `retriever`: anything with `.index` and `.search(question, k, language)`: a `Retriever`, or the
    `QAService` (then the service's own search path is what gets measured)."""
    by_doc: dict[str, list[tuple[str, str]]] = {}
    for c in retriever.index.chunks:  # fold each passage once, not once per question
        by_doc.setdefault(c.doc, []).append((c.chunk_id, fold(c.text)))
    answerable = [q for q in questions if not q.unanswerable]
    runs, qrels, records = {}, {}, []
    for i, q in enumerate(answerable):
        relevant = {cid for cid, text in by_doc.get(q.doc, []) if holds_folded(q.doc, text, q)}
        hits = retriever.search(q.question, k, q.lang)
        runs[q.id] = {h.chunk.chunk_id: float(k - n) for n, h in enumerate(hits)} or {"-": 0.0}
        qrels[q.id] = {cid: 1 for cid in relevant} or {"<unreachable>": 1}  # unreachable: counted as a miss
        rank = next((n + 1 for n, h in enumerate(hits) if h.chunk.chunk_id in relevant), None)
        top = [{"rank": n + 1, "chunk_id": h.chunk.chunk_id, "doc": h.chunk.doc,
                "evidence": h.chunk.chunk_id in relevant} for n, h in enumerate(hits[:DETAIL_TOP])]
        records.append(RetrievalRecord(q.id, q.lang, q.doc, rank, bool(relevant), top))
        if progress:
            progress(i + 1, len(answerable))
    return retrieval_scores(answerable, runs, qrels, records), records


def evaluate_retrieval(questions: list[Question], retriever, k: int = 10) -> dict:
    """recall@k (share of questions with an evidence passage in the top k), MRR, nDCG@10, per language
    (`nl`, `fr`, `all`) and per document (`by_doc`); `unreachable` lists questions no passage can answer."""
    return run_retrieval(questions, retriever, k)[0]


def _ranx_scores(ids: list[str], runs: dict, qrels: dict) -> dict:
    from ranx import Qrels, Run, evaluate

    scores = evaluate(Qrels({i: qrels[i] for i in ids}), Run({i: runs[i] for i in ids}), list(RANX_METRICS),
                      make_comparable=False)  # same ids on both sides: skip its slow JIT
    out = {name: round(float(scores[m]), 4) for name, m in zip(RETRIEVAL_METRICS, RANX_METRICS)}
    out["questions"] = len(ids)
    return out


def retrieval_scores(questions: list[Question], runs: dict, qrels: dict, records: list[RetrievalRecord]) -> dict:
    out: dict = {}
    for lang in (*LANGS, "all"):
        ids = [q.id for q in questions if q.id in runs and (lang == "all" or q.lang == lang)]
        if ids:
            out[lang] = _ranx_scores(ids, runs, qrels)
    out["by_doc"] = {}
    for doc in sorted({q.doc for q in questions if q.id in runs}):
        ids = [q.id for q in questions if q.id in runs and q.doc == doc]
        out["by_doc"][doc] = _ranx_scores(ids, runs, qrels)
    groups = sorted({g for q in questions for g in q.groups})
    if groups:
        out["by_group"] = {g: _ranx_scores([q.id for q in questions if q.id in runs and g in q.groups], runs, qrels)
                           for g in groups}
    out["unreachable"] = [r.id for r in records if not r.reachable]
    return out


def format_table(retrieval: dict) -> str:
    rows = [f"{'':5}" + "".join(f"{m:>11}" for m in RETRIEVAL_METRICS) + f"{'n':>6}"]
    for lang in (*LANGS, "all"):
        if lang in retrieval:
            r = retrieval[lang]
            rows.append(f"{lang:5}" + "".join(f"{r[m]:>11.3f}" for m in RETRIEVAL_METRICS) + f"{r['questions']:>6}")
    if retrieval.get("by_doc"):
        rows.append("")
        rows.append(f"{'per document':52}" + "".join(f"{m:>10}" for m in ("recall@1", "recall@5", "mrr"))
                    + f"{'n':>5}")
        for doc, r in retrieval["by_doc"].items():
            name = doc if len(doc) <= 50 else doc[:49] + "…"
            rows.append(f"{name:52}" + "".join(f"{r[m]:>10.3f}" for m in ("recall@1", "recall@5", "mrr"))
                        + f"{r['questions']:>5}")
    if retrieval.get("unreachable"):
        rows.append(f"evidence split across chunks (counted as misses): {', '.join(retrieval['unreachable'])}")
    return "\n".join(rows)

