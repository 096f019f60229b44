"""Evidence selection: the few sentences of the retrieved passages that answer the question best.

Sentence vectors come from the index (computed with the passage vectors at ingest), so choosing evidence
costs dot products, not model calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..datatypes import Hit
from ..fold import fold
from ..index import Index
from ..index.lexical import tokenize
from ..lexicon import LANGUAGES, WORD_LANGUAGES, word_pattern, words
from ..numbers import numbers_in
from ..sentences import Span, is_evidence_sentence, is_whole_line


def _injection(language: str) -> str:
    """A verb, any fillers, an object ("ignore all previous instructions"), or a phrase ("you are now"), in
    the words of [injection] of the language's lexicon."""
    def part(key: str, bound: bool = False) -> str:
        return word_pattern(words("injection", key, (language,)), bound=bound)

    return rf"{part('verbs')} (?:{part('fillers')} )*{part('objects')}|{part('phrases', bound=True)}"


# Instructions aimed at a model, planted in a document: never quoted, translated or shown to one.
_INJECTION = re.compile("|".join(_injection(language) for language in WORD_LANGUAGES), re.I)


def planted_instruction(text: str) -> bool:
    """True for a sentence that gives a model orders ("ignore your instructions", "you are now ...")."""
    return bool(_INJECTION.search(text))


@dataclass
class Evidence:
    hit: Hit
    span: Span  # offsets into hit.chunk.text
    score: float
    vector: np.ndarray
    standalone: bool = True  # a whole sentence; False for a short fact line ("469 unieke bezoekers")

    @property
    def text(self) -> str:
        return self.span.text

    @property
    def language(self) -> str:
        return self.hit.chunk.language


def candidates(index: Index, hits: list[Hit], fact_line: Callable[[str], bool] | None = None) -> list[Evidence]:
    """Quotable sentences of the hits, each once: overlapping chunks repeat sentences.

    `fact_line`: also keep the lines it accepts that are too short or unpunctuated to be sentences, marked as
    not standalone ("Dat leidde tot 11 wegwijzers.", "469 unieke bezoekers" in a list of figures): they can
    answer a "how many" question, never stand in for a sentence otherwise."""
    seen_offsets, seen_text, out = set(), set(), []
    for hit in hits:
        row = index.row(hit.chunk.chunk_id)
        sentences = index.sentences[row]
        for (a, b), vector in zip(sentences.spans, sentences.vectors):
            span = Span(a, b, hit.chunk.text[a:b])
            key_offset = (hit.chunk.doc, hit.chunk.start + a)
            key_text = fold(span.text)
            if key_offset in seen_offsets or key_text in seen_text:
                continue
            if planted_instruction(span.text):
                continue
            standalone = is_evidence_sentence(span, hit.chunk.text)
            if not standalone and not (fact_line and is_whole_line(span, hit.chunk.text) and fact_line(span.text)):
                continue
            seen_offsets.add(key_offset)
            seen_text.add(key_text)
            out.append(Evidence(hit, span, 0.0, vector, standalone))
    return out


def _overlap(question: str, language: str, sentence: Evidence) -> float:
    """Share of the question's stems found in the sentence (only meaningful in one language)."""
    if sentence.language != language:
        return 0.0
    q = set(tokenize(question, language))
    return len(q & set(tokenize(sentence.text, language))) / len(q) if q else 0.0


def _asks_number(language: str) -> str:
    """"hoeveel", "wanneer", "welk bedrag": [number_questions] of the language's lexicon."""
    def part(key: str) -> str:
        return word_pattern(words("number_questions", key, (language,)), bound=False)

    return rf"{part('phrases')}|{part('which')} {part('nouns')}"


ASKS_NUMBER = re.compile(rf"\b(?:{'|'.join(_asks_number(language) for language in LANGUAGES)})\b", re.I)
_HAS_NUMBER = re.compile(r"\d")


