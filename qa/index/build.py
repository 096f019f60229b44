"""`qa ingest`: documents folder -> index build, incremental by file hash, swapped in atomically."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import Settings
from ..datatypes import Chunk, Document
from ..embed import Embedder
from ..ingest import load_folder
from ..ingest.split import split_document
from ..sentences import split_sentences
from .store import (ChunkSentences, Index, IndexUnavailable, Manifest, build_lock, current_path, load_index,
                    new_build_id, now_iso, read_manifest, remove_debris, write_build)

SPLITTER = "langchain RecursiveCharacterTextSplitter, heading-aware"
# Bump when cleaning or splitting changes the text made from an unchanged file: its file hash is the same,
# so without this its old chunks would be reused. 2: a quoted lower-case word continues a sentence. 3: a
# footnote marker glued to a date's year is dropped ("8 februari 20162").
TEXT_PIPELINE = 3


class IngestError(Exception):
    """Nothing usable to index; the previous index is left as it was."""


@dataclass
class IngestReport:
    files: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    chunks: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    embedded_chunks: int = 0
    debris_removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    build_path: str | None = None

    @property
    def wrote_build(self) -> bool:
        return self.build_path is not None


def chunking_settings(settings: Settings) -> dict:
    return {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "splitter": SPLITTER,
            "text_pipeline": TEXT_PIPELINE}


def _previous(root: Path, embed_model: str, chunking: dict) -> Index | None:
    """The current build if its chunks and vectors can be reused, else None (a full rebuild follows)."""
    path = current_path(root)
    if path is None:
        return None
    try:
        manifest = read_manifest(path)
        if manifest.embed_model != embed_model or manifest.chunking != chunking:
            return None
        return load_index(root, expect_model=embed_model)
    except IndexUnavailable:
        return None  # a corrupt previous build is simply not reused


def ingest(folder: Path, root: Path, settings: Settings, get_embedder: Callable[[], Embedder],
           progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
    """Build or refresh the index at `root` from `folder`. The embedder is loaded only if something must be embedded."""
    started = time.perf_counter()
    report = IngestReport()
    with build_lock(root):
        report.debris_removed = remove_debris(root)
        loaded = load_folder(folder)
        report.skipped = [(s.doc, s.reason) for s in loaded.skipped]
        report.files = len(loaded.documents)
        chunking = chunking_settings(settings)
        previous = _previous(root, settings.embed_model, chunking)
        _classify(report, loaded.documents, previous)
        if previous is not None and not (report.added or report.changed or report.removed):
            _summarise(report, previous.chunks)
        else:
            chunks, vectors, sentences = _chunks_and_vectors(loaded.documents, previous, settings, get_embedder,
                                                             report, progress)
            if not chunks:
                raise IngestError(f"no indexable text in {folder} ({len(report.skipped)} files skipped); "
                                  "the previous index, if any, is unchanged")
            _summarise(report, chunks)
            manifest = Manifest(build_id=new_build_id(), built_at=now_iso(), embed_model=settings.embed_model,
                                embed_dim=int(vectors.shape[1]), chunking=chunking,
                                files={d.doc: d.sha256 for d in loaded.documents}, chunk_count=len(chunks),
                                languages=report.languages)
            indexed_at = {d.doc: _indexed_at(d, previous, manifest.built_at) for d in loaded.documents}
            report.build_path = str(write_build(root, manifest, loaded.documents, chunks, vectors, sentences,
                                                indexed_at))
    report.seconds = time.perf_counter() - started
    return report


def _classify(report: IngestReport, docs: list[Document], previous: Index | None) -> None:
    old = previous.manifest.files if previous else {}
    for d in docs:
        if d.doc not in old:
            report.added.append(d.doc)
        elif old[d.doc] != d.sha256:
            report.changed.append(d.doc)
        else:
            report.unchanged.append(d.doc)
    current = {d.doc for d in docs}
    report.removed = sorted(set(old) - current)


def _indexed_at(doc: Document, previous: Index | None, now: str) -> str:
    if previous and doc.doc in previous.documents and previous.documents[doc.doc].sha256 == doc.sha256:
        return previous.documents[doc.doc].indexed_at
    return now


def _chunks_and_vectors(docs: list[Document], previous: Index | None, settings: Settings,
                        get_embedder: Callable[[], Embedder], report: IngestReport,
                        progress: Callable[[str, int, int], None] | None
                        ) -> tuple[list[Chunk], np.ndarray, list[ChunkSentences]]:
    """Reuse the chunks and vectors of unchanged files; split and embed the rest."""
    reuse = set(report.unchanged) if previous else set()
    old_rows: dict[str, list[int]] = {}
    if previous:
        for row, c in enumerate(previous.chunks):
            old_rows.setdefault(c.doc, []).append(row)
    chunks: list[Chunk] = []
    rows: list[int | None] = []  # previous row to copy the vector from, or None: embed
    for d in docs:
        if d.doc in reuse:
            chunks.extend(previous.chunks[r] for r in old_rows.get(d.doc, []))
            rows.extend(old_rows.get(d.doc, []))
        else:
            new = split_document(d, settings.chunk_size, settings.chunk_overlap)
            chunks.extend(new)
            rows.extend([None] * len(new))
    todo = [i for i, r in enumerate(rows) if r is None]
    report.embedded_chunks = len(todo)
    fresh, fresh_sentences = _embed(chunks, todo, get_embedder, progress) if todo else (None, [])
    dim = fresh.shape[1] if fresh is not None else previous.vectors.shape[1] if previous else 1
    vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    sentences: list[ChunkSentences | None] = [None] * len(chunks)
    for i, r in enumerate(rows):
        if r is not None:
            vectors[i] = previous.vectors[r]
            sentences[i] = previous.sentences[r]
    for i, vec, cs in zip(todo, fresh if fresh is not None else [], fresh_sentences):
        vectors[i] = vec
        sentences[i] = cs
    return chunks, vectors, sentences


def _embed(chunks: list[Chunk], todo: list[int], get_embedder: Callable[[], Embedder],
           progress: Callable[[str, int, int], None] | None) -> tuple[np.ndarray, list[ChunkSentences]]:
    embedder = get_embedder()
    spans = [[(s.start, s.end) for s in split_sentences(chunks[i].text, chunks[i].language)] for i in todo]
    total, done = len(todo) + sum(len(s) for s in spans), 0  # passages, then their sentences

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embedding", done, total)

    vectors, span_vectors = embedder.embed_passages_and_spans(
        [chunks[i].text for i in todo], spans, titles=[chunks[i].title for i in todo], progress=tick)
    return vectors, [ChunkSentences(s, v) for s, v in zip(spans, span_vectors)]


def _summarise(report: IngestReport, chunks: list[Chunk]) -> None:
    report.chunks = len(chunks)
    report.languages = dict(Counter(c.language for c in chunks))
