"""The index folder: write a build, swap it in atomically, load it back and check it.

Layout under the index root:
    current -> builds/<build_id>     a symlink, replaced atomically (os.replace) when a build completes
    builds/<build_id>/               manifest.json, chunks.sqlite, vectors.npy, dense.faiss,
                                     sentence_vectors.npy, sentence_dense.faiss, lexical/
    builds/.tmp-<build_id>/          a build in progress; debris of a crashed build is removed by the next one
    .lock                            held (flock) by the one build that may run at a time

What a loaded index keeps in memory (docs/sizing.md has the measured sizes): the FAISS indexes and the
lexical index. The vectors files are memory-mapped, read only where an answer looks (the exact cosines of
its hits, its evidence sentences), and the chunks are read from chunks.sqlite on demand (`qa.tables`).
So a vector is held in memory once, by its FAISS index, and a build must never be rewritten in place: a
memory-mapped file that shrinks under a running server takes the server down (builds are written to a new
folder and swapped, see `write_build`).
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..datatypes import Chunk, Document, PageSpan
from .dense import DenseIndex
from .lexical import LexicalIndex, tokenize
from .tables import ChunkSentences, ChunkTable, NpyRows, SentenceTable, connect_read_only

# 2: sentences embedded on their own and searched (sentence_dense.faiss), vectors stored as float32.
# 3: the same files, vectors stored as float16 (half the disk and page cache; the eval scores of both types are
#    compared in docs/sizing.md). Format 2 builds still load as they are: the .npy header names the type.
FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)
STORED_DTYPE = np.float16
_WRITE_ROWS = 65_536  # vectors copied into a build's .npy file at a time
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
    """A loaded, immutable index. Row i of `chunks` is row i of the vectors and of the lexical index.

    `chunks` and `sentences` are sequences read on demand (`qa.tables`), `vectors` a read-only memory map;
    plain lists and arrays work as well (a variant built in memory by a benchmark)."""

    path: Path
    manifest: Manifest
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    sentences: Sequence[ChunkSentences]  # per chunk row
    dense: DenseIndex
    sentence_dense: DenseIndex  # over every chunk's sentence vectors, chunk after chunk
    lexical: LexicalIndex
    documents: dict[str, DocumentInfo]

    def __post_init__(self) -> None:
        # the chunk row of each row of sentence_dense
        self.sentence_rows = (self.sentences.chunk_rows() if isinstance(self.sentences, SentenceTable) else
                              np.repeat(np.arange(len(self.chunks), dtype=np.int32),
                                        [len(s.spans) for s in self.sentences]))
        self._rows: dict[str, int] | None = None  # chunk id -> row, for chunks held in a plain list
        self._texts: dict[str, str | None] = {}  # documents' cleaned texts, read on first use (see text_of)
        # chunk rows and sentence rows of sets of documents, for searches scoped to them (a handful of publishers)
        self._document_rows: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}

    def _row_of(self, chunk_id: str) -> int | None:
        if isinstance(self.chunks, ChunkTable):
            return self.chunks.row_of(chunk_id)
        if self._rows is None:
            self._rows = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        return self._rows.get(chunk_id)

    def row(self, chunk_id: str) -> int:
        row = self._row_of(chunk_id)
        if row is None:
            raise KeyError(chunk_id)
        return row

    def rows_of_documents(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The given documents' chunk rows and their rows of `sentence_dense`: what a search scoped to those
        documents may return."""
        key = tuple(sorted(docs))
        if key not in self._document_rows:
            if isinstance(self.chunks, ChunkTable):
                rows = self.chunks.rows_of_documents(key)
            else:
                rows = np.array([i for i, c in enumerate(self.chunks) if c.doc in key], dtype=np.int64)
            self._document_rows[key] = (rows, np.flatnonzero(np.isin(self.sentence_rows, rows)))
        return self._document_rows[key]

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
        row = self._row_of(chunk_id)
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


def _write_store(folder: Path, docs: Sequence[Document], chunks: Sequence[Chunk], sentences: SentenceTable,
                 indexed_at: dict[str, str]) -> None:
    with contextlib.closing(sqlite3.connect(folder / "chunks.sqlite")) as db:
        db.executescript("""
            CREATE TABLE documents(doc TEXT PRIMARY KEY, title TEXT, publisher TEXT, date TEXT,
                                   sha256 TEXT, text TEXT, pages TEXT, indexed_at TEXT);
            CREATE TABLE chunks(row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc TEXT, title TEXT, text TEXT,
                                start INTEGER, "end" INTEGER, language TEXT, page INTEGER, section TEXT);
            CREATE TABLE sentences(row INTEGER PRIMARY KEY, chunk_row INTEGER, start INTEGER, "end" INTEGER);
        """)
        # generators, not lists: a million chunks' rows never need to be in memory at once
        db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)", (
            (d.doc, d.title, d.publisher, d.date, d.sha256, d.text,
             json.dumps([p.__dict__ for p in d.pages]), indexed_at[d.doc]) for d in docs))
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)", (
            (i, c.chunk_id, c.doc, c.title, c.text, c.start, c.end, c.language, c.page, c.section)
            for i, c in enumerate(chunks)))
        owners = sentences.chunk_rows()
        db.executemany("INSERT INTO sentences(chunk_row, start, \"end\") VALUES (?,?,?)", (
            (int(owners[j]), int(a), int(b)) for j, (a, b) in enumerate(sentences.spans)))
        db.commit()


