"""`qa eval --report DIR`: report.md with tables, and PNG plots (matplotlib, Agg backend: no display needed).

Plots: retrieval metrics per language, per document, the recall@k curve (k = 1..10), answer metrics per
language and the latency distribution (when answers were scored), and before/after bars when a baseline
was given (regressed metrics in red).
"""

from __future__ import annotations

from pathlib import Path

from .answer_scores import AnswerRecord, format_check_table
from .plots import (RATE_METRICS, SCOPES, plot_answers_by_language, plot_comparison, plot_latency, plot_recall_curve,
                    plot_retrieval_by_document, plot_retrieval_by_language)
from .questions import RETRIEVAL_METRICS
from .retrieval_scores import RetrievalRecord


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def write_report(folder: Path, *, scores: dict, config: dict, retrieval_records: list[RetrievalRecord],
                 answer_records: list[AnswerRecord] | None = None, details: list[dict] | None = None,
                 comparison=None, baseline: dict | None = None, details_file: Path | None = None,
                 command: str = "") -> Path:
    """Write report.md and its plots into `folder`; returns the path of report.md."""
    folder.mkdir(parents=True, exist_ok=True)
    r = scores["retrieval"]
    out = ["# Regression benchmark report", ""]
    idx = config["index"]
    out += [f"- index: `{idx['embed_model']}` ({idx['embed_dim']} dims), {idx['chunk_count']} chunks, "
            f"build `{idx['build_id']}`, chunking {idx['chunking'].get('size')}/{idx['chunking'].get('overlap')}",
            f"- retrieval: {config['retrieval']}",
            f"- generator: {config['generator'] or '(answers not scored)'}"
            + (f", mode {config['mode']}" if config["generator"] else ""),
            f"- questions: `{config['questions']['file']}` ({config['questions']['count']})"]
    if command:
        out.append(f"- command: `{command}`")
    out.append("")

    if comparison is not None:
        out += ["## Baseline comparison", "",
                f"Baseline `{comparison.baseline}`"
                + (f" (saved {baseline.get('created_at')})" if baseline else "") + ": "
                + ("**passed**" if comparison.passed else f"**FAILED** ({len(comparison.regressions)} regression(s))")
                + ("" if comparison.like_for_like else " — **not like for like**, see the warnings"), ""]
        out += [f"- ⚠ {w}" for w in comparison.warnings]
        if comparison.warnings:
            out.append("")
        if comparison.regressions:
            out += ["| metric | scope | baseline | this run | tolerance | questions flipped pass → fail (graded metrics: got worse) |",
                    "|---|---|---|---|---|---|"]
            for c in comparison.regressions:
                out.append(f"| {c.section} {c.metric} | {c.scope} | {_fmt(c.before)} | {_fmt(c.after)} | "
                           f"{c.tolerance:g} | {', '.join(c.flipped) or '–'} |")
            out.append("")
        if comparison.improvements:
            out.append("Improved beyond tolerance: " + ", ".join(
                f"{c.section} {c.metric} [{c.scope}] {_fmt(c.before)} → {_fmt(c.after)}" for c in comparison.improvements))
            out.append("")
        if baseline is not None and comparison.compared:
            plot_comparison(baseline["scores"], scores, comparison, folder / "baseline_comparison.png")
            out += ["![before/after](baseline_comparison.png)", ""]

    out += ["## Retrieval", "",
            "A question is found at rank r when the r-th passage comes from its document and holds one of its "
            "evidence quotes (or half of one).", ""]
    out.append(_table(["scope", *RETRIEVAL_METRICS, "n"],
                      [[s, *(_fmt(r[s][m]) for m in RETRIEVAL_METRICS), str(r[s]["questions"])]
                       for s in SCOPES if s in r]))
    out.append("")
    plot_retrieval_by_language(r, folder / "retrieval_by_language.png")
    baseline_ranks = None
    if baseline is not None:
        bq = baseline["questions"]
        baseline_ranks = {s: {qid: o["rank"] for qid, o in bq.items() if "rank" in o and (s == "all" or o["lang"] == s)}
                          for s in SCOPES}
    plot_recall_curve(retrieval_records, folder / "recall_at_k.png", baseline_ranks)
    out += ["![retrieval per language](retrieval_by_language.png)", "", "![recall@k](recall_at_k.png)", ""]
    if r.get("by_doc"):
        out += ["### Per document", ""]
        out.append(_table(["document", *RETRIEVAL_METRICS, "n"],
                          [[f"`{d}`", *(_fmt(v[m]) for m in RETRIEVAL_METRICS), str(v["questions"])]
                           for d, v in r["by_doc"].items()]))
        plot_retrieval_by_document(r, folder / "retrieval_by_document.png")
        out += ["", "![retrieval per document](retrieval_by_document.png)", ""]
    if r.get("unreachable"):
        out += [f"Evidence split across chunks (no passage can count as found): {', '.join(r['unreachable'])}", ""]

    if "answers" in scores:
        a = scores["answers"]
        out += ["## Answers", ""]
        out.append(_table(["scope", *RATE_METRICS, "p50 ms", "p95 ms", "n"],
                          [[s, *(_fmt(a[s][m]) for m in RATE_METRICS), f"{a[s]['p50_ms']:.0f}",
                            f"{a[s]['p95_ms']:.0f}", str(a[s]["questions"])] for s in SCOPES if s in a]))
        out.append("")
        out += ["```", format_check_table(a["checks"]), "```", ""]
        if "judge" in scores:
            j = scores["judge"]
            out += ["LLM judge (not deterministic, not gated): faithfulness "
                    + ", ".join(f"{s} {_fmt(j[s]['faithfulness'])} ({j[s]['judged']} judged)" for s in SCOPES if s in j), ""]
        plot_answers_by_language(a, folder / "answers_by_language.png")
        out += ["![answers per language](answers_by_language.png)", ""]
        if answer_records:
            plot_latency(answer_records, folder / "latency.png")
            out += ["![latency](latency.png)", ""]

    if details is not None:
        failing = [d for d in details if not d["passed"]]
        out += ["## Questions that failed a check", ""]
        if details_file is not None:
            out += [f"Every question's detail (retrieved passages, citations, answer): `{details_file}`", ""]
        if failing:
            out.append(_table(["id", "lang", "failed", "flipped vs baseline"],
                              [[d["id"], d["lang"], "; ".join(d["failed"]).replace("|", "/"),
                                ", ".join(d.get("flipped", [])) or "–"] for d in failing]))
        else:
            out.append("None.")
        out.append("")
    path = folder / "report.md"
    path.write_text("\n".join(out), encoding="utf-8")
    return path
