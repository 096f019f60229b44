"""Evidence scoring: which retrieved sentence the answer quotes first."""

from __future__ import annotations

import numpy as np

from qa.answer import evidence
from qa.datatypes import Chunk, Hit
from qa.sentences import Span

# Three directions of a toy vector space: the member's own words, the documents' words for the same thing,
# and another subject.
OWN, DOCUMENTS, OTHER = np.eye(3, dtype=np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def _pool() -> list[evidence.Evidence]:
    text = "Je werkgever mag je mailen tijdens de werkuren. Buiten de werkuren heb je recht op deconnectie."
    hit = Hit(Chunk("c1", "doc.txt", "Doc", text, 0, len(text), "nl"), score=1.0, rank=1, dense_score=0.5)
    first, second = text.split(". ")
    return [
        # shares the member's word "mailen", about another subject: close to the question as asked
        evidence.Evidence(hit, Span(0, len(first) + 1, first + "."), 0.0, _unit(0.6 * OWN + 0.8 * OTHER)),
        # the answer, in the documents' words
        evidence.Evidence(hit, Span(len(first) + 2, len(text), second), 0.0, _unit(0.3 * OWN + 0.95 * DOCUMENTS)),
    ]


def test_the_sentence_in_the_documents_words_comes_first_with_the_rewritten_question():
    question = "Mag mijn baas mij 's avonds nog mailen?"
    asked, rewritten = OWN, _unit(0.3 * OWN + 0.95 * DOCUMENTS)
    alone = evidence.score(question, "nl", asked, _pool())
    assert alone[0].text.startswith("Je werkgever mag je mailen")  # the member's words find the wrong one
    both = evidence.score(question, "nl", asked, _pool(), rewritten_vector=rewritten)
    assert both[0].text.startswith("Buiten de werkuren")
    # a sentence never scores lower for the rewritten view: each takes the nearer of the two
    assert both[1].score == alone[0].score