def write_build(root: Path, manifest: Manifest, docs: Sequence[Document], chunks: Sequence[Chunk],
                vectors: np.ndarray, sentences: Sequence[ChunkSentences], indexed_at: dict[str, str]) -> Path:
    """Write a complete build into a temporary folder, then swap `current` to it. Call with the lock held.

    `vectors` may be a memory map and `sentences` a `SentenceTable` over one: they are copied in blocks, so a
    build of a million passages needs no second copy of its vectors in memory. The FAISS indexes are built
    from the stored (float16) vectors, so their scores are those of the vectors an answer later reads."""
    builds = root / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    tmp = builds / f".tmp-{manifest.build_id}"
    tmp.mkdir()
    dim = int(vectors.shape[1])
    table = SentenceTable.from_chunks(sentences, dim)
    _write_store(tmp, docs, chunks, table, indexed_at)
    np.save(tmp / "vectors.npy", np.asarray(vectors).astype(STORED_DTYPE))
    _save_blocks(tmp / "sentence_vectors.npy", table.vectors)
    del table
    DenseIndex.build(NpyRows(tmp / "vectors.npy")).save(tmp / "dense.faiss")
    DenseIndex.build(NpyRows(tmp / "sentence_vectors.npy")).save(tmp / "sentence_dense.faiss")
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


def _save_blocks(path: Path, matrix: np.ndarray) -> None:
    """`matrix` as a .npy file of STORED_DTYPE, copied a block of rows at a time."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=STORED_DTYPE, shape=matrix.shape)
    for start in range(0, len(matrix), _WRITE_ROWS):
        out[start:start + _WRITE_ROWS] = matrix[start:start + _WRITE_ROWS]
    out.flush()
    del out


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
    if manifest.format not in READABLE_FORMATS:
        readable = " and ".join(str(f) for f in READABLE_FORMATS)
        raise IndexUnavailable(f"index format {manifest.format} at {path}; this version reads formats {readable}: "
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
        chunks, documents, offsets, spans = _read_store(path / "chunks.sqlite")
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        sentences = SentenceTable(offsets, spans, np.load(path / "sentence_vectors.npy", mmap_mode="r"))
        dense = DenseIndex.load(path / "dense.faiss")
        sentence_dense = DenseIndex.load(path / "sentence_dense.faiss")
        lexical = LexicalIndex.load(path / "lexical")
    except Exception as exc:  # any unreadable part means the whole build is unusable
        raise IndexUnavailable(f"the index at {path} cannot be read ({exc}); rebuild with `qa ingest`") from None
    if not (len(chunks) == len(vectors) == dense.size == lexical.size == manifest.chunk_count
            and sentence_dense.size == len(spans)):
        raise IndexUnavailable(f"the index at {path} is inconsistent (chunk and vector counts differ); "
                          "rebuild with `qa ingest`")
    return Index(path, manifest, chunks, vectors, sentences, dense, sentence_dense, lexical, documents)


def _read_store(db_path: Path) -> tuple[ChunkTable, dict[str, DocumentInfo], np.ndarray, np.ndarray]:
    """The chunk table, the documents, and the sentences as offsets per chunk and (start, end) rows."""
    with contextlib.closing(connect_read_only(db_path)) as db:
        count = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        if count and db.execute("SELECT MIN(row), MAX(row) FROM chunks").fetchone() != (0, count - 1):
            raise ValueError("the chunk rows are not numbered 0..n-1")
        docs = db.execute("SELECT doc, title, publisher, date, sha256, indexed_at FROM documents ORDER BY doc").fetchall()
        stats: dict[str, dict[str, int]] = {}
        for doc, language, n in db.execute("SELECT doc, language, COUNT(*) FROM chunks GROUP BY doc, language "
                                           "ORDER BY MIN(row)"):
            stats.setdefault(doc, {})[language] = n
        owners, spans = _sentence_rows(db.execute('SELECT chunk_row, start, "end" FROM sentences ORDER BY row'))
    if len(owners) and (np.any(np.diff(owners) < 0) or owners[0] < 0 or owners[-1] >= count):
        raise ValueError("the sentence rows are not in chunk order")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owners, minlength=count), dtype=np.int64)])
    documents = {d[0]: DocumentInfo(doc=d[0], title=d[1], publisher=d[2], date=d[3], sha256=d[4],
                                    chunk_count=sum(stats.get(d[0], {}).values()),
                                    languages=stats.get(d[0], {}), indexed_at=d[5]) for d in docs}
    return ChunkTable(db_path, count), documents, offsets, spans


def _sentence_rows(cursor: sqlite3.Cursor) -> tuple[np.ndarray, np.ndarray]:
    """(chunk row per sentence, (start, end) per sentence) as arrays, read a block of rows at a time."""
    owners, spans = [np.zeros(0, np.int64)], [np.zeros((0, 2), np.int32)]
    while block := cursor.fetchmany(100_000):
        rows = np.asarray(block, dtype=np.int64).reshape(-1, 3)
        owners.append(rows[:, 0])
        spans.append(rows[:, 1:].astype(np.int32))
    return np.concatenate(owners), np.concatenate(spans)
