"""State shared by replicas, in this process: two apps over one PostgreSQL and one Redis (real servers, started by
tests/servers.py); what happens when either is unreachable; `qa db` and `qa serve`'s schema check; the index
watch that loads a build another replica swapped in. tests/test_replicas.py runs the same with real processes."""

from __future__ import annotations

import os
import sqlite3
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from qa.api import create_app
from qa.api.auth import hash_key
from qa.cli import main
from qa.index.swap import IndexWatch
from qa.store import SCHEMA_VERSION, Store

HELPDESK = "helpdesk-key-0123456789"
KEYS = {hash_key(HELPDESK): "helpdesk"}
FR_QUESTION = "Ai-je droit à une indemnité de télétravail ?"


@pytest.fixture
def replicas(qa_settings, qa_service, postgres_server, redis_server, request):
    """`replicas(n, **settings)` -> n started TestClients sharing one database and one Redis."""
    redis_server.flush()
    url = postgres_server.new_database(f"s{abs(hash(request.node.nodeid)) % 10**12}")
    clients = []

    def factory(n: int = 2, **overrides):
        values = dict(database_url=url, rate_limit_storage=redis_server.url, api_keys=KEYS, index_poll_s=0)
        values.update(overrides)
        for _ in range(n):
            client = TestClient(create_app(qa_settings(**values), qa_service))
            client.__enter__()
            clients.append(client)
        return clients[-n:]

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


def test_feedback_and_answers_given_through_one_replica_are_seen_through_the_other(replicas):
    a, b = replicas(2)
    answer = a.post("/v1/ask", json={"question": FR_QUESTION}).json()
    r = b.post("/v1/feedback", json={"answer_id": answer["answer_id"], "vote": "down", "consent": True,
                                     "question": FR_QUESTION, "comment": "te kort"})
    assert r.status_code == 201, r.text
    listed = a.get("/v1/feedback", headers={"Authorization": f"Bearer {HELPDESK}"}).json()
    assert listed["total"] == 1
    [row] = listed["feedback"]
    assert (row["answer_id"], row["answer"], row["question"]) == (answer["answer_id"], answer["answer"], FR_QUESTION)
    assert [c["chunk_id"] for c in row["citations"]] == [c["chunk_id"] for c in answer["citations"]]


def test_the_rate_limit_holds_across_replicas(replicas):
    a, b = replicas(2, rate_limit="6/minute")
    codes = [(a if i % 2 else b).get("/v1/documents").status_code for i in range(6)]
    assert codes == [200] * 6
    over = [a.get("/v1/documents"), b.get("/v1/documents")]
    assert [r.status_code for r in over] == [429, 429]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in over)


def test_an_unreachable_redis_leaves_each_replica_counting_in_memory(qa_settings, qa_service):
    from servers import free_port

    settings = qa_settings(rate_limit_storage=f"redis://127.0.0.1:{free_port()}/0", rate_limit="3/minute")
    with TestClient(create_app(settings, qa_service)) as c:
        assert [c.get("/v1/documents").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_redis_that_accepts_but_never_answers_does_not_hold_requests(qa_settings, qa_service):
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections complete in the backlog; nothing ever reads or replies
    try:
        settings = qa_settings(rate_limit_storage=f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        with TestClient(create_app(settings, qa_service)) as c:
            t0 = time.monotonic()
            assert c.get("/v1/documents").status_code == 200
            assert time.monotonic() - t0 < 10  # the socket timeout, then memory
    finally:
        silent.close()


def test_an_unreachable_database_is_a_503_not_a_crash(qa_settings, qa_service):
    from servers import free_port

    settings = qa_settings(database_url=f"postgresql://qa:pw@127.0.0.1:{free_port()}/qa", api_keys=KEYS)
    app = create_app(settings, qa_service)
    with TestClient(app) as c:
        answer = qa_service.ask(FR_QUESTION, generator="extractive")
        payload = app.state.qa.remember(answer)  # the answer still goes to the member, with an id
        assert payload["answer_id"] and payload["answer"] == answer.answer
        r = c.post("/v1/feedback", json={"answer": payload, "vote": "up", "consent": False})
        assert r.status_code == 503 and "database" in r.json()["detail"] and ":pw@" not in r.json()["detail"]
        r = c.get("/v1/feedback", headers={"Authorization": f"Bearer {HELPDESK}"})
        assert r.status_code == 503


def test_a_missing_server_binary_fails_in_ci_and_skips_elsewhere(monkeypatch):
    from servers import missing

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        missing("redis-server", "redis-server")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        missing("redis-server", "redis-server")


# ---------------------------------------------------------------- qa db, qa serve


def _cli(args: list[str], database_url: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["QA_DATABASE_URL"] = database_url
    from qa.config import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, args, env=env)
    finally:
        get_settings.cache_clear()


def test_qa_db_upgrade_and_status(database_url):
    assert _cli(["db", "status"], database_url).exit_code == 1  # empty: version 0
    done = _cli(["db", "upgrade"], database_url)
    assert done.exit_code == 0 and f"schema version 0 -> {SCHEMA_VERSION}" in done.output
    again = _cli(["db", "upgrade"], database_url)
    assert again.exit_code == 0 and "up to date" in again.output
    status = _cli(["db", "status"], database_url)
    assert status.exit_code == 0 and f"schema version {SCHEMA_VERSION}; this qa knows {SCHEMA_VERSION}" in status.output


def test_qa_serve_refuses_a_database_of_a_newer_schema(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    Store(f"sqlite:///{path}").ready()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    result = _cli(["serve", "--port", "1"], f"sqlite:///{path}")  # port 1: it must stop before binding
    assert result.exit_code == 2
    assert f"not starting: the database sqlite:///{path} has schema version {SCHEMA_VERSION + 1}" in result.output
    assert "upgrade qa" in result.output


# ---------------------------------------------------------------- the index watch


def test_the_index_watch_loads_a_build_swapped_in_elsewhere(tmp_path):
    root = tmp_path / "index"
    for build in ("b1", "b2", "b3"):
        (root / "builds" / build).mkdir(parents=True)
    (root / "current").symlink_to("builds/b1")
    service = SimpleNamespace(index=SimpleNamespace(path=root / "builds" / "b1"))
    loads, broken = [], {"b3"}

    def swap_in():
        target = (root / "current").resolve()
        if target.name in broken:
            raise RuntimeError("checksum mismatch")
        loads.append(target.name)
        service.index.path = target

    watch = IndexWatch(root, lambda: service, swap_in, interval_s=1)
    assert watch.check() is False and loads == []  # the build served
    (root / "current").unlink()
    (root / "current").symlink_to("builds/b2")
    assert watch.check() is True and loads == ["b2"]
    assert watch.check() is False
    (root / "current").unlink()
    (root / "current").symlink_to("builds/b3")
    assert watch.check() is False and watch.check() is False  # a build that fails to load is tried once
    assert loads == ["b2"] and service.index.path.name == "b2"  # the old build stays in service
    busy = IndexWatch(root, lambda: None, swap_in, interval_s=1, busy=lambda: True)
    assert busy.check() is False  # this process is building: it swaps the build in itself
