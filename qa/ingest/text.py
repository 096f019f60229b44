"""Reader for plain text files (.txt): the encoding found (UTF-8, UTF-16 with BOM, Windows-1252), binary
content refused."""

from __future__ import annotations

import unicodedata

from .clean import clean_text
from .results import LoadError

# Control characters that never occur in text files (tab, newlines and form feed do).
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM, or UTF-16 with BOM), else Windows-1252 if that decodes
    cleanly. Raises LoadError for binary content or undecodable bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError("not valid UTF-16 despite its byte order mark") from exc
    else:
        if b"\x00" in data:
            raise LoadError("binary content")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise LoadError("not valid UTF-8 or Windows-1252 text") from exc
            if _control_share(text) > 0 or not _looks_like_text(text):
                raise LoadError("not valid UTF-8 or Windows-1252 text")
    if _control_share(text) > 0.01:
        raise LoadError("binary content")
    return text


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:100_000]
    controls = sum(1 for c in sample if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS)
    return controls / len(sample)


def _looks_like_text(text: str) -> bool:
    # Random bytes decode "cleanly" as Windows-1252 too; real text is mostly letters and spaces.
    sample = text[:100_000]
    plain = sum(1 for c in sample if c.isalnum() or c.isspace() or c in ".,;:!?'\"()-–’‘“”«»/%&€")
    return plain / max(1, len(sample)) >= 0.9



def read(data: bytes) -> tuple[str, str | None]:
    """The cleaned text and no title of its own (a text file has no metadata)."""
    return clean_text(decode_text(data)), None
