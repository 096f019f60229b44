"""Lexical search: bm25s over tokens stemmed with each passage's own language (Snowball, via PyStemmer)."""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from pathlib import Path

import bm25s
import bm25s.stopwords as sw
import numpy as np
import Stemmer

_SNOWBALL = {"nl": "dutch", "fr": "french", "en": "english", "de": "german"}
_STOPWORDS = {"nl": sw.STOPWORDS_DUTCH, "fr": sw.STOPWORDS_FRENCH, "en": sw.STOPWORDS_EN, "de": sw.STOPWORDS_GERMAN}
_TOKEN = re.compile(r"\w\w+", re.UNICODE)
_stem_lock = threading.Lock()  # a PyStemmer object is not thread-safe


@lru_cache(maxsize=None)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_SNOWBALL.get(language, "dutch"))


@lru_cache(maxsize=None)
def _stopwords(language: str) -> frozenset[str]:
    return frozenset(_STOPWORDS.get(language, sw.STOPWORDS_DUTCH))


def tokenize(text: str, language: str, stem: bool = True) -> list[str]:
    """Lower-cased word tokens without stop words, stemmed for `language` (unknown languages: Dutch rules)."""
    stop = _stopwords(language)
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    if not stem:
        return words
    with _stem_lock:
        return _stemmer(language).stemWords(words)


class LexicalIndex:
    def __init__(self, bm25: bm25s.BM25, size: int, stem: bool = True):
        self._bm25 = bm25
        self.size = size
        self.stem = stem  # False only to measure what stemming brings (bench/retrieval_variants.py)

    @classmethod
    def build(cls, texts: list[str], languages: list[str], stem: bool = True) -> "LexicalIndex":
        tokens = [tokenize(t, lang, stem) or [""] for t, lang in zip(texts, languages)]
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        return cls(bm25, len(texts), stem)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), show_progress=False)
        (folder / "size.json").write_text(json.dumps({"size": self.size, "stem": self.stem}))

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        meta = json.loads((folder / "size.json").read_text())
        return cls(bm25s.BM25.load(str(folder), show_progress=False), meta["size"], meta.get("stem", True))

    def knows(self, stem: str) -> bool:
        """Whether any passage contains this (stemmed) token."""
        return stem in self._bm25.vocab_dict

    def share(self, stem: str) -> float:
        """The fraction of passages that contain this (stemmed) token (0 for an unknown one)."""
        at = self._bm25.vocab_dict.get(stem)
        indptr = self._bm25.scores["indptr"]
        if at is None or at + 1 >= len(indptr) or not self.size:
            return 0.0
        return float(indptr[at + 1] - indptr[at]) / self.size

    def scores(self, question: str, language: str) -> np.ndarray:
        """BM25 score of every passage for the question (zeros when no query term is known)."""
        tokens = [t for t in tokenize(question, language, self.stem) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
