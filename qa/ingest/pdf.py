"""Reader for PDF: text per page (pypdf), cleaned page by page so page offsets stay exact; encrypted and
corrupt files refused with a reason."""

from __future__ import annotations

import io
import re
from typing import Any

from ..datatypes import PageSpan
from .clean import clean_pages
from .results import LoadError


def read(data: bytes) -> tuple[str, list[PageSpan], str | None]:
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

