"""The default embedder for real (EmbeddingGemma, fetched by `make test`): passage and sentence vectors."""

from __future__ import annotations

import numpy as np
import pytest

from qa.config import Settings
from qa.embed import load_embedder

PASSAGE = ("Telewerk is vrijwillig. De werkgever betaalt een vergoeding van 20 euro per maand. "
           "De sector evalueert de regeling in 2024.")
SENTENCES = [s + "." for s in PASSAGE[:-1].split(". ")]
SPANS = [(PASSAGE.index(s), PASSAGE.index(s) + len(s)) for s in SENTENCES]
TITLE = "Cao telewerk"


@pytest.fixture(scope="module")
def gemma():
    settings = Settings(_env_file=None)
    if not (settings.models_dir / "embeddinggemma" / "modules.json").exists():
        pytest.skip("EmbeddingGemma is not fetched (`qa models fetch`)")
    return load_embedder("embeddinggemma", settings.models_dir)


def test_sentence_vectors_are_the_sentences_embedded_on_their_own_under_the_title(gemma):
    passages, spans = gemma.embed_passages_and_spans([PASSAGE], [SPANS], titles=[TITLE])
    alone = gemma.embed_passages(SENTENCES, titles=[TITLE] * 3)
    assert spans[0].shape == (3, gemma.dim)
    assert np.allclose(spans[0], alone, atol=1e-4)
    # ... and not the passage's vector: each sentence has its own
    assert float(spans[0][0] @ spans[0][1]) < 0.95 and float(passages[0] @ spans[0][0]) < 0.95


def test_a_sentence_two_overlapping_passages_share_gets_one_vector(gemma):
    other = "De werkgever betaalt een vergoeding van 20 euro per maand. Dat staat in de cao."
    _, spans = gemma.embed_passages_and_spans([PASSAGE, other], [SPANS, [(0, 58), (59, len(other))]],
                                              titles=[TITLE, TITLE])
    assert np.array_equal(spans[0][1], spans[1][0])


def test_a_french_question_is_closest_to_the_dutch_sentence_that_answers_it(gemma):
    _, spans = gemma.embed_passages_and_spans([PASSAGE], [SPANS], titles=[TITLE])
    question = gemma.embed_queries(["Combien mon employeur paie-t-il pour le télétravail ?"])[0]
    assert int(np.argmax(spans[0] @ question)) == 1


def test_the_int8_embedder_finds_what_float32_finds(gemma):
    # QA_EMBED_DTYPE=int8 trades exact vectors for 1.5x faster indexing: it must still rank like float32
    quick = load_embedder("embeddinggemma", Settings(_env_file=None).models_dir, dtype="int8")
    exact = gemma.embed_passages(SENTENCES, titles=[TITLE] * 3)
    approx = quick.embed_passages(SENTENCES, titles=[TITLE] * 3)
    assert not np.allclose(exact, approx, atol=1e-3)  # really quantised
    assert np.all(np.sum(exact * approx, axis=1) > 0.95)
    question = quick.embed_queries(["Combien mon employeur paie-t-il pour le télétravail ?"])[0]
    assert int(np.argmax(approx @ question)) == 1
