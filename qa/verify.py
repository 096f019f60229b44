"""Checking a generated answer before anyone sees it.

Each sentence must cite passages that exist, state no number its cited passages do not state, and be close
in meaning to one of the cited passages' sentences; that sentence becomes the citation's quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .datatypes import Chunk
from .index import Index
from .numbers import unsupported_numbers
from .sentences import split_sentences

_CITE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_CITES = re.compile(r"^(\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]\s*[.!?]?)+")


@dataclass
class Claim:
    text: str  # the sentence without its citation markers
    cited: list[int]  # citation numbers as written, 1-based


@dataclass
class Checked:
    claim: Claim
    cited: list[int]  # the citations that point at real passages
    verified: bool
    reason: str = ""
    quote: tuple[int, int, int] | None = None  # (passage number, start, end) of the best supporting sentence
    support: float = 0.0


@dataclass
class Numbered:
    """The passages an answer may cite, numbered from 1 in the order the prompt showed them."""

    chunks: list[Chunk]
    index: Index
    rows: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = [self.index.row(c.chunk_id) for c in self.chunks]

    def exists(self, n: int) -> bool:
        return 1 <= n <= len(self.chunks)

    def sentence_vectors(self, n: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        s = self.index.sentences[self.rows[n - 1]]
        return s.spans, s.vectors


def parse_claims(answer: str, language: str) -> list[Claim]:
    """Sentences with the citation numbers written in or right after them.

    Markers standing after a full stop ("… werk. [2] Daarna …") belong to the sentence before them."""
    claims: list[Claim] = []
    for span in split_sentences(answer, language):
        text = span.text
        lead = _LEADING_CITES.match(text)
        if lead and claims:
            claims[-1].cited.extend(_numbers(lead.group(0)))
            text = text[lead.end():]
        numbers = _numbers(text)
        text = re.sub(r"\s+([.,;:!?])", r"\1", _CITE.sub("", text)).strip()
        if text.strip(".!? "):
            claims.append(Claim(text, numbers))
        elif claims:
            claims[-1].cited.extend(numbers)
    return claims


def _numbers(text: str) -> list[int]:
    return [int(n) for group in _CITE.findall(text) for n in re.split(r"\s*[,;]\s*", group)]


def check(claims: list[Claim], passages: Numbered, claim_vectors: np.ndarray, threshold: float) -> list[Checked]:
    return [_check_one(c, v, passages, threshold) for c, v in zip(claims, claim_vectors)]


def _check_one(claim: Claim, vector: np.ndarray, passages: Numbered, threshold: float) -> Checked:
    cited = sorted({n for n in claim.cited if passages.exists(n)})
    if not cited:
        why = "cites no passage" if not claim.cited else f"cites passages that do not exist: {claim.cited}"
        return Checked(claim, [], False, why)
    invented = unsupported_numbers(claim.text, [passages.chunks[n - 1].text for n in cited])
    best = _best_sentence(vector, cited, passages)
    if invented:
        return Checked(claim, cited, False, f"states {', '.join(sorted(invented))} which the cited passages do not",
                       best[1], best[0])
    if best[1] is None or best[0] < threshold:
        return Checked(claim, cited, False, f"not supported by {cited} (similarity {best[0]:.2f})", best[1], best[0])
    return Checked(claim, cited, True, "", best[1], best[0])


def _best_sentence(vector: np.ndarray, cited: list[int], passages: Numbered
                   ) -> tuple[float, tuple[int, int, int] | None]:
    best: tuple[float, tuple[int, int, int] | None] = (-1.0, None)
    for n in cited:
        spans, vectors = passages.sentence_vectors(n)
        if not len(spans):
            continue
        sims = vectors @ vector
        i = int(np.argmax(sims))
        if sims[i] > best[0]:
            best = (float(sims[i]), (n, spans[i][0], spans[i][1]))
    return best
