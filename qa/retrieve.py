"""Question -> ranked Hits: dense and lexical search, fused with the question's and each passage's language in mind.

Lexical matching only means something when question and passage share a language: a French question's
stems never match Dutch text, they only add noise. So the lexical list is built from the passages in the
question's language, and reciprocal-rank fusion weighs it per passage: full weight where the passage's
language is the question's, none elsewhere (measured in eval/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .datatypes import Hit
from .embed import Embedder
from .index import Index

Fusion = Literal["hybrid", "rrf", "dense", "lexical"]
RRF_K = 60


@dataclass(frozen=True)
class RetrievalSettings:
    fusion: Fusion = "hybrid"
    pool: int = 50  # candidates taken from each retriever before fusion
    lexical_weight: float = 1.0  # weight of the lexical list for same-language passages (hybrid)


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: RetrievalSettings = RetrievalSettings()):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._languages = np.array([c.language for c in index.chunks])

    def search(self, question: str, k: int, language: str) -> list[Hit]:
        return self.search_with_vector(question, k, language)[0]

    def search_with_vector(self, question: str, k: int, language: str) -> tuple[list[Hit], np.ndarray]:
        """The hits, and the question's vector for the steps after retrieval to reuse."""
        s = self.settings
        query = self.embedder.embed_queries([question])[0]
        dense = self._dense(query) if s.fusion != "lexical" else {}
        lexical = self._lexical(question, language) if s.fusion != "dense" else {}
        if s.fusion == "dense":
            fused = {row: score for row, (score, _) in dense.items()}
        elif s.fusion == "lexical":
            fused = {row: score for row, (score, _) in lexical.items()}
        else:
            fused = self._rrf(dense, lexical, language)
        best = sorted(fused, key=lambda r: fused[r], reverse=True)[:k]
        return [Hit(chunk=self.index.chunks[r], score=float(fused[r]), rank=i + 1,
                    dense_score=dense[r][0] if r in dense else None,
                    lexical_score=lexical[r][0] if r in lexical else None)
                for i, r in enumerate(best)], query

    def _dense(self, query: np.ndarray) -> dict[int, tuple[float, int]]:
        """row -> (cosine, rank) of the pool nearest passages."""
        rows, scores = self.index.dense.search(query, self.settings.pool)
        return {int(r): (float(s), i + 1) for i, (r, s) in enumerate(zip(rows, scores))}

    def _lexical(self, question: str, language: str) -> dict[int, tuple[float, int]]:
        """row -> (BM25, rank) of the pool best passages written in the question's language."""
        scores = self.index.lexical.scores(question, language)
        if self.settings.fusion == "hybrid":
            scores = np.where(self._languages == language, scores, 0.0)
        top = np.argsort(-scores)[: self.settings.pool]
        top = [int(r) for r in top if scores[r] > 0]
        return {r: (float(scores[r]), i + 1) for i, r in enumerate(top)}

    def _rrf(self, dense: dict, lexical: dict, language: str) -> dict[int, float]:
        fused: dict[int, float] = {}
        for row, (_, rank) in dense.items():
            fused[row] = 1.0 / (RRF_K + rank)
        for row, (_, rank) in lexical.items():
            fused[row] = fused.get(row, 0.0) + self.settings.lexical_weight / (RRF_K + rank)
        return fused
