"""The store (qa/store/): the same tests on an SQLite file and on a real PostgreSQL server (tests/servers.py).

Feedback, the answers feedback refers to, conversations; the numbered migrations (fresh, from version 1, a newer
schema refused, replicas upgrading together); concurrent writers; an unreachable server."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
from sqlalchemy import inspect

from qa.conversation_store import ConversationNotFound
from qa.store import SCHEMA_VERSION, SchemaTooNew, Store, StoreError, StoreUnavailable
from qa.store.migrations import MIGRATIONS
from qa.store.tables import metadata

ANSWER = {
    "answer": "Oui, une indemnité de bureau de 151,70 euros par mois au maximum [1].",
    "language": "fr", "abstained": False, "mode": "member", "generator": "extractive",
    "citations": [{"n": 1, "doc": "teletravail-droits.txt", "chunk_id": "teletravail-droits.txt#abc",
                   "text": "Le travailleur qui fait du télétravail ...", "quote": "151,70 euros"}],
    "sentences": [], "see_also": [], "timings_ms": {"total": 12.5},
}


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.close()


def _set_version(store: Store, version: int) -> None:
    from sqlalchemy import text

    with store.db.writing() as conn:
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": version})


# ---------------------------------------------------------------- schema and migrations


def test_a_fresh_database_gets_every_table_of_the_current_schema(store):
    assert store.version() == 0  # nothing made before the first use
    store.ready()
    assert store.version() == SCHEMA_VERSION == MIGRATIONS[-1].version
    with store.db.reading() as conn:
        found = inspect(conn)
        for table in metadata.sorted_tables:  # what the queries use is what the migrations built
            assert {c["name"] for c in found.get_columns(table.name)} == set(table.columns.keys()), table.name
        assert {"feedback_vote"} <= {i["name"] for i in found.get_indexes("feedback")}
        assert {"answers_expires"} <= {i["name"] for i in found.get_indexes("answers")}
    assert store.upgrade() == (SCHEMA_VERSION, SCHEMA_VERSION)  # again: nothing to do


def test_a_version_1_database_is_upgraded_and_keeps_its_feedback(database_url):
    from sqlalchemy import text

    first = Store(database_url)
    with first.db.writing() as conn:  # what the first schema (feedback only) left behind
        conn.execute(text("CREATE TABLE schema_version (version INTEGER NOT NULL)"))
        MIGRATIONS[0].apply(conn)
        conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
    first._ready = True  # write through the version 1 schema as it is, without upgrading it first
    kept = first.feedback.add(vote="down", answer=ANSWER, consent=True, question="Ai-je droit ?")
    first.close()

    store = Store(database_url)
    assert store.version() == 1
    store.answers.add("a" * 32, ANSWER, ttl_s=60)  # first use: migrates to the current version
    assert store.version() == SCHEMA_VERSION
    assert [r.id for r in store.feedback.list()] == [kept] and store.feedback.list()[0].question == "Ai-je droit ?"
    assert store.answers.get("a" * 32)["answer"] == ANSWER["answer"]
    store.close()


def test_a_sqlite_file_of_the_earlier_feedback_store_upgrades_in_place(tmp_path):
    """The exact schema the SQLite-only feedback store wrote (version 1), with a row in it."""
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE schema_version (version INTEGER NOT NULL);
            CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, answer_id TEXT,
                vote TEXT NOT NULL CHECK (vote IN ('up', 'down')), comment TEXT,
                consent INTEGER NOT NULL CHECK (consent IN (0, 1)), question TEXT CHECK (question IS NULL OR consent = 1),
                language TEXT, mode TEXT, generator TEXT, abstained INTEGER, answer TEXT NOT NULL, citations TEXT NOT NULL);
            CREATE INDEX feedback_vote ON feedback (vote, id);
            INSERT INTO schema_version VALUES (1);
            INSERT INTO feedback (created_at, vote, consent, question, language, abstained, answer, citations)
                VALUES ('2025-01-01T00:00:00+00:00', 'down', 1, 'Mag mijn baas mailen?', 'nl', 0, 'Nee [1].', '[]');
        """)
    store = Store(f"sqlite:///{path}")
    [old] = store.feedback.list()
    assert (old.question, old.consent, old.abstained, old.language) == ("Mag mijn baas mailen?", True, False, "nl")
    store.feedback.add(vote="up", answer=ANSWER, consent=False)
    assert store.feedback.count() == 2 and store.version() == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1
    store.close()


