"""Folding text for comparisons that must ignore layout: case, white space, hyphenated line breaks."""

from __future__ import annotations

import re
import unicodedata

_HYPHEN_BREAK = re.compile(r"(\w)-\s*\n\s*(\w)")
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"', "\u00a0": " "})


def fold(text: str) -> str:
    """Lower-cased, NFKC, curly quotes straightened, line-break hyphens joined, white space collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    return _SPACE.sub(" ", text).strip().lower()


def contains(haystack: str, needle: str) -> bool:
    return fold(needle) in fold(haystack)
