"""Sentence spans inside a passage (pysbd), and which of them can stand alone as evidence."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import pysbd

_LANGS = {"nl", "fr", "en", "de"}
_lock = threading.Lock()  # pysbd segmenters keep state between calls
_URL = re.compile(r"https?://|www\.|\.(?:be|com|org|eu|pdf)\b", re.I)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_NAME_PARTICLES = {"van", "de", "der", "den", "het", "du", "des", "la", "le", "et", "en"}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@lru_cache(maxsize=None)
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language if language in _LANGS else "nl", clean=False, char_span=True)


# A blank line, or a line break before a list item, always ends a sentence: pysbd would otherwise run a heading,
# a table row or a list of figures into the sentence before it.
_HARD_BREAK = re.compile(r"\n[ \t]*\n|\n(?=[ \t]*(?:[-•▪*>]\s|\d{1,2}[.)]\s))")


def split_sentences(text: str, language: str) -> list[Span]:
    """Sentence spans with offsets into `text`, trimmed of white space; never across a paragraph break."""
    spans: list[Span] = []
    at = 0
    for brk in [*_HARD_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        spans.extend(_block_sentences(text, at, end, language))
        at = brk.end() if brk else len(text)
    return spans


def _block_sentences(text: str, lo: int, hi: int, language: str) -> list[Span]:
    """The sentences of text[lo:hi], one paragraph or list item.

    pysbd cuts after French abbreviations ("3 oct. 2022", "p. ex."): a piece that starts in lower case or
    with a digit continues the sentence before it, so it is joined back."""
    with _lock:
        raw = _segmenter(language).segment(text[lo:hi])
    spans: list[Span] = []
    for piece in raw:
        start, end = lo + piece.start, lo + piece.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        if spans and (text[start].islower() or text[start].isdigit()) and not spans[-1].text.endswith((":", ";")):
            start = spans.pop().start
        spans.append(Span(start, end, text[start:end]))
    return spans


def is_whole_line(span: Span, passage: str) -> bool:
    """Whether a span too short or unpunctuated to be a sentence can still be quoted as it stands ("469 unieke
    bezoekers" in a list of figures): not cut by the chunk's edges, no link. Unlike a sentence, it may start
    with a digit at the chunk's start."""
    starts = span.start > 0 or span.text[0].isupper() or span.text[0].isdigit()
    ends = span.end < len(passage) or span.text[-1] in ".!?;:)"
    return starts and ends and not _URL.search(span.text)


def is_evidence_sentence(span: Span, passage: str) -> bool:
    """Whether a sentence can be quoted on its own: real words ending as a sentence ends, no URL or footnote line,
    not cut by the chunk edge."""
    words = _WORD.findall(span.text)
    if len(words) < 5 or _URL.search(span.text) or span.text.rstrip().endswith("?"):
        return False  # fragments, links and the document's own questions or headings answer nothing
    if span.start == 0 and not (span.text[0].isupper() or span.text[0] in "-•(\"'‘“«"):
        return False  # the chunk boundary cut this sentence's beginning off
    if span.text[-1] not in ".!?:;)\"'’”»":
        return False  # a heading, a table row, a line of a contents list; or the chunk boundary cut its end
    if len(words) <= 8 and all(w[0].isupper() or w in _NAME_PARTICLES for w in words):
        return False  # a signature or a title line ("Luc Van Waes Directeur VIVO."): names, no statement
    letters = sum(ch.isalpha() for ch in span.text)
    return letters / max(len(span.text), 1) > 0.6
