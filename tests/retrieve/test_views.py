"""The question's views: a member's words searched in the documents' words."""

from __future__ import annotations

import numpy as np

from qa.index import load_index
from qa.retrieve import RetrievalSettings, Retriever
from qa.retrieve.retriever import query_views


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


def test_the_dense_view_of_a_member_question_is_the_question_in_the_documents_words():
    views = query_views("Mag mijn baas mij 's avonds nog mailen?", "nl", RetrievalSettings())
    assert len(views) == 2 and views[0].text == "Mag mijn baas mij 's avonds nog mailen?"
    assert views[1].text.startswith("Mag mijn werkgever") and views[1].dense_weight == 0.5
    no_member_word = "Wanneer werd het Europese kaderakkoord over digitalisering aangenomen?"
    assert len(query_views(no_member_word, "nl", RetrievalSettings())) == 1
