"""Read a folder of source files (txt, md, pdf, docx, html) into cleaned `Document`s.

A bad file never stops a load: it is reported in `LoadResult.skipped` with a reason a person
can act on ("encrypted PDF: needs a password", "unsupported type .xlsx"), and the other files
still load.
"""


from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..datatypes import Document, PageSpan
from . import docx, html, markdown, pdf, text as plain
from .clean import is_heading
from .results import LoadError, LoadResult, Skipped

CATALOG_NAME = "catalog.json"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm")
TITLE_MAX_CHARS = 120


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
        text, pages, meta_title = pdf.read(data)
    elif suffix == ".docx":
        text, meta_title = docx.read(data)
    elif suffix in (".html", ".htm"):
        text, meta_title = html.read(data)
    elif suffix in (".md", ".markdown"):
        text, meta_title = markdown.read(data)
    else:
        text, meta_title = plain.read(data)

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


