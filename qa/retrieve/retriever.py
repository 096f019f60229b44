"""Question -> ranked Hits: dense and lexical search, fused with the question's language in mind.

Lexical matching only helps when the question shares a language with the passages it should find: a French
question's stems never match Dutch text and only add noise (measured in docs/evaluation.md: equal-weight fusion
drops French recall@5 from 0.86 to 0.56). So the lexical list's weight in reciprocal-rank fusion is set per
question language. Passages are found densely twice: by their own vector and by their best sentence's
(sentences embedded on their own, which ranks the passage that states the answer first more often: MRR 0.77
-> 0.80 in docs/evaluation.md). 
Members do not use the documents' words ("baas" for "werkgever", "le soir sur mon GSM" for "déconnexion"),
and a French member may ask about text that exists only in Dutch. So a question is searched in up to three
views (qa/lexicon/): as asked; rewritten with the document terms its member words stand for in their place
(densely; lexically those terms can be added beside the question's words, off by default); and rendered in
the other language's terms, searched lexically in that language, which lets the stemmed Dutch lexical list
serve a French question. A question that names an organisation ("la CSC", "volgens VIVO") is also searched
within the documents that organisation published. Questions confirmed against a passage can be remembered
(qa/retrieve/memory.py) and bring that passage to questions worded like them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..datatypes import Hit
from ..embed import Embedder
from ..index import Index
from ..lexicon import lexicon, organisations
from .memory import QuestionMemory

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
    # the document terms of the question's member words: their BM25 weight beside the question's own words,
    # and the fusion weight of the question embedded with them (0: not used)
    # (measured on the dev and test splits, docs/evaluation.md: the dense view raises both, the BM25 terms and the
    # rendering in the other language raise neither, so they are off by default)
    expansion_weight: float = 0.0
    expansion_dense: float = 0.5
    # fusion weight of the question rendered in the other language's terms, searched lexically, per language
    crossing_weight: dict[str, float] = field(default_factory=lambda: {"nl": 0.0, "fr": 0.0})
    # fusion weight of the passages confirmed for remembered questions close to this one (qa/retrieve/memory.py); off
    # by default: with the dev split remembered, the test split lost one recall@1 question and gained none
    memory_weight: float = 0.0
    # fusion weight of the question's dense and sentence lists kept to the documents published by an organisation
    # the question names ("la CSC", "volgens VIVO"; 0: off). A member who names the author means its documents;
    # across the whole index its passages can rank below other documents' on the same topic (docs/evaluation.md:
    # test recall@5 0.821 -> 0.857 at 1.0, as much as the question's own lists)
    scope_weight: float = 1.0


@dataclass(frozen=True)
class Searched:
    """The hits, and the vectors the steps after retrieval reuse: the question's, and the question rewritten
    in the documents' words when it has member words (None when not)."""

    hits: list[Hit]
    vector: np.ndarray
    rewritten: np.ndarray | None = None


@dataclass(frozen=True)
class Query:
    """One view of the question: the text searched, its language, and which lists it feeds (with weights).
    `terms`: document terms searched lexically beside the text, their BM25 scores added at `terms_weight`."""

    text: str
    language: str
    dense_weight: float
    lexical_weight: float
    terms: str = ""
    terms_weight: float = 0.0


