"""The retrieved check: when nothing is retrieved, the reason is "nothing retrieved", before any other check."""

from __future__ import annotations

from qa.answer import evidence
from qa.answer.checks import Context, narrow, verdict
from qa.answer.question import read_question


def _context(service, question: str, hits) -> Context:
    q = read_question(question, "nl")
    vector = service.embedder.embed_queries([question])[0]
    ranked = evidence.score(question, "nl", vector, evidence.candidates(service.index, hits))
    return Context(q, hits, ranked, service.index, service.settings, service.embedder, vector)


def test_nothing_retrieved_is_the_reason(qa_service):
    ctx = _context(qa_service, "Hoeveel bedraagt de thuiswerkvergoeding per maand?", [])
    narrow(ctx)
    assert verdict(ctx) == ("retrieved", "nothing retrieved")


def test_retrieved_passages_that_answer_pass(qa_service):
    question = "Hoeveel bedraagt de thuiswerkvergoeding per maand?"
    ctx = _context(qa_service, question, qa_service.search(question, k=5))
    narrow(ctx)
    assert verdict(ctx) is None
