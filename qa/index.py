"""The index folder: write a build, swap it in atomically, load it back and check it.

Layout under the index root:
    current -> builds/<build_id>     a symlink, replaced atomically (os.replace) when a build completes
    builds/<build_id>/               manifest.json, chunks.sqlite, vectors.npy, dense.faiss,
                                     sentence_vectors.npy, sentence_dense.faiss, lexical/
    builds/.tmp-<build_id>/          a build in progress; debris of a crashed build is removed by the next one
    .lock                            held (flock) by the one build that may run at a time
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .datatypes import Chunk, Document, PageSpan
from .dense import DenseIndex
from .lexical import LexicalIndex, tokenize

FORMAT_VERSION = 2  # 2: sentences embedded on their own and searched (sentence_dense.faiss)
KEEP_BUILDS = 2  # the previous build stays for a server that has not swapped yet
_FILES = ("chunks.sqlite", "vectors.npy", "sentence_vectors.npy", "dense.faiss", "sentence_dense.faiss")


class IndexUnavailable(Exception):
    """An index that cannot be used: missing, corrupt, or built with another embedder."""


@dataclass
class Manifest:
    build_id: str
    built_at: str
    embed_model: str
    embed_dim: int
    chunking: dict
    files: dict[str, str]  # doc -> sha256 of the source file
    chunk_count: int
    languages: dict[str, int]
    checksums: dict[str, str] = field(default_factory=dict)  # index file -> sha256, to refuse a corrupted index
    format: int = FORMAT_VERSION

    def to_json(self) -> dict:
        return self.__dict__.copy()


@dataclass
class ChunkSentences:
    """The sentence spans of one chunk (offsets into chunk.text) and their vectors, row for row."""

    spans: list[tuple[int, int]]
    vectors: np.ndarray


@dataclass
class DocumentInfo:
    doc: str
    title: str
    publisher: str | None
    date: str | None
    sha256: str
    chunk_count: int
    languages: dict[str, int]
    indexed_at: str


@dataclass
class Index:
    """A loaded, immutable index. Row i of `chunks` is row i of the vectors and of the lexical index."""

    path: Path
    manifest: Manifest
    chunks: list[Chunk]
    vectors: np.ndarray
    sentences: list["ChunkSentences"]  # per chunk row
    dense: DenseIndex
    sentence_dense: DenseIndex  # over every chunk's sentence vectors, chunk after chunk
    lexical: LexicalIndex
    documents: dict[str, DocumentInfo]

    def __post_init__(self) -> None:
        self._rows = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        # the chunk row of each row of sentence_dense
        self.sentence_rows = np.repeat(np.arange(len(self.chunks)), [len(s.spans) for s in self.sentences])
        self._texts: dict[str, str | None] = {}  # documents' cleaned texts, read on first use (see text_of)

    def row(self, chunk_id: str) -> int:
        return self._rows[chunk_id]

    @functools.cached_property
    def publishers(self) -> tuple[str, ...]:
        """The documents' distinct publishers, sorted."""
        return tuple(sorted({d.publisher for d in self.documents.values() if d.publisher}))

    @functools.cached_property
    def catalog_stems(self) -> frozenset[str]:
        """Dutch and French stems of every document's title and publisher: names the documents are known by."""
        return frozenset(s for d in self.documents.values() for text in (d.title or "", d.publisher or "")
                         for lang in ("nl", "fr") for s in tokenize(text, lang))

    def chunk(self, chunk_id: str) -> Chunk | None:
        row = self._rows.get(chunk_id)
        return None if row is None else self.chunks[row]

    def document_text(self, doc: str) -> tuple[str, list[PageSpan]] | None:
        with contextlib.closing(sqlite3.connect(f"file:{self.path / 'chunks.sqlite'}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT text, pages FROM documents WHERE doc = ?", (doc,)).fetchone()
        if row is None:
            return None
        return row[0], [PageSpan(**p) for p in json.loads(row[1])]


    def text_of(self, doc: str) -> str | None:
        """A document's cleaned text, read from the store once: answers look into it for every quote."""
        if doc not in self._texts:
            if len(self._texts) >= 64:  # a bound for large collections; the sample has five documents
                self._texts.pop(next(iter(self._texts)))
            found = self.document_text(doc)
            self._texts[doc] = found[0] if found else None
        return self._texts[doc]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------- writing


@contextlib.contextmanager
def build_lock(root: Path):
    """One build at a time per index root; a second one fails at once instead of racing the swap."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexUnavailable(f"another build of {root} is running") from None
        yield


def remove_debris(root: Path) -> list[str]:
    """Delete temporary folders left by a crashed build (call with the build lock held)."""
    builds = root / "builds"
    removed = []
    for tmp in builds.glob(".tmp-*") if builds.exists() else []:
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp.name)
    for link in root.glob(".current-*"):
        link.unlink(missing_ok=True)
    return removed


def _write_store(folder: Path, docs: list[Document], chunks: list[Chunk], sentences: list[ChunkSentences],
                 indexed_at: dict[str, str]) -> None:
    with contextlib.closing(sqlite3.connect(folder / "chunks.sqlite")) as db:
        db.executescript("""
            CREATE TABLE documents(doc TEXT PRIMARY KEY, title TEXT, publisher TEXT, date TEXT,
                                   sha256 TEXT, text TEXT, pages TEXT, indexed_at TEXT);
            CREATE TABLE chunks(row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc TEXT, title TEXT, text TEXT,
                                start INTEGER, "end" INTEGER, language TEXT, page INTEGER, section TEXT);
            CREATE TABLE sentences(row INTEGER PRIMARY KEY, chunk_row INTEGER, start INTEGER, "end" INTEGER);
        """)
        db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)", [
            (d.doc, d.title, d.publisher, d.date, d.sha256, d.text,
             json.dumps([p.__dict__ for p in d.pages]), indexed_at[d.doc]) for d in docs])
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)", [
            (i, c.chunk_id, c.doc, c.title, c.text, c.start, c.end, c.language, c.page, c.section)
            for i, c in enumerate(chunks)])
        rows = [(i, a, b) for i, cs in enumerate(sentences) for a, b in cs.spans]
        db.executemany("INSERT INTO sentences(chunk_row, start, \"end\") VALUES (?,?,?)", rows)
        db.commit()


def write_build(root: Path, manifest: Manifest, docs: list[Document], chunks: list[Chunk],
                vectors: np.ndarray, sentences: list[ChunkSentences], indexed_at: dict[str, str]) -> Path:
    """Write a complete build into a temporary folder, then swap `current` to it. Call with the lock held."""
    builds = root / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    tmp = builds / f".tmp-{manifest.build_id}"
    tmp.mkdir()
    _write_store(tmp, docs, chunks, sentences, indexed_at)
    np.save(tmp / "vectors.npy", vectors.astype(np.float32))
    sentence_vectors = _stack([cs.vectors for cs in sentences], vectors.shape[1])
    np.save(tmp / "sentence_vectors.npy", sentence_vectors)
    DenseIndex.build(vectors).save(tmp / "dense.faiss")
    DenseIndex.build(sentence_vectors).save(tmp / "sentence_dense.faiss")
    (tmp / "lexical").mkdir()
    LexicalIndex.build([c.text for c in chunks], [c.language for c in chunks]).save(tmp / "lexical")
    manifest.checksums = {f.relative_to(tmp).as_posix(): _sha256(f) for f in sorted(tmp.rglob("*"))
                          if f.is_file()}  # every file, the lexical index's too: none may be served corrupt
    _write_json_durably(tmp / "manifest.json", manifest.to_json())
    final = builds / manifest.build_id
    os.replace(tmp, final)
    _swap_current(root, final)
    _prune(root, keep=final)
    return final


def _stack(parts: list[np.ndarray], dim: int) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    return np.vstack(parts).astype(np.float32) if parts else np.zeros((0, dim), np.float32)


def _write_json_durably(path: Path, data: dict) -> None:
    with path.open("w") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())


def _swap_current(root: Path, target: Path) -> None:
    link = root / f".current-{target.name}"
    link.unlink(missing_ok=True)
    os.symlink(Path("builds") / target.name, link)
    os.replace(link, root / "current")  # rename(2) over the old symlink: readers see old or new, never neither


def _prune(root: Path, keep: Path) -> None:
    builds = sorted((p for p in (root / "builds").iterdir() if not p.name.startswith(".")),
                    key=lambda p: p.name, reverse=True)
    for old in [b for b in builds if b != keep][KEEP_BUILDS - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def new_build_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


# ---------------------------------------------------------------- reading


def current_path(root: Path) -> Path | None:
    link = root / "current"
    return link.resolve() if link.exists() else None


def read_manifest(path: Path) -> Manifest:
    try:
        data = json.loads((path / "manifest.json").read_text())
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnavailable(f"the index manifest at {path} is unreadable ({exc}); rebuild with `qa ingest`") from None
    if manifest.format != FORMAT_VERSION:
        raise IndexUnavailable(f"index format {manifest.format} at {path}; this version reads {FORMAT_VERSION}: "
                          "rebuild with `qa ingest`")
    return manifest


def load_index(root: Path, expect_model: str | None = None, verify: bool = True) -> Index:
    """Load the current build. Refuses an index built with another embedder or whose files fail their checksums."""
    path = current_path(root)
    if path is None:
        raise IndexUnavailable(f"no index at {root}; build one with `qa ingest FOLDER --index {root}`")
    manifest = read_manifest(path)
    if expect_model is not None and manifest.embed_model != expect_model:
        raise IndexUnavailable(f"the index at {root} was built with embedder {manifest.embed_model!r} but "
                          f"{expect_model!r} is configured (QA_EMBED_MODEL); rebuild with `qa ingest` "
                          "or configure the same embedder")
    if verify:
        unchecked = [name for name in _FILES if name not in manifest.checksums]
        if unchecked:
            raise IndexUnavailable(f"the index manifest at {path} has no checksum for {', '.join(unchecked)} "
                                   "(edited or truncated); rebuild with `qa ingest`")
        for name, digest in manifest.checksums.items():
            if not (path / name).exists() or _sha256(path / name) != digest:
                raise IndexUnavailable(f"index file {path / name} is missing or corrupt (checksum mismatch); "
                                  "rebuild with `qa ingest`")
    try:
        chunks, documents, spans = _read_store(path / "chunks.sqlite")
        vectors = np.load(path / "vectors.npy")
        sentences = _split_sentence_vectors(spans, np.load(path / "sentence_vectors.npy"))
        dense = DenseIndex.load(path / "dense.faiss")
        sentence_dense = DenseIndex.load(path / "sentence_dense.faiss")
        lexical = LexicalIndex.load(path / "lexical")
    except Exception as exc:  # any unreadable part means the whole build is unusable
        raise IndexUnavailable(f"the index at {path} cannot be read ({exc}); rebuild with `qa ingest`") from None
    if not (len(chunks) == len(vectors) == dense.size == lexical.size == manifest.chunk_count
            and sentence_dense.size == sum(len(s) for s in spans)):
        raise IndexUnavailable(f"the index at {path} is inconsistent (chunk and vector counts differ); "
                          "rebuild with `qa ingest`")
    return Index(path, manifest, chunks, vectors, sentences, dense, sentence_dense, lexical, documents)


def _split_sentence_vectors(spans: list[list[tuple[int, int]]], matrix: np.ndarray) -> list[ChunkSentences]:
    if sum(len(s) for s in spans) != len(matrix):
        raise ValueError("sentence rows and sentence vectors differ in number")
    out, at = [], 0
    for chunk_spans in spans:
        out.append(ChunkSentences(chunk_spans, matrix[at:at + len(chunk_spans)]))
        at += len(chunk_spans)
    return out


def _read_store(db_path: Path) -> tuple[list[Chunk], dict[str, DocumentInfo], list[list[tuple[int, int]]]]:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        chunks = [Chunk(chunk_id=r[0], doc=r[1], title=r[2], text=r[3], start=r[4], end=r[5],
                        language=r[6], page=r[7], section=r[8])
                  for r in db.execute('SELECT chunk_id, doc, title, text, start, "end", language, page, section '
                                      "FROM chunks ORDER BY row")]
        docs = db.execute("SELECT doc, title, publisher, date, sha256, indexed_at FROM documents ORDER BY doc").fetchall()
        spans: list[list[tuple[int, int]]] = [[] for _ in chunks]
        for chunk_row, a, b in db.execute('SELECT chunk_row, start, "end" FROM sentences ORDER BY row'):
            spans[chunk_row].append((a, b))
    stats: dict[str, dict[str, int]] = {}
    for c in chunks:
        stats.setdefault(c.doc, {}).setdefault(c.language, 0)
        stats[c.doc][c.language] += 1
    documents = {d[0]: DocumentInfo(doc=d[0], title=d[1], publisher=d[2], date=d[3], sha256=d[4],
                                    chunk_count=sum(stats.get(d[0], {}).values()),
                                    languages=stats.get(d[0], {}), indexed_at=d[5]) for d in docs}
    return chunks, documents, spans
