"""Index: chunks embedded and stored as one build folder, swapped in atomically, and read back for search.

- `build`: `qa ingest`: a documents folder -> a new build, incremental by file hash.
- `store`: the build's files (chunk store, vectors, manifest), the `current` link, loading an `Index`;
  `tables`: the chunk store and vectors read on demand (SQLite rows, memory-mapped arrays).
- `dense` (faiss) and `lexical` (BM25 over stemmed words): the two searchable views of the chunks.
- `swap`: a running server notices that `current` points at a new build and loads it.
"""

from .lexical import LexicalIndex, tokenize
from .store import (FORMAT_VERSION, ChunkSentences, DocumentInfo, Index, IndexUnavailable, Manifest, build_lock,
                    current_path, load_index)

__all__ = ["FORMAT_VERSION", "ChunkSentences", "DocumentInfo", "Index", "IndexUnavailable", "LexicalIndex", "Manifest",
           "build_lock", "current_path", "load_index", "tokenize"]
