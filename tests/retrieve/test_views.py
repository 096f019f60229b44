"""The question's views: a member's words searched in the documents' words."""

from __future__ import annotations

import numpy as np

from qa.index import load_index
from qa.retrieve import RetrievalSettings, Retriever


class NoDense:
    """Lexical fusion searches no vector; the question's vector is still made for the steps after."""

    name, dim = "none", 8

    def embed_queries(self, texts):
        return np.zeros((len(texts), self.dim), dtype=np.float32)


def test_a_member_word_finds_the_passage_that_uses_the_documents_word(qa_index):
    index = load_index(qa_index)
    question = "Krijg ik een cursus?"  # the test corpus says "opleiding", never "cursus"
    plain = Retriever(index, NoDense(), RetrievalSettings(fusion="lexical", expansion_weight=0.0))
    expanded = Retriever(index, NoDense(), RetrievalSettings(fusion="lexical", expansion_weight=0.5))
    assert not any(h.chunk.doc.startswith("opleiding") for h in plain.search(question, 5, "nl"))
    assert expanded.search(question, 5, "nl")[0].chunk.doc.startswith("opleiding")
