"""The organisations a question names: the alias table of `organisations.toml` and the indexed documents'
publishers.

A member writes "la CSC" about a document the ACV published, "le CNT" about the NAR's report. The table gives
each organisation all its names in both languages; a publisher of the catalog missing from it is known by its
own name. Retrieval scopes a search to the documents such an organisation published (qa/retrieve/), and the
attribution check quotes only its words or passages naming it (qa/answer/).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).parent


def _known() -> tuple[tuple[str, ...], ...]:
    """The alias table of qa/lexicon/organisations.toml."""
    with (FOLDER / "organisations.toml").open("rb") as f:
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


def label(asked_bodies: list[Body]) -> str:
    return " or ".join(body.names[0] for body in asked_bodies)
