"""Ingest: source files (txt, md, pdf, docx, html) read into cleaned `Document`s, then split into chunks.

- `folder`: a folder (and its catalog.json) loaded file by file; a bad file is skipped with a reason.
- one reader per format: `text`, `markdown`, `pdf`, `docx`, `html`; `results`: what a load returns.
- `clean`: extracted text made into paragraphs (unicode, page debris, dehyphenation, reflow).
- `split`: documents cut into heading-aware chunks.

Embedding the chunks and writing the index is the next stage, `qa.index`.
"""

from .folder import CATALOG_NAME, DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, load_catalog, load_file, load_folder
from .markdown import markdown_to_text
from .results import LoadError, LoadResult, Skipped
from .text import decode_text

__all__ = ["CATALOG_NAME", "DEFAULT_MAX_BYTES", "SUPPORTED_SUFFIXES", "LoadError", "LoadResult", "Skipped",
           "decode_text", "load_catalog", "load_file", "load_folder", "markdown_to_text"]
