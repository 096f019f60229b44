"""Scale benchmark: FAISS index types and the bm25s lexical index at 10k, 100k and 1M passages.

    nice -n 19 python bench/scale.py dense  --sizes 10000 100000 [--kinds flat hnsw ivf ivfpq ivfsq8]
    nice -n 19 python bench/scale.py lexical --sizes 10000 100000
    nice -n 19 python bench/scale.py truncation --index /path/to/embeddinggemma/index
    nice -n 19 python bench/scale.py choice --sizes 10000 30000 100000   # what qa.dense picks, measured
    nice -n 19 python bench/scale.py contrast --index DIR      # synthetic vs real neighbour structure

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

    def __init__(self, n: int, dim: int = DIM, seed: int = 7, uniform: bool = False):
        self.n, self.dim, self.uniform = n, dim, uniform
        rng = np.random.default_rng(seed)
        self.clusters = max(20, n // 1000)
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
            rng = np.random.default_rng([self.seed, start])
            yield self._draw(rng, min(BATCH, self.n - start))

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
    """Same rule as qa.dense (kept here so the bench can run other kinds at any size)."""
    try:
        from qa.dense import ivf_lists as rule

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
        from qa.dense import DenseIndex

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
    from qa.lexical import LexicalIndex

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
    from qa.dense import DenseIndex
    from qa.embed import configured_embedder
    from qa.evaluate import evaluate_retrieval, load_questions
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
                              DenseIndex.build(v), index.lexical, index.documents)
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
    sentences = np.vstack([s.vectors for s in index.sentences])
    for name, db in (("real chunks", index.vectors), ("real sentences", sentences)):
        pick = rng.choice(len(db), min(400, len(db)), replace=False)
        rows.append({"bench": "contrast", "data": name, "n": len(db), **neighbour_stats(db, db[pick], pick)})
        synthetic = Synthetic(len(db))
        rows.append({"bench": "contrast", "data": "synthetic", "n": len(db),
                     **neighbour_stats(np.vstack(list(synthetic.batches())), synthetic.queries(400))})
    return rows


# ---------------------------------------------------------------- driver


def child(args: list[str]) -> list[dict]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return [{"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed", "args": args}]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["dense", "lexical", "truncation", "choice", "contrast", "_one"])
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
    args = parser.parse_args()

    if args.what == "_one":  # a child: one configuration, JSON lines on stdout
        rows = (run_lexical(args.n, args.corpus) if args.kind == "lexical"
                else run_dense(args.kind, args.n, args.uniform))
        for row in rows:
            print(json.dumps(row))
        return

    if args.what == "truncation":
        rows = run_truncation(args.index, args.questions, args.dims)
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
