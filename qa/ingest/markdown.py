"""Reader for Markdown (.md, .markdown): markup removed, the first heading as title, English picture captions
dropped from Dutch and French documents."""

from __future__ import annotations

import re

from .clean import clean_text
from .text import decode_text

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$", re.MULTILINE)
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_MD_ITALIC = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_RULE = re.compile(r"^ {0,3}(?:[-*_] *){3,}$", re.MULTILINE)
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$", re.MULTILINE)
_MD_FENCE = re.compile(r"^ {0,3}(?:```|~~~).*$", re.MULTILINE)
_MD_QUOTE = re.compile(r"^ {0,3}> ?", re.MULTILINE)
_MD_STAR_ITEM = re.compile(r"^(\s*)[*+]\s+", re.MULTILINE)
_MD_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def markdown_to_text(md: str) -> str:
    """Markdown as plain text: markers removed, headings kept as paragraphs of their own."""
    text = _MD_COMMENT.sub("", md)
    text = _MD_FENCE.sub("", text)
    text = _MD_TABLE_RULE.sub("", text)
    text = _MD_RULE.sub("", text)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub(lambda m: f"\n\n{m.group(1)}\n\n", text)
    text = _MD_STAR_ITEM.sub(r"\1- ", text)
    text = _MD_QUOTE.sub("", text)
    for _ in range(2):  # "**bold *and italic***" needs two passes
        text = _MD_BOLD.sub(r"\2", text)
        text = _MD_ITALIC.sub(r"\2", text)
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!>|])", r"\1", text)


# Converters that turn PDFs into markdown (marker, docling, ...) insert an English description
# of each picture as a plain paragraph ("A group of people is sitting on a grassy hill ...").
# It is not the authors' text and, merged into the first passage, makes a Dutch passage look
# English. Only an English paragraph opening like a picture caption is dropped.
_CAPTION_OPENING = re.compile(
    r"^(?:(?:A|An|The|This|Two|Three|Several)\s+(?:\w+\s+){0,3}"
    r"(?:is|are|of|shows?|showing|depicts?|with|sitting|standing)\b|(?:The|This|An?)\s+(?:image|picture|photo|photograph|illustration|logo)\b)"
)


def _is_picture_caption(paragraph: str) -> bool:
    from qa.language import detect_language

    p = " ".join(paragraph.split())
    return bool(_CAPTION_OPENING.match(p)) and len(p) >= 40 and detect_language(p) == "en"


def read(data: bytes) -> tuple[str, str | None]:
    md = decode_text(data)
    heading = _MD_HEADING.search(md)
    title = None
    if heading:
        title = markdown_to_text(heading.group(1)).strip()
    text = clean_text(markdown_to_text(md))
    paragraphs = text.split("\n\n")
    kept = [p for p in paragraphs if not _is_picture_caption(p)]
    if len(kept) < len(paragraphs) and _mostly_not_english(kept):
        text = "\n\n".join(kept)
    return text, title


def _mostly_not_english(paragraphs: list[str]) -> bool:
    from ..language import detect_language

    return detect_language(" ".join(paragraphs)[:3000]) not in ("en", "und")

