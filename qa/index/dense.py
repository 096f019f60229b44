"""Dense search: FAISS inner product over normalised vectors; the index type follows the collection's size.

- fewer than FLAT_MAX_ROWS vectors: `IndexFlatIP`, exact. A union's collection (hundreds to tens of
  thousands of passages) is here.
- FLAT_MAX_ROWS or more: `IndexIVFScalarQuantizer` with 8-bit codes (inner product, "ivfsq8"), about 4·√n
  inverted lists (a power of two), trained on IVF_TRAIN_PER_LIST vectors a list, searched with
  `nprobe_for(nlist)` lists. A vector costs 768 bytes instead of 3,072, which is what lets a million passages
  and their five million sentences be searched in memory on one 24 GiB machine (docs/sizing.md: full
  vectors would take ~18 GB there). Its scores are approximate cosines; the retriever recomputes the exact
  ones from the stored vectors for its hits. Only vectors near list borders can be missed. Indexes built as
  `IndexIVFFlat` ("ivf", full vectors: recall@10 0.996 against 0.990 at 100k and nprobe 64 in
  bench/README.md, for 4x the memory) still load and can still be built (`kind="ivf"`).

Measured with `bench/scale.py` (bench/README.md, docs/sizing.md), one query on one core, 768 dimensions: flat
costs ~0.25 ms of CPU per 1,000 passages (15 ms p95 at 50k, 28 ms at 100k, 242 ms at 1M), so from 50k IVF
takes over. With 8-bit codes at 1M passages and 5M sentences, recall@10 against exact search is 0.964 for the
passages (4096 lists, nprobe 64: p95 2.5 ms) and 0.980 for the sentences (8192 lists, nprobe 128: p95 10 ms
for the 250 the retriever asks), on synthetic vectors harder than the real ones.

HNSW (M=32) is faster per query at the same recall (1.3 ms at 1M) and builds in about the same time, but its
graph depends on the order threads insert in (two builds of one folder differ); next to the ~160 ms the
question's embedding costs, IVF's 10 ms at 1M does not justify giving up reproducible builds.
`DenseIndex.build(vectors, kind="hnsw")` still makes one.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

FLAT_MAX_ROWS = 50_000  # below: exact flat search; from here: IVF
IVF_MIN_LISTS, IVF_MAX_LISTS = 256, 16_384
IVF_TRAIN_PER_LIST = 40  # k-means training points per list (FAISS warns below 39)
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 64, 128
ADD_ROWS = 65_536  # vectors converted to float32 and added at a time
# FAISS's default is 25: 10 trains in 2/5 of the time, and the recall measured with 10 meets the goal (docs/sizing.md)
IVF_KMEANS_ITERATIONS = 10
KINDS = ("flat", "ivf", "ivfsq8", "hnsw")


def choose_kind(rows: int) -> str:
    """The index type for a collection of `rows` vectors."""
    return "flat" if rows < FLAT_MAX_ROWS else "ivfsq8"


def ivf_lists(rows: int) -> int:
    """Inverted lists for an IVF index over `rows` vectors: ~4·√rows, rounded to a power of two."""
    target = 4 * math.sqrt(max(rows, 1))
    return int(min(IVF_MAX_LISTS, max(IVF_MIN_LISTS, 2 ** round(math.log2(target)))))


def nprobe_for(nlist: int) -> int:
    """Lists searched per query: 1/64 of them, at least 32.

    Measured at 1M passages with their 5M sentences (docs/sizing.md): 1/64 keeps recall@10 against exact search
    at 0.964 (passages, 4096 lists) and 0.980 (sentences, 8192 lists) and halves the search's CPU against
    1/32 (0.982 and 0.988), which the end-to-end p95 of 50 ms needs. Up to 100k passages the floor of 32
    decides (recall@10 0.99)."""
    return int(min(nlist, max(32, nlist // 64)))


class DenseIndex:
    def __init__(self, index: faiss.Index):
        self._index = index
        self.size = index.ntotal
        self.dim = index.d
        self.kind = _kind_of(index)
        if self.kind in ("ivf", "ivfsq8"):
            ivf = faiss.extract_index_ivf(index)
            ivf.nprobe = nprobe_for(ivf.nlist)
        elif self.kind == "hnsw":
            index.hnsw.efSearch = max(index.hnsw.efSearch, HNSW_EF_SEARCH)

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str | None = None) -> "DenseIndex":
        """An index over the rows of `vectors` (unit length); `kind` defaults to `choose_kind(len(vectors))`.

        `vectors` may be float16 and memory-mapped: they are added a block at a time, as float32, so a build
        never holds a float32 copy of them all."""
        if vectors.ndim != 2:
            raise ValueError(f"expected a 2-D array of vectors, got shape {vectors.shape}")
        rows, dim = vectors.shape
        kind = kind or choose_kind(rows)
        if kind not in KINDS:
            raise ValueError(f"unknown dense index kind {kind!r}; use one of {', '.join(KINDS)}")
        if kind in ("ivf", "ivfsq8") and rows < IVF_MIN_LISTS * IVF_TRAIN_PER_LIST // 4:
            kind = "flat"  # too few vectors to train the lists: exact search is cheap anyway
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            nlist = min(ivf_lists(rows), max(1, rows // IVF_TRAIN_PER_LIST))
            if kind == "ivf":
                index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            else:
                index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist,
                                                      faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = 1234  # deterministic k-means
            index.cp.niter = IVF_KMEANS_ITERATIONS
            index.train(np.ascontiguousarray(_training_sample(vectors, nlist * IVF_TRAIN_PER_LIST), dtype=np.float32))
        for start in range(0, rows, ADD_ROWS):
            index.add(np.ascontiguousarray(vectors[start:start + ADD_ROWS], dtype=np.float32))
        return cls(index)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        return cls(faiss.read_index(str(path)))

    def search(self, query: np.ndarray, k: int, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine scores of the k nearest passages, best first; only rows in `among` when given."""
        k = min(k, self.size if among is None else len(among))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None if among is None else self._restricted(among)
        scores, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k,
                                          params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def _restricted(self, among: np.ndarray) -> faiss.SearchParameters:
        """Search parameters that keep to the given rows (FAISS's ID selector), with this index's own depth."""
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(among, dtype=np.int64))
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self._index.hnsw.efSearch)
        if self.kind in ("ivf", "ivfsq8"):
            return faiss.SearchParametersIVF(sel=selector, nprobe=faiss.extract_index_ivf(self._index).nprobe)
        return faiss.SearchParameters(sel=selector)


def _kind_of(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    try:
        ivf = faiss.extract_index_ivf(index)
    except (RuntimeError, TypeError, ValueError):
        return "flat"
    return "ivfsq8" if isinstance(faiss.downcast_index(ivf), faiss.IndexIVFScalarQuantizer) else "ivf"


def _training_sample(vectors: np.ndarray, count: int) -> np.ndarray:
    """An evenly spread, deterministic sample (rows are in document order, so take every step-th)."""
    if len(vectors) <= count:
        return vectors
    step = len(vectors) / count
    return vectors[(np.arange(count) * step).astype(np.int64)]
