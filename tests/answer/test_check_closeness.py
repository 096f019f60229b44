"""The closeness check: when the best passage or sentence is further from the question than the floor of its
language, the answer is an honest abstention."""

from __future__ import annotations

from qa.service import QAService

QUESTION = "Mag mijn werkgever mij permanent filmen?"  # the camera document answers it


def test_a_question_close_enough_to_a_passage_is_answered(qa_service):
    answer = qa_service.ask(QUESTION, generator="extractive")
    assert not answer.abstained and "camera" in answer.answer.lower()


def test_a_question_further_from_every_sentence_than_the_floor_is_an_honest_abstention(qa_service):
    # a sentence scores its cosine plus its passage's and a little more: no sentence reaches 10
    strict = QAService.load(qa_service.settings.model_copy(update={"abstain_sentence_nl": 10.0}),
                            qa_service.index_dir)
    answer = strict.ask(QUESTION, generator="extractive")
    assert answer.abstained and answer.citations == []
    assert answer.abstain_check == "closeness"
    assert answer.abstain_reason == "the closest passages are too far from the question"
    assert "niet in de bronnen" in answer.answer and answer.see_also


def test_a_question_further_from_every_passage_than_the_floor_is_an_honest_abstention(qa_service):
    strict = QAService.load(qa_service.settings.model_copy(update={"abstain_passage_nl": 0.99}),
                            qa_service.index_dir)
    answer = strict.ask(QUESTION, generator="extractive")
    assert answer.abstained and answer.abstain_check == "closeness"
