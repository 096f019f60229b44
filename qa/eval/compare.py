"""A run compared with its baseline: a metric that dropped by more than its tolerance, in a language or overall,
is a regression, named with the questions that flipped from pass to fail; differences in configuration are
warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .answer_scores import ANSWER_METRICS
from .baselines import GRADED, LOWER_IS_BETTER, MAX_LISTED, RELATIVE, SCOPES, question_value
from .questions import RETRIEVAL_METRICS

LATENCY_SLACK_MS = 500.0
_EPS = 1e-9


@dataclass
class Change:
    section: str  # "retrieval" | "answers"
    metric: str
    scope: str  # "nl" | "fr" | "all"
    before: float | None
    after: float | None
    tolerance: float
    flipped: list[str] = field(default_factory=list)  # questions that passed this check before and fail now
    # (for the graded metrics, GRADED: whose own value fell, e.g. the first evidence passage moved down)

    def describe(self) -> str:
        def f(v):
            return "n/a" if v is None else (f"{v:.0f} ms" if self.metric in RELATIVE else f"{v:.3f}")

        if self.metric in RELATIVE:
            limit = f"tolerance +{self.tolerance:.0%} and +{LATENCY_SLACK_MS:.0f} ms"
        else:
            limit = f"tolerance {self.tolerance:.3f}"
        text = f"{self.section} {self.metric} [{self.scope}]: {f(self.before)} -> {f(self.after)} ({limit})"
        if self.flipped:
            how = "got worse" if self.metric in GRADED else "flipped from pass to fail"
            shown = ", ".join(self.flipped[:MAX_LISTED])
            more = f" and {len(self.flipped) - MAX_LISTED} more (--json, --details)" if len(self.flipped) > MAX_LISTED else ""
            text += f"; {len(self.flipped)} question(s) {how}: {shown}{more}"
        return text

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Comparison:
    baseline: str
    warnings: list[str]
    regressions: list[Change]
    improvements: list[Change]
    compared: list[str]  # sections compared
    flipped: dict[str, list[str]]  # question id -> "section metric" it flipped on (any scope)

    @property
    def like_for_like(self) -> bool:
        return not self.warnings

    @property
    def passed(self) -> bool:
        return not self.regressions

    def to_json(self) -> dict:
        return {"file": self.baseline, "passed": self.passed, "like_for_like": self.like_for_like,
                "warnings": self.warnings, "compared": self.compared,
                "regressions": [c.to_json() for c in self.regressions],
                "improvements": [c.to_json() for c in self.improvements]}


def config_warnings(before: dict, after: dict) -> list[str]:
    """Why two runs are not like for like, one line per difference (empty: comparable)."""
    out = []
    bi, ai = before.get("index", {}), after.get("index", {})
    if (bi.get("embed_model"), bi.get("embed_dim")) != (ai.get("embed_model"), ai.get("embed_dim")):
        out.append(f"different embedder: baseline {bi.get('embed_model')} ({bi.get('embed_dim')} dims), "
                   f"this run {ai.get('embed_model')} ({ai.get('embed_dim')} dims)")
    if bi.get("chunking") != ai.get("chunking"):
        out.append(f"different chunking: baseline {bi.get('chunking')}, this run {ai.get('chunking')}")
    bf, af = bi.get("files", {}), ai.get("files", {})
    if bf != af:
        added = sorted(set(af) - set(bf))
        removed = sorted(set(bf) - set(af))
        changed = sorted(d for d in set(bf) & set(af) if bf[d] != af[d])
        parts = [f"{label}: {', '.join(docs)}" for label, docs in
                 (("added", added), ("removed", removed), ("changed", changed)) if docs]
        out.append("different corpus (file hashes differ; " + "; ".join(parts) + ")")
    elif bi.get("chunking") == ai.get("chunking"):
        if bi.get("chunk_count") != ai.get("chunk_count"):
            out.append(f"same corpus and chunking settings but {ai.get('chunk_count')} chunks instead of "
                       f"{bi.get('chunk_count')} (the cleaning or splitting code changed)")
        elif bi.get("chunks_sha256") != ai.get("chunks_sha256"):
            out.append("same corpus and chunking settings but the chunks differ (the cleaning or splitting code "
                       "changed, or the index is older than that code: rebuild it)")
    if before.get("retrieval") != after.get("retrieval"):
        out.append(f"different retrieval settings: baseline {before.get('retrieval')}, this run {after.get('retrieval')}")
    if before.get("generator") and after.get("generator"):
        if before["generator"] != after["generator"]:
            out.append(f"different generator: baseline {before['generator']}, this run {after['generator']}")
        if before.get("mode") != after.get("mode"):
            out.append(f"different answer mode: baseline {before.get('mode')}, this run {after.get('mode')}")
        bs, as_ = before.get("answer_settings") or {}, after.get("answer_settings") or {}
        diff = sorted(k for k in set(bs) | set(as_) if bs.get(k) != as_.get(k))
        if diff:
            out.append("different answer settings: " + ", ".join(f"{k} {bs.get(k)!r} -> {as_.get(k)!r}" for k in diff))
    bq, aq = before.get("questions", {}), after.get("questions", {})
    if bq.get("sha256") != aq.get("sha256"):
        out.append(f"different question set: baseline {bq.get('file')} ({bq.get('count')} questions), "
                   f"this run {aq.get('file')} ({aq.get('count')} questions)")
    return out


def _worse_by(metric: str, before: float, after: float) -> float:
    """How much worse `after` is than `before` (negative: better); relative for latency."""
    if metric in RELATIVE:
        return (after - before) / max(before, 1.0)
    return after - before if metric in LOWER_IS_BETTER else before - after


def _regressed(metric: str, before: float | None, after: float | None, tol: float) -> bool:
    if before is None:
        return False
    if after is None:  # measurable before, not now (e.g. no answer cites anything any more)
        return metric not in LOWER_IS_BETTER
    if metric in RELATIVE and after - before <= LATENCY_SLACK_MS:
        return False
    return _worse_by(metric, before, after) > tol + _EPS


def _improved(metric: str, before: float | None, after: float | None, tol: float) -> bool:
    if before is None or after is None or metric in RELATIVE:
        return False
    return -_worse_by(metric, before, after) > tol + _EPS


def compare(baseline: dict, scores: dict, config: dict, outcomes: dict[str, dict],
            baseline_name: str = "") -> Comparison:
    warnings = config_warnings(baseline["config"], config)
    tolerances = baseline["tolerances"]
    regressions, improvements, compared = [], [], []
    flipped: dict[str, list[str]] = {}
    before_q = baseline["questions"]
    for section, metrics in (("retrieval", RETRIEVAL_METRICS), ("answers", ANSWER_METRICS)):
        b, a = baseline["scores"].get(section), scores.get(section)
        if b is None and a is None:
            continue
        if b is None or a is None:
            gen = baseline["config"].get("generator")
            warnings.append(f"{section} not compared: " + (
                f"the baseline scored answers (generator {gen}); run with --generator {gen}" if a is None
                else "the baseline has no answer scores"))
            continue
        compared.append(section)
        for scope in SCOPES:
            if scope not in b or scope not in a:
                continue
            for metric in metrics:
                tol = tolerances.get(section, {}).get(metric)
                if tol is None:
                    continue
                before, after = b[scope].get(metric), a[scope].get(metric)
                change = Change(section, metric, scope, before, after, float(tol))
                if _regressed(metric, before, after, tol):
                    change.flipped = _flips(section, metric, scope, before_q, outcomes)
                    regressions.append(change)
                elif _improved(metric, before, after, tol):
                    improvements.append(change)
        for metric in metrics:  # per question, whatever the aggregate did: for the details file
            for qid in _flips(section, metric, "all", before_q, outcomes):
                flipped.setdefault(qid, []).append(f"{section} {metric}")
    return Comparison(baseline_name, warnings, regressions, improvements, compared, flipped)


def _flips(section: str, metric: str, scope: str, before: dict, after: dict) -> list[str]:
    out = []
    for qid, o in after.items():
        if qid not in before or (scope != "all" and o["lang"] != scope):
            continue
        vb, va = question_value(section, metric, before[qid]), question_value(section, metric, o)
        if vb is None or va is None:
            continue
        worse = va > vb + _EPS if metric in LOWER_IS_BETTER else va < vb - _EPS
        if worse:
            out.append(qid)
    return sorted(out)


def format_comparison(c: Comparison) -> str:
    lines = [f"baseline {c.baseline}: " + ("like for like" if c.like_for_like else "NOT like for like")]
    lines += [f"  WARNING: {w}" for w in c.warnings]
    for change in c.regressions:
        lines.append(f"  REGRESSION {change.describe()}")
    for change in c.improvements:
        lines.append(f"  improved {change.describe()}")
    if c.regressions:
        lines.append(f"FAILED: {len(c.regressions)} metric(s) dropped beyond their tolerance")
    else:
        lines.append("passed: no metric dropped beyond its tolerance"
                     + (" (consider refreshing the baseline: some improved)" if c.improvements else ""))
    return "\n".join(lines)
