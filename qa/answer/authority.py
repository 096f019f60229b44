"""Which level of Belgian government a question asks about, and whether a passage speaks of it.

"Combien de jours de télétravail par semaine ont les fonctionnaires fédéraux ?" was answered with "Au sein de
Brupartners … jusqu'à trois jours par semaine": a count of telework days, but those of a Brussels council's
staff, read by a federal civil servant as their own right. Belgium sets many rules per level (federal,
Flemish, Walloon, Brussels, German-speaking), so a number or date asked of one level is taken only from a
passage (its text or its document's title) that names that level, in Dutch or in French.
"""

from __future__ import annotations

import re

from ..datatypes import Chunk

_LEVELS = {
    "federal": re.compile(r"(?i:\bfedera(?:al|le)\b|\bfédéra(?:l|le|les|ux)\b)"),
    "Flemish": re.compile(r"(?i:\bvlaams(?:e)?\b|\bvlaanderen\b|\bflamand(?:e|s|es)?\b|\bflandre\b)"),
    "Walloon": re.compile(r"(?i:\bwaals(?:e)?\b|\bwalloni[eë]\b|\bwallon(?:ne|s|nes)?\b)"),
    "Brussels": re.compile(r"(?i:\bbrussel(?:s|se)?\b|\bbruxelles\b|\bbruxellois(?:e|es)?\b)"),
    "German-speaking": re.compile(r"(?i:\bduitstalig(?:e)?\b|\bgermanophones?\b|\bostbelgien\b)"),
}


def levels_in(text: str) -> set[str]:
    return {level for level, pattern in _LEVELS.items() if pattern.search(text)}


def speaks_of(chunk: Chunk, levels: set[str]) -> bool:
    """True when the passage or its document's title names one of `levels`, or when no level was asked."""
    return not levels or bool(levels & (levels_in(chunk.text) | levels_in(chunk.title)))
