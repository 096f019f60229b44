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

from .clean import is_heading, is_list_item
from ..datatypes import Chunk, Document
from ..language import detect_language

__all__ = ["MIN_WORD_CHARS", "SEPARATORS", "chunk_id", "find_headings", "split_document"]

# Paragraph, line, sentence end, word; "" is the last resort for a single over-long token
# (a URL) so that the splitter never returns a piece over chunk_size.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", " ", ""]

# A passage with fewer letters/digits than this is too short to stand alone: dropped when it
# is debris (no word), else glued to a neighbouring passage.
MIN_WORD_CHARS = 40

_TITLE_MAX_CHARS = 80
_TITLE_MAX_WORDS = 12


def split_document(doc: Document, chunk_size: int = 800, chunk_overlap: int = 100) -> list[Chunk]:
    """Chunks of at most `chunk_size` characters (plus a short fragment glued on, see
    `_absorb_fragments`) overlapping by about `chunk_overlap`, each with its section heading,
    page and language. Ids are stable across runs for the same text."""
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
    spans: list[tuple[int, int]] = []
    search_from = 0
    for piece in splitter.split_text(doc.text):
        start = _locate(doc.text, piece, search_from)
        search_from = start + 1
        spans.append((start, start + len(piece)))
    spans = _absorb_fragments(doc.text, spans)

    headings = find_headings(doc.text)
    heading_starts = [start for start, _ in headings]
    seen: Counter[str] = Counter()
    chunks: list[Chunk] = []
    for start, end in spans:
        text = doc.text[start:end]
        cid = chunk_id(doc.doc, text)
        seen[cid] += 1
        if seen[cid] > 1:
            cid = f"{cid}-{seen[cid]}"
        chunks.append(
            Chunk(
                chunk_id=cid,
                doc=doc.doc,
                title=doc.title,
                text=text,
                start=start,
                end=end,
                language=detect_language(text),
                page=doc.page_at(start),
                section=_section_at(headings, heading_starts, start, end),
            )
        )
    return chunks


def _absorb_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop pieces that are pure debris; glue short pieces with real words to a neighbour.

    The splitter leaves a short paragraph on its own when both neighbours are full ("Dat
    leidde tot 11 wegwijzers. Kort samengevat:" before a long list). Dropping it would lose
    citable text, and alone it is too short to retrieve well, so it joins the next piece
    (a title or an introduction ending in ":" belongs to what follows) or the previous one,
    whichever gives the shorter passage. Such a chunk can exceed chunk_size by that fragment.
    """
    out = list(spans)
    i = 0
    while i < len(out):
        start, end = out[i]
        piece = text[start:end]
        if sum(c.isalnum() for c in piece) >= MIN_WORD_CHARS:
            i += 1
            continue
        if not re.search(r"[^\W\d_]{3,}", piece):
            del out[i]  # no word at all: "6", "x x x", "12/04/2023"
            continue
        if len(out) == 1:
            break  # a document that is one short passage is still a passage
        prev_len = end - out[i - 1][0] if i > 0 else None
        next_len = out[i + 1][1] - start if i + 1 < len(out) else None
        leads_in = piece.rstrip().endswith(":") or is_heading(piece.split("\n", 1)[0])
        if next_len is not None and (prev_len is None or leads_in or next_len <= prev_len):
            out[i + 1] = (start, max(end, out[i + 1][1]))
        else:
            out[i - 1] = (out[i - 1][0], max(end, out[i - 1][1]))
        del out[i]
    return out


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
            if _body_like(nxt):
                headings.append((start, line))
    return headings


def _body_like(paragraph: str) -> bool:
    """Text a title could stand above: a list, or a paragraph that is neither a title nor a label."""
    first = paragraph.split("\n", 1)[0].strip()
    if not first or _title_like(first) or is_heading(first):
        return False
    return "\n" in paragraph or is_list_item(first) or len(first) >= 60


def _heading_text(line: str) -> str:
    return line.lstrip("#").strip()


def _title_like(line: str) -> bool:
    line = line.strip()
    if not line or len(line) > _TITLE_MAX_CHARS or len(line.split()) > _TITLE_MAX_WORDS:
        return False
    if not line[0].isupper() or line[-1] in ".,;:!" or is_list_item(line):
        return False
    if line.endswith("?") and " " not in line:
        return False  # "Waarom?", "Hoe?": diagram labels
    if re.match(r"^(?:https?://|www\.)", line) or re.search(r"\d+[/.]\d+[/.]\d+", line):
        return False  # URLs and dated labels ("Enregistrement : 17/04/2023") title nothing
    return any(len(w) >= 4 and w.isalpha() for w in re.findall(r"\w+", line))


def _section_at(headings: list[tuple[int, str]], starts: list[int], start: int, end: int) -> str | None:
    """The heading in force where the chunk starts, else the first heading inside it."""
    i = bisect.bisect_right(starts, start) - 1
    if i >= 0:
        return headings[i][1]
    if starts and starts[0] < end:
        return headings[0][1]
    return None
