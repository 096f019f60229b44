"""A question that names an organisation is searched once more within the documents it published
(qa/retrieve/retriever.py, qa/lexicon/organisations.py): a member who asks what "het ACV" or "la CSC" says
means that organisation's documents, which other documents on the same topic can otherwise outrank."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embed import configured_embedder
from qa.index import load_index
from qa.retrieve import RetrievalSettings, Retriever

from tests.conftest import CATALOG, make_settings


@pytest.fixture(scope="module")
def searcher(qa_index):
    index, embedder = load_index(qa_index), configured_embedder(make_settings())
    return lambda weight: Retriever(index, embedder, RetrievalSettings(scope_weight=weight))


def _published_by_acv(doc: str) -> bool:
    # the test catalog's ACV, ACV Openbare Diensten and CSC: one organisation under its Dutch and French names
    return CATALOG.get(doc, {}).get("publisher") in ("ACV", "ACV Openbare Diensten", "CSC")


@pytest.mark.parametrize("question, language", [
    ("Wat zegt het ACV over opleiding tijdens de werkuren?", "nl"),
    ("Que dit la CSC sur la formation des travailleurs ?", "fr"),  # the French name of the same organisation
])
def test_the_named_organisations_documents_come_first(searcher, question, language):
    unscoped = [h.chunk.doc for h in searcher(0.0).search(question, 5, language)]
    scoped = [h.chunk.doc for h in searcher(1.0).search(question, 5, language)]
    assert not all(_published_by_acv(d) for d in unscoped[:2])  # the premise: other documents rank high
    assert all(_published_by_acv(d) for d in scoped[:2])
    assert not all(_published_by_acv(d) for d in scoped)  # raised, not narrowed: other documents stay in reach


def test_a_question_naming_no_organisation_is_searched_as_before(searcher):
    question = "Moet mijn werkgever mij een laptop geven als ik thuiswerk?"
    unscoped = searcher(0.0).search(question, 5, "nl")
    scoped = searcher(1.0).search(question, 5, "nl")
    assert [(h.chunk.chunk_id, h.score) for h in scoped] == [(h.chunk.chunk_id, h.score) for h in unscoped]


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf", "ivfsq8"])
def test_a_dense_search_kept_to_some_rows_returns_only_those(kind):
    from qa.index.dense import DenseIndex

    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((5000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DenseIndex.build(vectors, kind=kind)
    assert index.kind == kind
    among = np.arange(1000, 1400)
    rows, scores = index.search(vectors[1200], 10, among)
    assert set(rows) <= set(among) and rows[0] == 1200
    exact = among[np.argsort(-(vectors[among] @ vectors[1200]))[:10]]
    assert len(set(rows) & set(exact)) >= 8  # approximate kinds: nearly the exact nearest within the rows
