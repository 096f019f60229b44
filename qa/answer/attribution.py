"""Which organisation a question asks about, and whether a passage is its word or speaks of it.

"Que dit la CSC Services publics sur le télétravail ?" was answered with the food industry's position from
the NAR report's annexes, and "Wat zegt De Betrokken Partij over digitalisering?" with two sentences of the
SERV note: true and cited, and read by the member as the CSC's and De Betrokken Partij's positions. So when a
question names an organisation, the answer quotes only passages of documents it published (the catalog's
publisher) or passages that name it; when no retrieved passage is either, the documents do not answer.
This decides whose words are quoted, not whether they are on the question's topic: a passage retrieved for
the name alone passes when it is close enough to the question (docs/evaluation.md).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from ..datatypes import Chunk
from ..lexicon import FOLDER as LEXICON_FOLDER

def _known() -> tuple[tuple[str, ...], ...]:
    """The alias table of qa/lexicon/organisations.toml."""
    with (LEXICON_FOLDER / "organisations.toml").open("rb") as f:
        return tuple(tuple(names) for names in tomllib.load(f).get("aliases", []))


@dataclass(frozen=True)
class Body:
    names: tuple[str, ...]

    def named_in(self, text: str) -> bool:
        return any(_pattern(name).search(text) for name in self.names)


@functools.lru_cache(maxsize=256)
def _pattern(name: str) -> re.Pattern:
    # An abbreviation is matched in capitals only: "nar" or "serv" may be parts of ordinary words.
    flags = 0 if name.isupper() else re.IGNORECASE
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", flags)


@functools.lru_cache(maxsize=8)
def bodies(publishers: tuple[str, ...]) -> tuple[Body, ...]:
    """The organisations a question can name: the known ones, and each publisher not among them
    ("SERV – Sociaal-Economische Raad van Vlaanderen" gives the names on either side of the dash)."""
    known = [Body(names) for names in _known()]
    extra = []
    for publisher in publishers:
        if not any(body.named_in(publisher) for body in known):
            extra.append(Body(tuple(p.strip() for p in re.split(r"\s+[–—-]\s+", publisher) if p.strip())))
    return tuple(known + extra)


def asked(question: str, publishers: tuple[str, ...]) -> list[Body]:
    """The organisations the question names, given the indexed documents' publishers (`Index.publishers`)."""
    return [body for body in bodies(publishers) if body.named_in(question)]


def speaks_for(chunk: Chunk, publisher: str | None, asked_bodies: list[Body]) -> bool:
    """True when the passage's document was published by, or the passage names, one of the bodies asked
    about (or none was asked about)."""
    return not asked_bodies or any(body.named_in(text) for body in asked_bodies
                                   for text in (publisher or "", chunk.text, chunk.title))


def label(asked_bodies: list[Body]) -> str:
    return " or ".join(body.names[0] for body in asked_bodies)
