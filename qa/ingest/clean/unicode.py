"""Unicode normalisation of extracted text: NFKC, one kind of space, no invisible characters."""

from __future__ import annotations

import re
import unicodedata

# Zero-width characters, and bidirectional overrides and isolates (U+202A-E, U+2066-9, LRM/RLM): invisible, and
# an override can make a quoted passage display reversed or reordered (the "Trojan source" trick).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069"), None)
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls but tab and line ends (ESC, BEL, ...)
_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\v]")


def normalize_unicode(text: str) -> str:
    """NFKC (ligatures, full-width forms), one kind of space, no invisible or private-use
    characters (symbol-font bullets become "•"), \\n line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    # A soft hyphen at a line end marks where the typesetter broke a word: always join.
    text = re.sub(r"\u00ad[ \t]*\n[ \t]*", "", text)
    text = text.replace("\u00ad", "")
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROLS.sub("", text.translate(_INVISIBLE))
    # Symbol-font bullets come out of PDFs as private-use characters (U+F0B7 and friends).
    text = re.sub(r"^([ \t]*)[\ue000-\uf8ff]", r"\1•", text, flags=re.MULTILINE)
    text = re.sub(r"[\ue000-\uf8ff]", "", text)
    return _SPACES.sub(" ", text)

