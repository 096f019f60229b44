"""Row-addressed views of a build that keep little in memory: its chunks and its sentences.

A loaded index once held every chunk as a Python object and every vector twice (the .npy arrays and the
FAISS index's copy): at a million passages that is ~37 KB a passage, more than a 24 GiB machine has.
Searching needs only the FAISS index, the lexical index and, per question, a handful of rows, so:

- `ChunkTable` reads a chunk from the build's SQLite store when it is asked for (a primary-key lookup,
  tens of microseconds; a search reads its k hits);
- `SentenceTable` keeps each chunk's sentence spans as two small integer arrays and their vectors as a
  memory-mapped .npy file, so only the rows an answer looks at are ever read from disk.

Both behave as read-only sequences, row i being the i-th chunk, as the lists they replace did. `NpyRows`
reads a vectors file a block at a time for a build, without mapping it.
"""

from __future__ import annotations

import contextlib
import operator
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datatypes import Chunk

_CHUNK_COLUMNS = 'chunk_id, doc, title, text, start, "end", language, page, section'
_FETCH = 2048  # rows read at a time when a whole table is walked


def _chunk(r: tuple) -> Chunk:
    return Chunk(chunk_id=r[0], doc=r[1], title=r[2], text=r[3], start=r[4], end=r[5], language=r[6], page=r[7],
                 section=r[8])


def connect_read_only(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)


class ChunkTable(Sequence[Chunk]):
    """The chunks of a build's `chunks.sqlite`, read on demand; `table[row]` as `list[row]` would be."""

    def __init__(self, db_path: Path, count: int):
        self.db_path = db_path
        self._count = count
        self._db = connect_read_only(db_path)
        self._lock = threading.Lock()  # one connection, shared by request threads

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self._count))]
        row = operator.index(row)
        if row < 0:
            row += self._count
        if not 0 <= row < self._count:
            raise IndexError(f"chunk row {row} out of range ({self._count} chunks)")
        with self._lock:
            found = self._db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise IndexError(f"chunk row {row} is missing from {self.db_path}")
        return _chunk(found)

    def __iter__(self) -> Iterator[Chunk]:
        with contextlib.closing(connect_read_only(self.db_path)) as db:  # its own: a walk may be slow
            cursor = db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks ORDER BY row")
            while rows := cursor.fetchmany(_FETCH):
                yield from (_chunk(r) for r in rows)

    def rows_of_documents(self, docs: Sequence[str]) -> np.ndarray:
        """The rows of the given documents' chunks, in order."""
        marks = ",".join("?" * len(docs))
        with self._lock:
            found = self._db.execute(f"SELECT row FROM chunks WHERE doc IN ({marks}) ORDER BY row", tuple(docs))
            return np.array([r[0] for r in found.fetchall()], dtype=np.int64)

    def row_of(self, chunk_id: str) -> int | None:
        """The row of a chunk id (the store's unique index answers it), or None."""
        with self._lock:
            found = self._db.execute("SELECT row FROM chunks WHERE chunk_id = ?", (chunk_id,)).fetchone()
        return None if found is None else int(found[0])


@dataclass
class ChunkSentences:
    """The sentence spans of one chunk (offsets into chunk.text) and their vectors, row for row."""

    spans: list[tuple[int, int]]
    vectors: np.ndarray


class SentenceTable(Sequence[ChunkSentences]):
    """Every chunk's sentences: `table[row]` is that chunk's `ChunkSentences`.

    `offsets[i]:offsets[i + 1]` are chunk i's rows of `spans` (start, end) and of `vectors`, which may be a
    read-only memory map: a chunk's vectors are then read from disk when its sentences are asked for."""

    def __init__(self, offsets: np.ndarray, spans: np.ndarray, vectors: np.ndarray):
        if len(spans) != len(vectors) or int(offsets[-1]) != len(spans) or len(offsets) < 1:
            raise ValueError("sentence rows and sentence vectors differ in number")
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.spans = np.asarray(spans, dtype=np.int32).reshape(-1, 2)
        self.vectors = vectors

    @classmethod
    def from_chunks(cls, parts: Sequence[ChunkSentences], dim: int) -> "SentenceTable":
        """From one `ChunkSentences` per chunk (as ingest makes them); the vectors are stacked in memory."""
        if isinstance(parts, SentenceTable):
            return parts
        counts = [len(p.spans) for p in parts]
        offsets = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        spans = np.array([s for p in parts for s in p.spans], dtype=np.int32).reshape(-1, 2)
        blocks = [np.asarray(p.vectors, dtype=np.float32).reshape(-1, dim) for p in parts if len(p.spans)]
        vectors = np.vstack(blocks) if blocks else np.zeros((0, dim), np.float32)
        return cls(offsets, spans, vectors)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = operator.index(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"chunk row {row} out of range ({len(self)} chunks)")
        a, b = int(self.offsets[row]), int(self.offsets[row + 1])
        return ChunkSentences([(int(s), int(e)) for s, e in self.spans[a:b]], np.asarray(self.vectors[a:b]))

    def chunk_rows(self) -> np.ndarray:
        """The chunk row of each sentence row (int32: 4 bytes a sentence)."""
        return np.repeat(np.arange(len(self), dtype=np.int32), np.diff(self.offsets))


class NpyRows:
    """The rows of a 2-D .npy file, read with `pread` when sliced or indexed by an array of rows.

    A build walks millions of vectors once (FAISS training and adding); mapped, every page read would stay
    in the process's RSS until the kernel reclaims it (as much as the whole file), so a build reads the
    blocks into memory it frees instead."""

    def __init__(self, path: Path):
        self.path = path
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
            self._offset = f.tell()
        if len(shape) != 2 or fortran:
            raise ValueError(f"{path} does not hold a 2-D C-ordered array")
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(dtype), 2
        self._row_bytes = self.shape[1] * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, fd: int, start: int, stop: int) -> np.ndarray:
        data = os.pread(fd, (stop - start) * self._row_bytes, self._offset + start * self._row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(stop - start, self.shape[1])

    def __getitem__(self, key) -> np.ndarray:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if isinstance(key, slice):
                start, stop, step = key.indices(len(self))
                if step != 1:
                    raise IndexError("only contiguous slices")
                return self._read(fd, start, max(start, stop))
            rows = np.asarray(key, dtype=np.int64).ravel()
            return np.vstack([self._read(fd, int(r), int(r) + 1) for r in rows]) if len(rows) else \
                np.zeros((0, self.shape[1]), self.dtype)
        finally:
            os.close(fd)