def score(question: str, language: str, query_vector: np.ndarray, pool: list[Evidence],
          lexical_weight: float = 0.15, number_weight: float = 0.1,
          chunk_weight: float = 1.0, rank_weight: float = 0.2,
          rewritten_vector: np.ndarray | None = None) -> list[Evidence]:
    """Each sentence scored by its and its passage's cosine to the question (a sentence's: the nearer of the
    question and the question rewritten in the documents' words, `rewritten_vector`), plus a little for shared
    stems, for its passage's rank in the fused search (which holds the lexical evidence a cosine misses)
    and, when the question asks how much or when, for stating a number; best first."""
    if not pool:
        return []
    vectors = np.stack([e.vector for e in pool])
    cosines = vectors @ query_vector
    if rewritten_vector is not None:
        # a member's own words ("baas", "'s avonds mailen") are far from the sentence that answers in the
        # documents' words; the question rewritten in those words is not: a sentence counts as close as the
        # nearer of the two (docs/evaluation.md, "Question views")
        cosines = np.maximum(cosines, vectors @ rewritten_vector)
    wants_number = bool(ASKS_NUMBER.search(question))
    for e, cos in zip(pool, cosines):
        # The passage's own similarity counts as much as the sentence's: alone, each ranks the evidence
        # passage about as well (MRR 0.74, docs/evaluation.md), and a sentence is only as good as its passage.
        e.score = (float(cos) + chunk_weight * (e.hit.dense_score or 0.0) + rank_weight / e.hit.rank
                   + lexical_weight * _overlap(question, language, e))
        if wants_number and _HAS_NUMBER.search(e.text):
            e.score += number_weight
    return sorted(pool, key=lambda e: e.score, reverse=True)


CROSS_LANGUAGE_DUPLICATE = 0.82  # sentence cosine of a Dutch sentence and its French version in the NAR
# report's annexes: 0.89, against at most 0.76 for other pairs stating the same numbers among the eval
# questions' candidates (sentences embedded on their own)


def _near_duplicate(a: Evidence, b: Evidence) -> bool:
    """The same statement twice: overlapping chunks, or one report saying it in Dutch and in French."""
    if a.language != b.language:
        return (float(a.vector @ b.vector) >= CROSS_LANGUAGE_DUPLICATE
                and numbers_in(a.text, a.language) == numbers_in(b.text, b.language))
    ta, tb = set(tokenize(a.text, a.language)), set(tokenize(b.text, b.language))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > 0.7


def select(ranked: list[Evidence], limit: int = 3, margin: float = 0.16, per_passage: int = 2,
           must: Callable[[str], bool] | None = None, language: str | None = None) -> list[Evidence]:
    """The best sentence and up to `limit - 1` more within `margin` of it, at most `per_passage` from one
    passage, no near-duplicates; of a statement made in both languages, the version in the question's
    `language` is kept (it needs no translation).

    Why a cap per passage: when the passage ranked first is not the one that answers (a member's own words
    often rank another passage of the same theme first), the best sentence of the runner-up, within the
    margin, is the one the member needs, and it would otherwise lose its place to a second or third sentence
    of the first passage (docs/evaluation.md, "Evidence across passages").

    `must`: what the answer has to state (an amount, a count). When no chosen sentence does, the best one that
    does takes the last place: the number is what the member asked for. A fact line (not standalone) is only
    ever chosen that way."""
    chosen: list[Evidence] = []
    for e in ranked:
        if not e.standalone:
            continue
        if len(chosen) == limit or (chosen and e.score < chosen[0].score - margin):
            break
        if sum(c.hit.chunk.chunk_id == e.hit.chunk.chunk_id for c in chosen) >= per_passage:
            continue
        twin = next((i for i, c in enumerate(chosen) if _near_duplicate(e, c)), None)
        if twin is None:
            chosen.append(e)
        elif e.language == language != chosen[twin].language:
            chosen[twin] = e
    if must and chosen and not any(must(c.text) for c in chosen):
        stating = next((e for e in ranked if must(e.text)), None)
        if stating is not None:
            chosen = sorted([*chosen[:limit - 1], stating], key=lambda e: e.score, reverse=True)
    return chosen
