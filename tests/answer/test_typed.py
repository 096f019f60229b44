"""The typed-answer check: a value question is answered only by a sentence stating a value of that kind."""

from __future__ import annotations

from qa.answer.checks.typed import states_value
from qa.answer.question import read_question


def _states(question: str, sentence: str, language: str = "nl") -> bool:
    q = read_question(question, language)
    return states_value(q, sentence, language)


def test_a_monthly_amount_is_not_answered_by_a_daily_one():
    asked = "Hoeveel bedraagt de thuiswerkvergoeding per maand?"
    assert _states(asked, "De vergoeding bedraagt 151,70 euro per maand.")
    assert not _states(asked, "De sector betaalt 5 euro per dag telewerk.")


def test_a_percentage_is_not_a_count():
    asked = "Quel pourcentage des travailleurs fait du télétravail ?"
    assert _states(asked, "Près de 15 % des travailleurs font du télétravail.", "fr")
    assert not _states(asked, "340 entreprises ont conclu une CCT.", "fr")


def test_a_duration_is_a_length_or_an_end():
    asked = "Hoe lang mogen de beelden bewaard worden?"
    assert _states(asked, "De beelden worden drie maanden bewaard.")
    assert _states(asked, "De regeling loopt tot 31 december 2023.")
    assert not _states(asked, "Camerabewaking is enkel toegelaten voor de veiligheid.")


def test_a_question_for_findings_needs_a_sentence_that_reports_one():
    asked = "Wat waren de conclusies van de evaluatie?"
    assert _states(asked, "De evaluatie concludeert dat de regeling werkt.")
    assert not _states(asked, "De evaluatie wordt in 2024 uitgevoerd.")


def test_a_unit_the_documents_do_not_state_is_refused_end_to_end(qa_service):
    daily = qa_service.ask("Hoeveel bedraagt de thuiswerkvergoeding per dag?", generator="extractive")
    assert daily.abstained and daily.abstain_check == "typed-answer" and "per day" in daily.abstain_reason
    monthly = qa_service.ask("Hoeveel bedraagt de thuiswerkvergoeding per maand?", generator="extractive")
    assert not monthly.abstained and "151,70" in monthly.answer
