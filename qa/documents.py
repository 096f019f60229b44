"""Read a folder of source files (txt, md, pdf, docx, html) into cleaned `Document`s.

A bad file never stops a load: it is reported in `LoadResult.skipped` with a reason a person
can act on ("encrypted PDF: needs a password", "unsupported type .xlsx"), and the other files
still load.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from qa.clean import clean_pages, clean_text, is_heading
from qa.datatypes import Document, PageSpan

__all__ = [
    "CATALOG_NAME",
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "LoadError",
    "LoadResult",
    "Skipped",
    "decode_text",
    "load_catalog",
    "load_file",
    "load_folder",
    "markdown_to_text",
]

CATALOG_NAME = "catalog.json"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm")
TITLE_MAX_CHARS = 120


class LoadError(Exception):
    """A file that cannot be turned into a Document; `reason` says why, for the skip list."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Skipped:
    doc: str
    reason: str


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# --- Folder --------------------------------------------------------------------------------


def load_catalog(folder: Path) -> dict[str, dict[str, Any]]:
    """`catalog.json` of a folder (file name -> {title, publisher, date, ...}); {} when absent.

    Raises LoadError when the file exists but is not a JSON object of objects.
    """
    path = folder / CATALOG_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LoadError(f"unreadable catalog: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise LoadError("unreadable catalog: expected an object mapping file names to objects")
    return data


def load_folder(folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadResult:
    """Load every supported file under `folder`, recursively, in sorted (deterministic) order.

    Hidden files and folders are ignored; `catalog.json` supplies metadata and is not a
    document; symlinks are loaded only when they point inside the folder. Raises
    NotADirectoryError when `folder` is not a folder (a typo must not give an empty index).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"documents folder not found: {folder}")
    root = folder.resolve()
    result = LoadResult()
    try:
        catalog = load_catalog(folder)
    except LoadError as exc:
        result.skipped.append(Skipped(CATALOG_NAME, exc.reason))
        catalog = {}

    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)  # os.walk would not descend anyway; say why it is left out
                rel = _relative(here / d, folder)
                reason = (
                    "symlink points outside the folder"
                    if not _inside(here / d, root)
                    else "symlinked folder not followed (its files load from their real place)"
                )
                result.skipped.append(Skipped(rel, reason))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            rel = _relative(path, folder)
            if rel == CATALOG_NAME:
                continue
            if path.is_symlink():
                if not path.exists():
                    result.skipped.append(Skipped(rel, "broken symlink"))
                    continue
                if not _inside(path, root):
                    result.skipped.append(Skipped(rel, "symlink points outside the folder"))
                    continue
            try:
                result.documents.append(load_file(path, folder, catalog, max_bytes=max_bytes))
            except LoadError as exc:
                result.skipped.append(Skipped(rel, exc.reason))
    return result


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):  # RuntimeError: symlink loop
        return False
    return True


# --- One file ------------------------------------------------------------------------------


def load_file(
    path: Path,
    folder: Path,
    catalog: Mapping[str, Mapping[str, Any]] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Document:
    """Read, clean and describe one file. Raises LoadError with a reason for the skip list."""
    path, folder = Path(path), Path(folder)
    rel = _relative(path, folder)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported type {suffix or '(no extension)'}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(f"too large ({_mb(size)} MB, limit {_mb(max_bytes)} MB)")
        if size == 0:
            raise LoadError("empty")
        data = path.read_bytes()
    except PermissionError as exc:
        raise LoadError("unreadable: permission denied") from exc
    except IsADirectoryError as exc:
        raise LoadError("not a file") from exc
    except OSError as exc:
        raise LoadError(f"unreadable: {exc.strerror or exc}") from exc

    pages: list[PageSpan] = []
    if suffix == ".pdf":
        text, pages, meta_title = _read_pdf(data)
    elif suffix == ".docx":
        text, meta_title = _read_docx(data)
    elif suffix in (".html", ".htm"):
        text, meta_title = _read_html(data)
    elif suffix in (".md", ".markdown"):
        text, meta_title = _read_markdown(data)
    else:
        text, meta_title = clean_text(decode_text(data)), None

    if not text.strip():
        raise LoadError("no text (scanned?)" if suffix == ".pdf" else "empty")

    entry = _catalog_entry(catalog or {}, rel, path.name)
    title = _str(entry.get("title")) or _trim_title(meta_title) or _first_title(text) or path.name
    return Document(
        doc=rel,
        title=title,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        publisher=_str(entry.get("publisher")),
        date=_str(entry.get("date")),
        pages=pages,
    )


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def _catalog_entry(catalog: Mapping[str, Mapping[str, Any]], rel: str, name: str) -> Mapping[str, Any]:
    # Keys are file names in the sample catalog; a relative path wins when both are present.
    entry = catalog.get(rel)
    if entry is None:
        entry = catalog.get(name)
    return entry if isinstance(entry, Mapping) else {}


def _str(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _trim_title(title: str | None) -> str | None:
    if not title:
        return None
    title = " ".join(title.split()).strip(" #*")
    if len(title) <= TITLE_MAX_CHARS:
        return title or None
    cut = title[: TITLE_MAX_CHARS - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–") + "…"


def _first_title(text: str) -> str | None:
    """The first heading among the opening paragraphs, else the first line."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    for p in paragraphs[:5]:
        if "\n" not in p and is_heading(p):
            return _trim_title(p)
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    return _trim_title(first_line)


# --- Plain text ----------------------------------------------------------------------------

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


# --- Markdown ------------------------------------------------------------------------------

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


def _read_markdown(data: bytes) -> tuple[str, str | None]:
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
    from qa.language import detect_language

    return detect_language(" ".join(paragraphs)[:3000]) not in ("en", "und")


# --- PDF -----------------------------------------------------------------------------------


def _read_pdf(data: bytes) -> tuple[str, list[PageSpan], str | None]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to restrict printing and open without a password.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise LoadError(f"encrypted PDF: cannot decrypt ({exc})") from exc
            if not opened:
                raise LoadError("encrypted PDF: needs a password")
        raw_pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = _pdf_title(reader)
    except LoadError:
        raise
    except FileNotDecryptedError as exc:
        raise LoadError("encrypted PDF: needs a password") from exc
    except PdfReadError as exc:
        raise LoadError(f"corrupt PDF: {exc}") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise LoadError(f"corrupt PDF: {type(exc).__name__}: {exc}") from exc

    if not raw_pages:
        raise LoadError("corrupt PDF: no pages")
    cleaned, _ = clean_pages(raw_pages)
    parts: list[str] = []
    spans: list[PageSpan] = []
    offset = 0
    for number, page_text in enumerate(cleaned, start=1):
        if not page_text.strip():
            continue  # a blank or image-only page gets no span
        if parts:
            parts.append("\n\n")
            offset += 2
        parts.append(page_text)
        spans.append(PageSpan(number, offset, offset + len(page_text)))
        offset += len(page_text)
    if not spans:
        raise LoadError("no text (scanned?)")
    return "".join(parts), spans, meta_title


def _pdf_title(reader: Any) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # damaged metadata must not cost us the text
        return None
    if not title or not str(title).strip():
        return None
    title = str(title).strip()
    # Producers often leave the file name or "Microsoft Word - x.docx" as the title.
    if re.search(r"\.(?:docx?|pdf|pptx?|odt|indd)$", title, re.IGNORECASE) or title.lower().startswith(
        ("microsoft word", "untitled", "naamloos", "sans titre")
    ):
        return None
    return title


# --- DOCX ----------------------------------------------------------------------------------


def _read_docx(data: bytes) -> tuple[str, str | None]:
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # zip, XML or content-type errors
        raise LoadError(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc

    blocks: list[str] = []
    title: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            if style == "Title" or style.startswith("Heading"):
                title = title or text
            elif style.startswith("List") and not re.match(r"^[-•*\d]", text):
                text = f"- {text}"
            blocks.append(text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:  # merged cells repeat; keep each once
                    t = " ".join(cell.text.split())
                    if t and t not in cells:
                        cells.append(t)
                if cells:
                    blocks.append(" | ".join(cells))
    core_title = (document.core_properties.title or "").strip() or None
    # Paragraphs in a DOCX are real paragraphs (no hard wrapping): keep them apart.
    return clean_text("\n\n".join(blocks)), title or core_title


# --- HTML ----------------------------------------------------------------------------------


class _TextAndTitle(HTMLParser):
    """A fallback extractor and <title> reader that needs nothing but the standard library."""

    _SKIP = {"script", "style", "noscript", "template", "head", "nav", "footer", "svg"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: str | None = None
        self._in_title = False
        self._skip = 0
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self._parts.append("\n\n")
            if tag == "li":
                self._parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = ((self.title or "") + data).strip() or None
        elif not self._skip:
            self._parts.append(data.replace("\n", " "))

    def text(self) -> str:
        return "".join(self._parts)


def _read_html(data: bytes) -> tuple[str, str | None]:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content")
    html = _decode_html(data)
    parser = _TextAndTitle()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; a crash means garbage, extraction may still work
        pass
    extracted = None
    try:
        import trafilatura

        extracted = trafilatura.extract(
            html, include_comments=False, include_tables=True, favor_recall=True, output_format="txt"
        )
    except Exception:
        extracted = None
    # trafilatura drops pages it deems too short to be an article; then keep the plain text.
    text = extracted if extracted and extracted.strip() else parser.text()
    # trafilatura puts one paragraph per line: make each a paragraph before reflowing.
    if extracted:
        text = re.sub(r"\n+", "\n\n", text)
    return clean_text(text), parser.title


def _decode_html(data: bytes) -> str:
    head = data[:4096].decode("ascii", errors="ignore")
    m = re.search(r"""charset=["']?([\w-]+)""", head, re.IGNORECASE)
    if m:
        try:
            return data.decode(m.group(1), errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
