"""Question -> ranked Hits: dense and lexical search, fused with the question's language in mind.

Lexical matching only helps when the question shares a language with the passages it should find: a French
question's stems never match Dutch text and only add noise (measured in eval/README.md: equal-weight fusion
drops French recall@5 from 0.86 to 0.56). So the lexical list's weight in reciprocal-rank fusion is set per
question language. Passages are found densely twice: by their own vector and by their best sentence's
(sentences embedded on their own, which ranks the passage that states the answer first more often: MRR 0.77
-> 0.80 in eval/README.md). A question may also come with a translation into the collection's main language
(`also`), which is searched densely and lexically as well: that is how a French question finds Dutch words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .datatypes import Hit
from .embed import Embedder
from .index import Index

Fusion = Literal["hybrid", "dense", "lexical"]
RRF_K = 60
SENTENCES_PER_PASSAGE = 5  # sentences fetched per passage wanted: a passage's sentences often rank together


@dataclass(frozen=True)
class RetrievalSettings:
    fusion: Fusion = "hybrid"
    pool: int = 50  # candidates taken from each list before fusion
    sentence_weight: float = 1.0  # weight of the best-sentence list (0: passage vectors only)
    # weight of the question's own lexical list in the fusion, per question language
    lexical_weight: dict[str, float] = field(default_factory=lambda: {"nl": 1.0, "fr": 0.0})


@dataclass(frozen=True)
class Query:
    text: str
    language: str
    vector: np.ndarray


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: RetrievalSettings = RetrievalSettings()):
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def search(self, question: str, k: int, language: str, also: list[tuple[str, str]] = ()) -> list[Hit]:
        return self.search_with_vector(question, k, language, also)[0]

    def search_with_vector(self, question: str, k: int, language: str,
                           also: list[tuple[str, str]] = ()) -> tuple[list[Hit], np.ndarray]:
        """The hits, and the question's vector for the steps after retrieval to reuse.

        `also`: (text, language) renderings of the question, e.g. its Dutch translation, searched too."""
        texts = [question, *(t for t, _ in also)]
        vectors = self.embedder.embed_queries(texts)
        queries = [Query(t, lang, v) for t, lang, v in zip(texts, [language, *(l for _, l in also)], vectors)]
        lists = self._lists(queries)
        fused = _rrf(lists)
        best = sorted(fused, key=lambda r: fused[r], reverse=True)[:k]
        # exact passage cosines, also for passages that only the sentence or lexical list brought in
        dense = self.index.vectors[best] @ vectors[0] if self.settings.fusion != "lexical" and best else None
        lexical = next((dict(l) for l, w, kind in lists if kind == "lexical"), {})
        hits = [Hit(chunk=self.index.chunks[r], score=float(fused[r]), rank=i + 1,
                    dense_score=None if dense is None else float(dense[i]), lexical_score=_score(lexical, r))
                for i, r in enumerate(best)]
        return hits, vectors[0]

    def _lists(self, queries: list[Query]) -> list[tuple[list[tuple[int, float]], float, str]]:
        """(ranked (row, score) list, fusion weight, kind) for each query and retriever in use."""
        s, out = self.settings, []
        for q in queries:
            if s.fusion in ("hybrid", "dense"):
                out.append((self._dense(q.vector), 1.0, "dense"))
                if s.sentence_weight > 0:
                    out.append((self._sentences(q.vector), s.sentence_weight, "sentence"))
            weight = 1.0 if s.fusion == "lexical" else s.lexical_weight.get(q.language, 0.0)
            if s.fusion != "dense" and weight > 0:
                out.append((self._lexical(q.text, q.language), weight, "lexical"))
        return out

    def _dense(self, vector: np.ndarray) -> list[tuple[int, float]]:
        rows, scores = self.index.dense.search(vector, self.settings.pool)
        return [(int(r), float(s)) for r, s in zip(rows, scores)]

    def _sentences(self, vector: np.ndarray) -> list[tuple[int, float]]:
        """Passages ranked by their best sentence's cosine to the question."""
        found, scores = self.index.sentence_dense.search(vector, self.settings.pool * SENTENCES_PER_PASSAGE)
        ranked: dict[int, float] = {}
        for sentence, score in zip(found, scores):
            ranked.setdefault(int(self.index.sentence_rows[sentence]), float(score))
        return list(ranked.items())[:self.settings.pool]

    def _lexical(self, text: str, language: str) -> list[tuple[int, float]]:
        scores = self.index.lexical.scores(text, language)
        return [(int(r), float(scores[r])) for r in _top(scores, self.settings.pool) if scores[r] > 0]


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Rows of the n best scores, best first: a partial sort, since a full one costs 25 ms at 1M passages."""
    if n >= len(scores):
        return np.argsort(-scores)
    best = np.argpartition(-scores, n - 1)[:n]
    return best[np.argsort(-scores[best])]


def _rrf(lists: list[tuple[list[tuple[int, float]], float, str]]) -> dict[int, float]:
    fused: dict[int, float] = {}
    for ranked, weight, _ in lists:
        for rank, (row, _) in enumerate(ranked, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (RRF_K + rank)
    return fused


def _score(scores: dict[int, float], row: int) -> float | None:
    return scores.get(row)
