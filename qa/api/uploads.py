"""Checks on an uploaded document before it reaches the documents folder: a safe name, content that is what
its extension says, a path inside the folder; the file written atomically."""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

from ..ingest import CATALOG_NAME, SUPPORTED_SUFFIXES


class UploadRejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


_TEXT_SUFFIXES = (".txt", ".md", ".markdown")
_HTML_SUFFIXES = (".html", ".htm")
_HTML_START = re.compile(rb"<(!doctype\s+html|html|head|body|title|meta|p|div|h[1-6]|article|main|section)[\s>/]",
                         re.IGNORECASE)
MAX_NAME_CHARS = 150


def sanitise_filename(name: str | None) -> str:
    """A safe file name for the documents folder: no folders, no leading dots, no control characters."""
    original = name or ""
    name = unicodedata.normalize("NFC", original).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    name = re.sub(r"[^\w.\-() ]+", "_", name)
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"\.{2,}", ".", name).strip().lstrip(".-_ ")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        raise UploadRejected(415, f"the file name {original!r} has no supported extension; "
                                  f"use one of {', '.join(SUPPORTED_SUFFIXES)}")
    suffix = "." + suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRejected(415, f"unsupported file type {suffix}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    stem = stem[:MAX_NAME_CHARS].rstrip(". ")
    if not stem or f"{stem}{suffix}" == CATALOG_NAME:
        raise UploadRejected(400, f"{original!r} cannot be used as a document name")
    return f"{stem}{suffix}"


def check_content(data: bytes, suffix: str) -> None:
    """The bytes must really be what the extension says (the extension alone proves nothing)."""
    if not data.strip():
        raise UploadRejected(400, "the file is empty")
    if suffix == ".pdf":
        if not data.lstrip()[:5] == b"%PDF-":
            raise UploadRejected(415, "the file is named .pdf but is not a PDF (no %PDF- header)")
        return
    if suffix == ".docx":
        try:
            with zipfile.ZipFile(BytesIO(data)) as z:
                ok = "word/document.xml" in z.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            ok = False
        if not ok:
            raise UploadRejected(415, "the file is named .docx but is not a Word document "
                                      "(not a zip with word/document.xml)")
        return
    if b"\x00" in data:
        raise UploadRejected(415, f"the file is named {suffix} but holds binary data, not text")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRejected(415, f"the file is named {suffix} but is not UTF-8 text; save it as UTF-8") from None
    if suffix in _HTML_SUFFIXES and not _HTML_START.search(data[:8192]):
        raise UploadRejected(415, f"the file is named {suffix} but does not look like HTML")


def inside(folder: Path, relative: str) -> Path | None:
    """`folder/relative` for a plain relative name (no `..`, no hidden parts) that stays inside `folder`."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or any(not p or p.startswith(".") for p in parts):
        return None
    root = folder.resolve()
    target = (root / relative).resolve()
    return target if target != root and target.is_relative_to(root) else None




def store_file(folder: Path, target: Path, data: bytes) -> bool:
    """Write atomically (temporary hidden file, then rename): a build never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    replaced = target.exists()
    tmp = target.parent / f".upload-{uuid.uuid4().hex}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return replaced

