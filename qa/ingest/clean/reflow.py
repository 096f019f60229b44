"""Reflow: hard-wrapped lines joined into paragraphs, list items and URL lines kept apart."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lines import (TERMINAL, URL_LINE, is_footnote_start, is_heading, is_list_item, opens_lower,
                    starts_continuation, starts_lower)


@dataclass
class _Unit:
    """One output paragraph, list item or URL line."""

    lines: list[str]
    kind: str  # "para", "item", "heading", "url"

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _line_kind(line: str) -> str:
    if URL_LINE.match(line):
        return "url"
    if is_heading(line):
        return "heading"
    if is_list_item(line):
        return "item"
    return "para"


def _typical_width(lines: list[str]) -> int:
    lengths = sorted(len(ln) for ln in lines if len(ln) >= 20)
    if not lengths:
        return 80
    return lengths[int(len(lengths) * 0.75)]


def reflow(lines: list[str]) -> str:
    width = _typical_width(lines)
    blocks: list[list[str]] = []
    current: list[str] = []
    for ln in lines:
        s = " ".join(ln.split())
        if s:
            current.append(s)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    units: list[_Unit] = []
    for block in blocks:
        block_start = len(units)
        block_width = max(len(s) for s in block)
        for k, s in enumerate(block):
            kind = _line_kind(s)
            if kind == "heading" and units and units[-1].kind == "item" and is_list_item(s):
                kind = "item"  # "1. Een visie" after "- ..." is the next item, not a title
            if k == 0:
                if units and _continues(units[-1], s, kind, width):
                    units[-1].lines.append(s)
                else:
                    units.append(_Unit([s], kind))
                continue
            prev = units[-1]
            prev_line = prev.lines[-1]
            if starts_continuation(s) and prev.kind != "url" and kind not in ("item", "url"):
                prev.lines.append(s)
                continue
            new_unit = (
                kind in ("item", "url", "heading")
                or prev.kind in ("heading", "url")
                # A short line ending a sentence ends its paragraph (widths vary per column).
                or (prev_line[-1] in TERMINAL and len(prev_line) < 0.6 * block_width and s[0].isupper())
                or (is_footnote_start(s) and (prev_line[-1] in TERMINAL or "http" in prev_line))
                # A short title line glued to its text ("De optimisten\nLaten we starten ...").
                or (
                    kind == "para"
                    and prev.kind == "para"
                    and len(prev.lines) == 1
                    and len(prev_line) < 0.5 * block_width
                    and _short_title(prev_line)
                    and s[0].isupper()
                )
            )
            if new_unit:
                units.append(_Unit([s], kind))
            else:
                prev.lines.append(s)
        # A heading that swallowed a lower-case continuation line is still a heading only if it
        # still looks like one.
        for u in units[max(0, block_start - 1) :]:
            if u.kind == "heading" and not is_heading(u.text):
                u.kind = "para"

    parts: list[str] = []
    for idx, u in enumerate(units):
        if idx:
            prev = units[idx - 1]
            tight = u.kind in ("item", "url") and prev.kind in ("item", "url")
            parts.append("\n" if tight else "\n\n")
        parts.append(u.text)
    return "".join(parts)




def _short_title(line: str) -> bool:
    words = line.split()
    return (
        len(words) <= 8
        and line[0].isupper()
        and line[-1] not in TERMINAL + ",-"
        and words[-1].strip("()[]\"'‘’“”").lower() not in _NEVER_LAST
        and any(len(w) >= 4 and w.isalpha() for w in words)
    )




def _continues(prev: _Unit, line: str, kind: str, width: int) -> bool:
    """Does the first line of a block continue the unit before the blank line?

    Some extractors put a blank line after every line, so a blank line alone is not a
    paragraph break when the sentence visibly goes on.
    """
    if prev.kind == "url" or kind in ("item", "url", "heading"):
        return False
    if prev.kind == "heading":
        # Only a lower-case start continues a title across a blank line (a footnote such as
        # "7 Onderlinge verbanden ... een link\n\nbestaat" also looks like a numbered title).
        return starts_lower(line)
    last = prev.lines[-1]
    if last[-1] in TERMINAL:
        return False
    if starts_lower(line) or opens_lower(line):
        return True
    long_line = len(last) >= 0.6 * width
    if long_line and (starts_continuation(line) or re.match(r"^(?:\(|\d[\d.,/]*(?:[ ,.;:)]|$)|[–-] [a-zß-ÿ])", line)):
        # "... numéro 125 du\n\n6 avril 2022", "pour l'année\n\n2023 (entre autres)",
        # "sa convention du 23 novembre 2021\n\n(numéro 173468)."
        return not is_footnote_start(line)
    # A line ending in a word that cannot end a sentence or a title breaks mid-sentence even
    # when the next line starts with a name ("... naar een vergadering vanuit\n\nWest-Vlaanderen").
    return long_line and last.split()[-1] in _NEVER_LAST and line[0].isupper()


_NEVER_LAST = frozenset(
    "de het een van voor met naar in op aan bij uit om te door over en of dat die als vanuit tot "
    "le la les des du un une à au aux et ou pour par dans sur avec que qui".split()
)

