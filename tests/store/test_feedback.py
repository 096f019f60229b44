"""The SQLite feedback store: consent, concurrent writers, export as question-set lines."""

from __future__ import annotations

import io
import json
import sqlite3
import threading

import pytest

from qa.eval.questions import KEYS
from qa.feedback import SCHEMA_VERSION, FeedbackError, FeedbackStore

ANSWER = {
    "answer": "Oui, une indemnité de bureau de 151,70 euros par mois au maximum [1].",
    "language": "fr", "abstained": False, "mode": "member", "generator": "extractive",
    "citations": [{"n": 1, "doc": "teletravail-droits.txt", "chunk_id": "teletravail-droits.txt#abc",
                   "text": "Le travailleur ...", "quote": "151,70 euros"}],
}


@pytest.fixture
def store(tmp_path):
    return FeedbackStore(tmp_path / "data" / "feedback.sqlite3")


def test_question_is_stored_only_with_consent(store):
    kept = store.add(vote="down", answer=ANSWER, consent=True, question="Ai-je droit à une indemnité ?")
    dropped = store.add(vote="down", answer=ANSWER, consent=False, question="Mon nom est Jan Peeters",
                        comment="trop court")
    rows = {r.id: r for r in store.list()}
    assert rows[kept].question == "Ai-je droit à une indemnité ?" and rows[kept].consent
    assert rows[dropped].question is None and not rows[dropped].consent
    assert rows[dropped].comment == "trop court"
    assert rows[kept].citations == [{"n": 1, "doc": "teletravail-droits.txt", "chunk_id": "teletravail-droits.txt#abc"}]
    assert rows[kept].answer == ANSWER["answer"] and rows[kept].language == "fr"
    # Nothing of the unconsented question is anywhere in the database file.
    with sqlite3.connect(store.path) as db:
        dump = "\n".join(db.iterdump())
    assert "Jan Peeters" not in dump


def test_schema_version_and_wal(store):
    store.add(vote="up", answer=ANSWER, consent=False)
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1
    # A second store on the same file neither re-creates nor duplicates the version row.
    FeedbackStore(store.path).add(vote="up", answer=ANSWER, consent=False)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


def test_refuses_a_newer_schema(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).add(vote="up", answer=ANSWER, consent=False)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(FeedbackError, match="upgrade qa"):
        FeedbackStore(path).count()


def test_rejects_bad_input(store):
    with pytest.raises(FeedbackError):
        store.add(vote="meh", answer=ANSWER, consent=False)
    with pytest.raises(FeedbackError):
        store.add(vote="up", answer={"citations": []}, consent=False)


def test_concurrent_writes_lose_no_rows(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    threads_n, per_thread = 20, 15
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        store = FeedbackStore(path)  # its own store object, as separate request threads/processes would
        try:
            start.wait()
            for j in range(per_thread):
                store.add(vote="down" if j % 2 else "up", answer=ANSWER, consent=True,
                          question=f"vraag {i}-{j}", comment=f"t{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    store = FeedbackStore(path)
    assert store.count() == threads_n * per_thread
    questions = {r.question for r in store.list(limit=10_000)}
    assert questions == {f"vraag {i}-{j}" for i in range(threads_n) for j in range(per_thread)}


def test_export_writes_valid_question_set_lines(store, tmp_path):
    from qa.eval.questions import load_questions

    store.add(vote="down", answer=ANSWER, consent=True, question="Ai-je droit à une indemnité de télétravail ?")
    store.add(vote="down", answer={**ANSWER, "language": "nl"}, consent=True,
              question="Mag mijn baas mij 's avonds mailen?")
    store.add(vote="down", answer=ANSWER, consent=False, question="not stored")  # no question: not exportable
    store.add(vote="up", answer=ANSWER, consent=True, question="Une bonne réponse")  # positive: not exported

    out = tmp_path / "eval" / "from-feedback.jsonl"
    assert store.export_negative(out) == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(q["lang"], q["question"]) for q in lines] == [
        ("fr", "Ai-je droit à une indemnité de télétravail ?"), ("nl", "Mag mijn baas mij 's avonds mailen?")]
    for q in lines:
        assert set(q) == set(KEYS)
        assert q["doc"] is None and q["evidence"] == [] and q["answer"] is None and q["key_facts"] == []
        assert q["unanswerable"] is False and q["id"].startswith("fb-")
    assert len({q["id"] for q in lines}) == 2

    stream = io.StringIO()
    assert store.export_negative(stream) == 2
    assert stream.getvalue() == out.read_text(encoding="utf-8")

    # The lines are question-set lines lacking only what evaluators add: once completed, they load.
    completed = tmp_path / "completed.jsonl"
    completed.write_text("".join(json.dumps({**q, "doc": "teletravail-droits.txt", "evidence": ["151,70 euros"]},
                                            ensure_ascii=False) + "\n" for q in lines), encoding="utf-8")
    assert [q.question for q in load_questions(completed)] == [q["question"] for q in lines]
