"""Cut a Document into overlapping passages (Chunks) that can be cited exactly.

Every chunk is a verbatim slice of the cleaned text: `doc.text[chunk.start:chunk.end] ==
chunk.text`, so a citation can always be located and highlighted in the stored document.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import Counter

from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa.clean import is_heading, is_list_item
from qa.datatypes import Chunk, Document
from qa.language import detect_language

__all__ = ["MIN_WORD_CHARS", "SEPARATORS", "chunk_id", "find_headings", "split_document"]

# Paragraph, line, sentence end, word; "" is the last resort for a single over-long token
# (a URL) so that no chunk exceeds chunk_size.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", " ", ""]

# A passage with fewer letters/digits than this is debris (a stray heading or number) and
# would only crowd out real passages in retrieval.
MIN_WORD_CHARS = 40

_TITLE_MAX_CHARS = 80
_TITLE_MAX_WORDS = 12


def split_document(doc: Document, chunk_size: int = 800, chunk_overlap: int = 100) -> list[Chunk]:
    """Chunks of about `chunk_size` characters overlapping by about `chunk_overlap`, each with
    its section heading, page and language. Ids are stable across runs for the same text."""
    if chunk_overlap >= chunk_size:
        raise ValueError("chunk_overlap must be smaller than chunk_size")
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",  # "sentence. " stays whole; the next chunk does not start with ". "
        strip_whitespace=True,
        length_function=len,
    )
    headings = find_headings(doc.text)
    heading_starts = [start for start, _ in headings]
    seen: Counter[str] = Counter()
    chunks: list[Chunk] = []
    search_from = 0
    for piece in splitter.split_text(doc.text):
        start = _locate(doc.text, piece, search_from)
        search_from = start + 1
        if sum(c.isalnum() for c in piece) < MIN_WORD_CHARS:
            continue
        end = start + len(piece)
        cid = chunk_id(doc.doc, piece)
        seen[cid] += 1
        if seen[cid] > 1:
            cid = f"{cid}-{seen[cid]}"
        chunks.append(
            Chunk(
                chunk_id=cid,
                doc=doc.doc,
                title=doc.title,
                text=piece,
                start=start,
                end=end,
                language=detect_language(piece),
                page=doc.page_at(start),
                section=_section_at(headings, heading_starts, start, end),
            )
        )
    return chunks


def chunk_id(doc: str, text: str) -> str:
    """`doc#` + the first 10 hex digits of the SHA-1 of the chunk text (content addressed, so
    an unchanged passage keeps its id when the index is rebuilt)."""
    return f"{doc}#{hashlib.sha1(text.encode('utf-8')).hexdigest()[:10]}"


def _locate(text: str, piece: str, search_from: int) -> int:
    # The splitter returns stripped slices in order; each starts after the previous one's start
    # (overlap), so searching forward finds the right occurrence of a repeated passage.
    start = text.find(piece, search_from)
    if start < 0:
        start = text.find(piece)
    if start < 0:  # cannot happen with strip-only post-processing; fail loudly if it does
        raise ValueError("splitter produced text that is not a slice of the document")
    return start


# --- Sections ------------------------------------------------------------------------------


def find_headings(text: str) -> list[tuple[int, str]]:
    """(offset, heading) for every line of the cleaned text that titles what follows.

    Explicit headings ("3.1 ...", "II. INLEIDING", "Bijlage 1", all capitals) always count.
    A short, capitalised, unpunctuated paragraph of its own (a markdown or Word heading once
    its markup is gone: "De context", "Kansen en uitdagingen") counts when the paragraph after
    it is not another such line, which keeps diagram labels and logo fragments out.
    """
    paragraphs = [(m.start(), m.group()) for m in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text)]
    headings: list[tuple[int, str]] = []
    for idx, (start, para) in enumerate(paragraphs):
        if "\n" in para:
            continue
        line = para.strip()
        if is_heading(line):
            headings.append((start, _heading_text(line)))
        elif _title_like(line):
            nxt = paragraphs[idx + 1][1] if idx + 1 < len(paragraphs) else ""
            if nxt and not _title_like(nxt.split("\n", 1)[0]) and not is_heading(nxt.split("\n", 1)[0]):
                headings.append((start, line))
    return headings


def _heading_text(line: str) -> str:
    return line.lstrip("#").strip()


def _title_like(line: str) -> bool:
    line = line.strip()
    if not line or len(line) > _TITLE_MAX_CHARS or len(line.split()) > _TITLE_MAX_WORDS:
        return False
    if not line[0].isupper() or line[-1] in ".,;:!" or is_list_item(line):
        return False
    if re.match(r"^(?:https?://|www\.)", line):
        return False
    return any(len(w) >= 4 and w.isalpha() for w in re.findall(r"\w+", line))


def _section_at(headings: list[tuple[int, str]], starts: list[int], start: int, end: int) -> str | None:
    """The heading in force where the chunk starts, else the first heading inside it."""
    i = bisect.bisect_right(starts, start) - 1
    if i >= 0:
        return headings[i][1]
    if starts and starts[0] < end:
        return headings[0][1]
    return None
