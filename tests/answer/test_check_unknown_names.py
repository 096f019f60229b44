"""The unknown-names check: a name in the question that no passage, title or publisher contains means the
documents do not speak of it."""

from __future__ import annotations


def test_a_name_the_documents_never_mention_is_an_honest_abstention(qa_service):
    answer = qa_service.ask("Wat is de prijs van een treinabonnement naar Brussel?", generator="extractive")
    assert answer.abstained and answer.citations == []
    assert answer.abstain_check == "unknown-names"
    assert answer.abstain_reason == "the documents never mention Brussel"
    assert "niet in de bronnen" in answer.answer and answer.see_also
    tool = qa_service.ask("Wat zegt ChatGPT over telewerk?", generator="extractive")
    assert tool.abstained and tool.abstain_reason == "the documents never mention ChatGPT"


def test_a_name_the_documents_use_and_the_words_that_open_a_question_are_no_unknown_names(qa_service):
    # "ACV" and "CSC" publish documents; "Que", "Wat" open the questions
    for question in ("Wat zegt het ACV over telewerk?", "Que dit la CSC sur le télétravail ?"):
        answer = qa_service.ask(question, generator="extractive")
        assert not answer.abstained and answer.citations, question


def test_a_name_that_only_tells_the_members_situation_does_not_stop_the_answer(qa_service):
    # the member's employer, told in a sentence before the question, is no subject the passages must name
    told = qa_service.ask("Ik werk bij Brantex. Mag mijn baas mij 's avonds nog een e-mail sturen?",
                          generator="extractive")
    assert not told.abstained and "deconnectie.md" in {c.chunk.doc for c in told.citations}
    asked = qa_service.ask("Mag Brantex mij 's avonds nog een e-mail sturen?", generator="extractive")
    assert asked.abstained and asked.abstain_reason == "the documents never mention Brantex"
    # a member word of the lexicon ("SMS") is a word the search knows, no unknown name
    sms = qa_service.ask("Mag mijn chef mij 's avonds nog een SMS sturen?", generator="extractive")
    assert sms.abstain_check != "unknown-names"