def test_a_newer_schema_is_refused_with_a_clear_message(store):
    store.ready()
    _set_version(store, SCHEMA_VERSION + 1)
    newer = Store(store.db.url.render_as_string(hide_password=False))
    for use in (newer.ready, lambda: newer.feedback.count(), newer.upgrade):
        with pytest.raises(SchemaTooNew, match=f"schema version {SCHEMA_VERSION + 1}.*upgrade qa"):
            use()
    newer.close()


def test_replicas_starting_together_migrate_once(database_url):
    stores = [Store(database_url) for _ in range(8)]
    start, errors = threading.Barrier(len(stores)), []

    def first_use(store: Store) -> None:
        start.wait()
        try:
            store.feedback.add(vote="up", answer=ANSWER, consent=False)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    from sqlalchemy import text

    with stores[0].db.reading() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).scalars().all() == [SCHEMA_VERSION]
    assert stores[0].feedback.count() == 8
    for s in stores:
        s.close()


# ---------------------------------------------------------------- feedback


def test_feedback_keeps_the_question_only_with_consent(store):
    kept = store.feedback.add(vote="down", answer=ANSWER, consent=True, question=" Ai-je droit ? ", comment=" court ")
    dropped = store.feedback.add(vote="up", answer=ANSWER, consent=False, question="Mon nom est Jan Peeters",
                                 answer_id="b" * 32)
    rows = {r.id: r for r in store.feedback.list()}
    assert [r.id for r in store.feedback.list()] == [dropped, kept]  # newest first
    assert rows[kept].question == "Ai-je droit ?" and rows[kept].consent and rows[kept].comment == "court"
    assert rows[dropped].question is None and not rows[dropped].consent and rows[dropped].answer_id == "b" * 32
    assert rows[kept].citations == [{"n": 1, "doc": "teletravail-droits.txt", "chunk_id": "teletravail-droits.txt#abc"}]
    assert rows[kept].abstained is False and rows[kept].generator == "extractive"
    assert (store.feedback.count(), store.feedback.count("up"), store.feedback.count("down")) == (2, 1, 1)
    assert [r.id for r in store.feedback.list(vote="down")] == [kept]
    assert [r.id for r in store.feedback.list(limit=1, offset=1)] == [kept]
    assert json.dumps(rows[kept].to_json())  # JSON-able as GET /v1/feedback sends it


def test_feedback_export_gives_question_set_lines(store, tmp_path):
    store.feedback.add(vote="down", answer=ANSWER, consent=True, question="Ai-je droit au télétravail ?")
    store.feedback.add(vote="down", answer=ANSWER, consent=False, question="not stored")
    store.feedback.add(vote="up", answer=ANSWER, consent=True, question="bonne réponse")
    out = tmp_path / "fb.jsonl"
    assert store.feedback.export_negative(out) == 1
    [line] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert (line["lang"], line["question"], line["doc"]) == ("fr", "Ai-je droit au télétravail ?", None)


