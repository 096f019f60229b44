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


def _sentences(chunk_id: str, rank: int, scores: list[float]) -> list[evidence.Evidence]:
    texts = {"a": ["Telewerk wordt geregeld in een cao.", "De werkgever betaalt een vergoeding voor internet.",
                   "Opleiding is een recht van elke werknemer."],
             "b": ["Buiten de werkuren heb je recht op deconnectie.", "Camerabeelden worden kort bewaard."]}[chunk_id]
    text = " ".join(texts)
    hit = Hit(Chunk(chunk_id, f"{chunk_id}.txt", chunk_id, text, 0, len(text), "nl"), score=1.0, rank=rank,
              dense_score=0.5)
    out, start = [], 0
    for t, s in zip(texts, scores):
        out.append(evidence.Evidence(hit, Span(start, start + len(t), t), s, _unit(OTHER)))
        start += len(t) + 1
    return out


def test_the_runner_up_passage_keeps_a_place_in_the_answer():
    """A member's own words rank another passage of the same theme first; its third sentence must not push the
    best sentence of the passage ranked second out of the answer."""
    first = _sentences("a", 1, [0.90, 0.88, 0.86])
    second = _sentences("b", 2, [0.84, 0.70])
    ranked = sorted(first + second, key=lambda e: e.score, reverse=True)
    chosen = evidence.select(ranked, limit=3, margin=0.16, per_passage=2)
    assert [e.hit.chunk.chunk_id for e in chosen] == ["a", "a", "b"]
    assert chosen[2].text.startswith("Buiten de werkuren")
    # without the cap the first passage's third sentence takes that place
    assert [e.hit.chunk.chunk_id for e in evidence.select(ranked, limit=3, margin=0.16, per_passage=3)] == ["a"] * 3
    # a sentence of another passage far below the best is still left out
    assert evidence.select(ranked, limit=3, margin=0.05, per_passage=2) == chosen[:2]