def query_views(question: str, language: str, s: RetrievalSettings) -> list[Query]:
    """The question as asked (its lexical query with the document terms its member words stand for, at a
    lower weight), the question with those terms in place of its member words as a dense view (rewritten
    rather than with the terms appended: better on the dev and the test split, docs/evaluation.md "Question
    views"), and the question in the other language's terms, searched lexically in that language."""
    own = lexicon(language)
    terms = own.expansion(question) if s.expansion_weight > 0 or s.expansion_dense > 0 else ""
    views = [Query(question, language, 1.0, s.lexical_weight.get(language, 0.0), terms, s.expansion_weight)]
    if terms and s.expansion_dense > 0:
        views.append(Query(own.rewritten(question) or f"{question} {terms}", language, s.expansion_dense, 0.0))
    other = {"nl": "fr", "fr": "nl"}.get(language)
    rendered = own.rendered(question) if other and s.crossing_weight.get(language, 0.0) > 0 else ""
    if rendered:
        views.append(Query(rendered, other, 0.0, s.crossing_weight[language]))
    return views


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: RetrievalSettings = RetrievalSettings(),
                 memory: QuestionMemory | None = None):
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.memory = memory
        # the documents published by each set of organisations a question names, worked out once per set
        self._published: dict[tuple[organisations.Body, ...], list[str]] = {}

    def search(self, question: str, k: int, language: str) -> list[Hit]:
        return self.search_with_vector(question, k, language).hits

    def search_with_vector(self, question: str, k: int, language: str) -> Searched:
        """The hits, with the question's vectors for the steps after retrieval to reuse."""
        queries = query_views(question, language, self.settings)
        dense = [q for q in queries if q.dense_weight > 0]
        vectors = dict(zip((q.text for q in dense), self.embedder.embed_queries([q.text for q in dense])))
        lists = self._lists(queries, vectors)
        lists += self._scoped(question, vectors[question]) if self.settings.fusion != "lexical" else []
        fused = _rrf(lists)
        best = sorted(fused, key=lambda r: fused[r], reverse=True)[:k]
        vector = vectors[question]
        # exact passage cosines, also for passages that only the sentence or lexical list brought in
        cosines = self.index.vectors[best] @ vector if self.settings.fusion != "lexical" and best else None
        lexical = next((dict(l) for l, w, kind in lists if kind == "lexical"), {})
        hits = [Hit(chunk=self.index.chunks[r], score=float(fused[r]), rank=i + 1,
                    dense_score=None if cosines is None else float(cosines[i]), lexical_score=_score(lexical, r))
                for i, r in enumerate(best)]
        rewritten = next((vectors[q.text] for q in dense if q.text != question), None)
        return Searched(hits, vector, rewritten)

    def _lists(self, queries: list[Query], vectors: dict[str, np.ndarray]
               ) -> list[tuple[list[tuple[int, float]], float, str]]:
        """(ranked (row, score) list, fusion weight, kind) for each view and retriever in use."""
        s, out = self.settings, []
        for q in queries:
            if s.fusion in ("hybrid", "dense") and q.dense_weight > 0:
                out.append((self._dense(vectors[q.text]), q.dense_weight, "dense"))
                if s.sentence_weight > 0:
                    out.append((self._sentences(vectors[q.text]), q.dense_weight * s.sentence_weight, "sentence"))
            weight = q.lexical_weight
            if s.fusion == "lexical":  # lexical alone (a measured variant): every lexical view counts fully
                weight = 1.0 if weight > 0 or (q is queries[0] and len(queries) == 1) else 0.0
            if s.fusion != "dense" and weight > 0:
                out.append((self._lexical(q), weight, "lexical"))
        if self.memory is not None and s.memory_weight > 0 and s.fusion != "lexical":
            asked = queries[0].text
            out.append((self.memory.ranked(asked, vectors[asked]), s.memory_weight, "memory"))
        return out

    def _scoped(self, question: str, vector: np.ndarray) -> list[tuple[list[tuple[int, float]], float, str]]:
        """The dense and sentence lists kept to the documents of the organisations the question names, when
        those published some but not all of the indexed documents."""
        weight = self.settings.scope_weight
        named = tuple(organisations.asked(question, self.index.publishers)) if weight > 0 else ()
        if not named:
            return []
        if named not in self._published:
            self._published[named] = [d.doc for d in self.index.documents.values()
                                      if d.publisher and any(body.named_in(d.publisher) for body in named)]
        docs = self._published[named]
        if not docs or len(docs) == len(self.index.documents):
            return []
        rows, sentences = self.index.rows_of_documents(docs)
        out = [(self._dense(vector, rows), weight, "scoped")]
        if self.settings.sentence_weight > 0:
            out.append((self._sentences(vector, sentences), weight * self.settings.sentence_weight, "scoped"))
        return out

    def _dense(self, vector: np.ndarray, among: np.ndarray | None = None) -> list[tuple[int, float]]:
        rows, scores = self.index.dense.search(vector, self.settings.pool, among)
        return [(int(r), float(s)) for r, s in zip(rows, scores)]

    def _sentences(self, vector: np.ndarray, among: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Passages ranked by their best sentence's cosine to the question."""
        found, scores = self.index.sentence_dense.search(vector, self.settings.pool * SENTENCES_PER_PASSAGE, among)
        ranked: dict[int, float] = {}
        for sentence, score in zip(found, scores):
            ranked.setdefault(int(self.index.sentence_rows[sentence]), float(score))
        return list(ranked.items())[:self.settings.pool]

    def _lexical(self, q: Query) -> list[tuple[int, float]]:
        scores = self.index.lexical.scores(q.text, q.language)
        if q.terms and q.terms_weight > 0:
            scores = scores + q.terms_weight * self.index.lexical.scores(q.terms, q.language)
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