def test_concurrent_feedback_writers_lose_no_rows(database_url):
    Store(database_url).ready()
    n_threads, each, errors = 12, 10, []

    def writer(i: int) -> None:
        store = Store(database_url)  # its own engine, as another replica would have
        try:
            for j in range(each):
                store.feedback.add(vote="down", answer=ANSWER, consent=True, question=f"q{i}-{j}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    store = Store(database_url)
    assert {r.question for r in store.feedback.list(limit=1000)} == {f"q{i}-{j}" for i in range(n_threads)
                                                                     for j in range(each)}
    store.close()


# ---------------------------------------------------------------- answers feedback refers to


def test_answers_keep_only_what_feedback_needs_until_they_expire(store):
    store.answers.add("a" * 32, ANSWER, ttl_s=60)
    kept = store.answers.get("a" * 32)
    assert kept == {"answer": ANSWER["answer"], "language": "fr", "mode": "member", "generator": "extractive",
                    "abstained": False, "answer_id": "a" * 32,
                    "citations": [{"n": 1, "doc": "teletravail-droits.txt",
                                   "chunk_id": "teletravail-droits.txt#abc"}]}  # no passage text, no timings
    assert store.answers.get("f" * 32) is None
    store.answers.add("e" * 32, ANSWER, ttl_s=0)  # expired at once
    assert store.answers.get("e" * 32) is None
    assert store.answers.purge_expired() == 1
    assert store.answers.get("a" * 32) is not None


def test_another_store_on_the_same_database_sees_an_answer(database_url):
    """Two replicas: the answer kept through one is found through the other."""
    a, b = Store(database_url), Store(database_url)
    a.answers.add("c" * 32, ANSWER, ttl_s=60)
    assert b.answers.get("c" * 32)["answer"] == ANSWER["answer"]
    a.close()
    b.close()


# ---------------------------------------------------------------- conversations


def test_conversations_create_append_get_delete(store):
    cid = store.conversations.create()
    assert len(cid) == 32 and store.conversations.get(cid) == []
    store.conversations.append(cid, {"question": "Heb ik recht op thuiswerk?", "language": "nl"})
    store.conversations.append(cid, {"question": "En de vergoeding?", "answer": {"answer": "151,70 euro [1]."},
                                     "created_at": 1.0})
    turns = store.conversations.get(cid)
    assert [t["question"] for t in turns] == ["Heb ik recht op thuiswerk?", "En de vergoeding?"]
    assert turns[0]["created_at"] > 1e9 and turns[1]["created_at"] == 1.0  # stamped unless given
    assert turns[1]["answer"] == {"answer": "151,70 euro [1]."}
    with pytest.raises(ConversationNotFound):
        store.conversations.append("0" * 32, {"question": "?"})
    assert store.conversations.get("0" * 32) is None
    assert store.conversations.delete(cid) is True and store.conversations.delete(cid) is False
    assert store.conversations.get(cid) is None


def test_conversations_expire_after_their_last_turn(database_url):
    store = Store(database_url, conversation_ttl_s=0.6)
    cid = store.conversations.create()
    for _ in range(3):  # each turn restarts the time to live
        time.sleep(0.3)
        store.conversations.append(cid, {"question": "?"})
    assert len(store.conversations.get(cid)) == 3
    time.sleep(0.8)
    assert store.conversations.get(cid) is None
    with pytest.raises(ConversationNotFound):
        store.conversations.append(cid, {"question": "?"})
    assert store.conversations.purge_expired() == 1
    store.close()


def test_concurrent_appends_to_one_conversation_lose_no_turn(database_url):
    cid = Store(database_url).conversations.create()
    n_threads, each, errors = 6, 8, []

    def writer(i: int) -> None:
        store = Store(database_url)
        try:
            for j in range(each):
                store.conversations.append(cid, {"question": f"{i}-{j}"})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    turns = Store(database_url).conversations.get(cid)
    assert sorted(t["question"] for t in turns) == sorted(f"{i}-{j}" for i in range(n_threads) for j in range(each))


# ---------------------------------------------------------------- configuration and failures


def test_urls_are_checked_and_passwords_never_shown():
    with pytest.raises(StoreError, match="not supported"):
        Store("mysql://u:p@localhost/qa")
    with pytest.raises(StoreError, match="file"):
        Store("sqlite://")
    store = Store("postgresql://qa:s3cret@db.example:5432/qa")
    assert "s3cret" not in store.url and store.db.engine.dialect.driver == "psycopg"


def test_an_unreachable_server_is_unavailable_not_a_crash():
    from servers import free_port

    store = Store(f"postgresql://qa:s3cret@127.0.0.1:{free_port()}/qa")
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable, match="unavailable") as caught:
        store.feedback.count()
    assert time.monotonic() - t0 < 15 and "s3cret" not in str(caught.value)


def test_settings_choose_the_database(tmp_path):
    from qa.config import Settings
    from qa.store import open_store

    default = open_store(Settings(_env_file=None, data_dir=tmp_path / "data"))
    assert default.db.sqlite_path == tmp_path / "data" / "feedback.sqlite3"  # where feedback has always been
    shared = open_store(Settings(_env_file=None, database_url="postgresql://qa@db/qa", conversation_ttl_s=90))
    assert shared.db.dialect == "postgresql" and shared.conversations.ttl_s == 90
