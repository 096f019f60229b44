"""Turn text extracted from PDFs, Word files and web pages into clean paragraphs.

Extracted text is hard-wrapped, hyphenated at line ends, sprinkled with page numbers and
running headers, and sometimes has a blank line after every line. Passages built from it
must read like the source (they are shown to members as citations) and must match
evidence quotes after `qa.fold.fold`, so the cleaning is conservative: when in doubt it
keeps text rather than dropping it.

Output layout: paragraphs separated by one blank line; consecutive list items (and lines
that are just a URL) separated by a single newline so a list stays together.

Words that lost the space between them in the PDF (e.g. "werknemerwegwijzer") are not
repaired: without a dictionary a split would be a guess, and a wrong split breaks exact
quotes.
"""

from __future__ import annotations

from collections import Counter

from .debris import (debris_key, drop_blocks, drop_edge_page_numbers, drop_inline_numbers, edge_indexes, norm,
                     repeated_blocks, unglue_date_markers)
from .hyphens import Vocabulary, dehyphenate, glue_page_breaks
from .lines import CleanStats, has_alnum, is_heading, is_list_item, is_stray_page_number
from .reflow import reflow
from .unicode import normalize_unicode

__all__ = [
    "CleanStats",
    "clean_pages",
    "clean_text",
    "clean_text_with_stats",
    "is_heading",
    "is_list_item",
    "normalize_unicode",
    "repeated_blocks",
]


def _clean_lines(text: str, vocab: Vocabulary, debris: set[tuple[str, ...]], stats: CleanStats) -> str:
    text = unglue_date_markers(drop_inline_numbers(text, stats), stats)
    # Trailing spaces stay until the hyphen step: "beroeps- \nen" (space) is not a broken word.
    lines = drop_blocks(text.split("\n"), debris, stats)
    kept: list[str] = []
    n = len(lines)
    for i, ln in enumerate(lines):
        s = ln.strip()
        if not s:
            kept.append("")
            continue
        if is_stray_page_number(s):
            before = i == 0 or not lines[i - 1].strip()
            after = i == n - 1 or not lines[i + 1].strip()
            if before and after:  # a number that is a paragraph of its own
                stats.page_numbers += 1
                kept.append("")
                continue
        if not has_alnum(s):  # "***", lone bullets and rules
            stats.debris_lines += 1
            kept.append("")
            continue
        kept.append(ln)
    kept = dehyphenate(kept, vocab, stats)
    return reflow(kept)


def clean_text_with_stats(raw: str) -> tuple[str, CleanStats]:
    stats = CleanStats(chars_before=len(raw))
    text = normalize_unicode(raw)
    out = _clean_lines(text, Vocabulary.of(text), repeated_blocks(text.split("\n")), stats)
    stats.chars_after = len(out)
    return out, stats


def clean_text(raw: str) -> str:
    """Clean one document's extracted text (see the module doc)."""
    return clean_text_with_stats(raw)[0]


def clean_pages(pages: list[str]) -> tuple[list[str], CleanStats]:
    """Clean the pages of one PDF separately (so page offsets stay exact) with shared evidence.

    Running headers and footers are found where they live: a line among the first or last
    three lines of at least 30% of the pages (and at least 3) is dropped from those
    positions; numbers are ignored in that comparison for short lines ("Pagina 3 van 12"). The vocabulary for hyphen decisions comes from the whole document, and a word
    broken across a page end is glued on the earlier page.
    """
    stats = CleanStats(chars_before=sum(len(p) for p in pages))
    pages = [normalize_unicode(p) for p in pages]
    glue_page_breaks(pages)
    vocab = Vocabulary.of("\n".join(pages))
    page_lines = [p.split("\n") for p in pages]
    edge_keys: set[str] = set()
    if len(pages) >= 3:
        threshold = max(3, int(0.3 * len(pages)))
        exact = Counter(k for lines in page_lines for k in {norm(lines[i]) for i in edge_indexes(lines)})
        masked = Counter(k for lines in page_lines for k in {debris_key(lines[i]) for i in edge_indexes(lines)})
        # The same line on many pages is a header; lines that differ only in their numbers
        # ("Pagina 3 van 12") only when short, as body lines can share a pattern too.
        edge_keys = {k for k, c in exact.items() if c >= threshold and len(k) <= 100}
        edge_keys |= {k for k, c in masked.items() if c >= threshold and len(k) <= 40}
    blocks = repeated_blocks([ln for lines in page_lines for ln in lines + [""]])
    out: list[str] = []
    for lines in page_lines:
        page_stats = CleanStats()
        for i in edge_indexes(lines):
            if norm(lines[i]) in edge_keys or debris_key(lines[i]) in edge_keys:
                lines[i] = ""
                page_stats.debris_lines += 1
        lines = drop_edge_page_numbers(lines, page_stats)
        out.append(_clean_lines("\n".join(lines), vocab, blocks, page_stats))
        stats.add(page_stats)
    stats.chars_after = sum(len(p) for p in out) + 2 * max(0, len(out) - 1)
    return out, stats
