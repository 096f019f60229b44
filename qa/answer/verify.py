"""Checking a generated answer before anyone sees it.

Each sentence must cite passages that exist, state no number its cited passages do not state, and be close
in meaning to one of the cited passages' sentences; that sentence becomes the citation's quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..datatypes import Chunk
from .evidence import planted_instruction
from ..index import Index
from ..numbers import unsupported_bounds, unsupported_numbers
from ..sentences import split_sentences

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
        """The spans and vectors of passage n's sentences that may support a claim: not planted instructions."""
        s, text = self.index.sentences[self.rows[n - 1]], self.chunks[n - 1].text
        keep = [i for i, (a, b) in enumerate(s.spans) if not planted_instruction(text[a:b])]
        if len(keep) == len(s.spans):
            return s.spans, s.vectors
        return [s.spans[i] for i in keep], s.vectors[keep]

    def support_text(self, n: int) -> str:
        """Passage n without its planted instructions: the numbers a claim may state come from this text."""
        text = self.chunks[n - 1].text
        for a, b in reversed(self.index.sentences[self.rows[n - 1]].spans):
            if planted_instruction(text[a:b]):
                text = f"{text[:a]} {text[b:]}"
        return text


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
    sources = [passages.support_text(n) for n in cited]
    invented = unsupported_numbers(claim.text, sources)
    per_passage = _best_sentences(vector, cited, passages)
    best = max(per_passage.values(), key=lambda b: b[0], default=(-1.0, None))
    if invented:
        return Checked(claim, cited, False, f"states {', '.join(sorted(invented))} which the cited passages do not",
                       best[1], best[0])
    bounds = unsupported_bounds(claim.text, sources)
    if bounds:
        return Checked(claim, cited, False, f"bounds a number ({', '.join(sorted(bounds))}) as the cited passages "
                       "do not", best[1], best[0])
    if best[1] is None or best[0] < threshold:
        return Checked(claim, cited, False, f"not supported by {cited} (similarity {best[0]:.2f})", best[1], best[0])
    # A verified claim keeps only the citations that support it (a model may cite every passage it was shown).
    supporting = [n for n in cited if n == best[1][0] or (n in per_passage and per_passage[n][0] >= threshold)]
    return Checked(claim, supporting, True, "", best[1], best[0])


def _best_sentences(vector: np.ndarray, cited: list[int], passages: Numbered
                    ) -> dict[int, tuple[float, tuple[int, int, int]]]:
    """Per cited passage: the similarity and (passage, start, end) of its sentence closest to the claim."""
    out: dict[int, tuple[float, tuple[int, int, int]]] = {}
    for n in cited:
        spans, vectors = passages.sentence_vectors(n)
        if not len(spans):
            continue
        sims = vectors @ vector
        i = int(np.argmax(sims))
        out[n] = (float(sims[i]), (n, spans[i][0], spans[i][1]))
    return out
