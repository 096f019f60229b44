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
from ..lexicon import word_pattern, words

LEVELS = ("federal", "Flemish", "Walloon", "Brussels", "German-speaking")
# each level's names and adjectives in Dutch and French: [levels] of the lexicon
_LEVELS = {level: re.compile(rf"(?i:{word_pattern(words('levels', level))})") for level in LEVELS}


def levels_in(text: str) -> set[str]:
    return {level for level, pattern in _LEVELS.items() if pattern.search(text)}


def speaks_of(chunk: Chunk, levels: set[str]) -> bool:
    """True when the passage or its document's title names one of `levels`, or when no level was asked."""
    return not levels or bool(levels & (levels_in(chunk.text) | levels_in(chunk.title)))
