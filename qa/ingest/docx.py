"""Reader for Word files (.docx): paragraphs and tables in document order (python-docx)."""

from __future__ import annotations

import io
import re

from .clean import clean_text
from .results import LoadError


def read(data: bytes) -> tuple[str, str | None]:
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

