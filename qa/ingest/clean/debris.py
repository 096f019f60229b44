"""Page debris: stray page numbers inside sentences, footnote markers glued to years, running headers and
footers (repeated blocks, and lines at the edges of PDF pages)."""

from __future__ import annotations

import re
from collections import Counter

from ...numbers import MONTH_PATTERN
from .lines import (LOWER, MARKDOWN_HEADING, URL_LINE, CleanStats, is_list_item, is_page_number,
                    starts_lower)

# that the PDF extractor dropped into the sentence ("samenwerking  6  en aangepaste",
# "andere vormen van leren  3 , zoals"). Two spaces on at least one side and a lower-case word
# or punctuation after keep real numbers ("op 28 en 29 juni", table columns) untouched.
_INLINE_NUMBER = re.compile(
    rf"(?:(?<=\S) {{2,}}\d{{1,3}} +|(?<=\S) +\d{{1,3}} {{2,}}|^ *\d{{1,3}} {{2,}})(?=[{LOWER}(]|[,.;:)](?:\s|$)|$)",
    re.MULTILINE,
)


def drop_inline_numbers(text: str, stats: CleanStats) -> str:
    def repl(m: re.Match[str]) -> str:
        stats.inline_numbers += 1
        after = m.string[m.end() : m.end() + 1]
        if m.start() == 0 or m.string[m.start() - 1] == "\n" or after in ",.;:)" or after == "":
            return ""
        return " "

    return _INLINE_NUMBER.sub(repl, text)


# A footnote marker the PDF extractor glued to the year of a date ("SERV-platformtekst 2030 van 8 februari
# 20162."): quoted as it stands it tells the member a wrong date. After a day and a month, a year has four
# digits, so one or two more are the marker.
_GLUED_MARKER = re.compile(rf"(\b\d{{1,2}}(?:er)?\s+(?:{MONTH_PATTERN})\s+(?:19|20)\d\d)\d{{1,2}}\b", re.IGNORECASE)


def unglue_date_markers(text: str, stats: CleanStats) -> str:
    def repl(m: re.Match[str]) -> str:
        stats.inline_numbers += 1
        return m.group(1)

    return _GLUED_MARKER.sub(repl, text)


# --- Repeated debris -----------------------------------------------------------------------


def norm(line: str) -> str:
    return " ".join(line.split())


def debris_key(line: str) -> str:
    # Running headers/footers differ only in their page number.
    return re.sub(r"\d+", "#", " ".join(line.split()))


def _is_content_line(line: str) -> bool:
    """Lines never taken for running headers, however often they repeat."""
    s = line.strip()
    if MARKDOWN_HEADING.match(s) or is_list_item(s):
        return True
    if not any(c.isalpha() for c in s):  # dates, amounts, "x" marks in tables: data, not headers
        return True
    return len(s) > 80 or s[-1] in ",;-"


def _blocks(lines: list[str]) -> list[list[int]]:
    """Indexes of the non-blank lines, grouped into runs between blank lines."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if line.strip():
            current.append(i)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _flows(line: str, nxt: str) -> bool:
    """Does `nxt` continue the sentence of `line` (so both are running text, not a letterhead)?"""
    return starts_lower(nxt) and not URL_LINE.match(nxt) and "@" not in nxt.split()[0]


def repeated_blocks(lines: list[str], min_count: int = 3) -> set[tuple[str, ...]]:
    """Multi-line blocks that recur identically: letterheads and footers of extracted pages.

    The French annexes repeat whole table cells ("Définition de l'urgence ;", "(focusgroep
    socioculturele sector)" in VIVO) on every row, so a single recurring line is not evidence
    of debris; a recurring block of two or more short lines that do not read as one sentence
    ("Votre personne de contact : / Guy VAN GYES, Directeur Général") is. Single-line running
    headers in plain text are therefore kept (PDFs are handled by page position, see
    `clean_pages`).
    """
    counts: Counter[tuple[str, ...]] = Counter()
    for block in _blocks(lines):
        texts = [lines[i].strip() for i in block]
        if not 2 <= len(texts) <= 6 or any(_is_content_line(t) for t in texts):
            continue
        if any(_flows(a, b) for a, b in zip(texts, texts[1:])):
            continue
        counts[tuple(debris_key(t) for t in texts)] += 1
    return {key for key, n in counts.items() if n >= min_count}


def drop_blocks(lines: list[str], debris: set[tuple[str, ...]], stats: CleanStats) -> list[str]:
    if not debris:
        return lines
    out = list(lines)
    for block in _blocks(lines):
        if tuple(debris_key(lines[i]) for i in block) in debris:
            for i in block:
                out[i] = ""
            stats.debris_lines += len(block)
    return out



_EDGE = 3  # lines at the top and at the bottom of a page where running headers/footers live


def edge_indexes(lines: list[str]) -> list[int]:
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    return idx if len(idx) <= 2 * _EDGE else idx[:_EDGE] + idx[-_EDGE:]


def drop_edge_page_numbers(lines: list[str], stats: CleanStats) -> list[str]:
    # On a real page, a number alone on the first or last line is the page number even when
    # text surrounds it without a blank line.
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    for i in idx[:1] + idx[-1:]:
        if is_page_number(lines[i]):
            lines[i] = ""
            stats.page_numbers += 1
    return lines
