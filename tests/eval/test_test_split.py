"""The frozen test split (eval/test/questions.jsonl): questions written as members ask, never tuned on.

It judges retrieval and abstention on words the project's own sets do not use: colloquial questions that avoid
the words of the passage that answers them, unanswerable near misses, French questions about Dutch-only text.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from qa.eval.questions import corpus_texts, load_questions
from qa.fold import fold
from tests.conftest import SAMPLE_CORPUS as CORPUS

ROOT = Path(__file__).resolve().parents[2]
SPLIT = ROOT / "eval" / "test" / "questions.jsonl"
KINDS = {"amount", "rate", "count", "date", "duration", "yesno", "name", "definition", "procedure", "explanation"}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return corpus_texts(CORPUS)


@pytest.fixture(scope="module")
def questions(texts):
    return load_questions(SPLIT, texts)  # raises on any quote not found verbatim in its cleaned document


def test_split_has_the_promised_composition(questions):
    answerable = [q for q in questions if not q.unanswerable]
    assert len(questions) >= 100
    assert sum(q.style == "colloquial" for q in answerable) >= 40
    assert sum(q.unanswerable for q in questions) >= 25
    langs = Counter(q.lang for q in questions)
    assert abs(langs["nl"] - langs["fr"]) <= 0.1 * len(questions)
    assert all(q.style in ("colloquial", "plain") and q.kind in KINDS for q in questions)


def test_twenty_french_questions_rest_on_dutch_text(questions, texts):
    """Evidence in Dutch for a French question: the quote is found in a document's Dutch body, not its annexes."""
    folded = {doc: fold(text) for doc, text in texts.items()}
    dutch_evidence = [q for q in questions if q.lang == "fr" and not q.unanswerable
                      and all(not _is_french(quote) for quote in q.evidence)]
    assert len(dutch_evidence) >= 20, len(dutch_evidence)
    assert all(fold(e) in folded[q.doc] for q in dutch_evidence for e in q.evidence)


def _is_french(text: str) -> bool:
    words = set(fold(text).split())
    return len(words & {"le", "la", "les", "des", "est", "une", "du", "et", "pour", "sur", "dans"}) >= 2


def test_questions_do_not_repeat_the_dev_split(questions):
    dev = load_questions(ROOT / "eval" / "questions.jsonl")
    assert not {fold(q.question) for q in questions} & {fold(q.question) for q in dev}
