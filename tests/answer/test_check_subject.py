"""The subject check: a value is quoted only from a passage that speaks of what the question is about."""

from __future__ import annotations

import pytest

from qa.answer.checks.subject import RARE_SHARE, subject_terms
from tests.answer.services import dated_service

# Ten short notes on other matters: the collection a rare word is rare in.
NOTES = {f"nota-{n}.txt": text for n, text in enumerate([
    "De ondernemingsraad vergadert elke maand over de organisatie van het werk.",
    "Een fietsvergoeding staat op de agenda van het volgende overleg; er is nog niets over afgesproken.",
    "De vakbond organiseert vormingen over digitale vaardigheden voor militanten.",
    "Camera's op de werkvloer mogen enkel voor veiligheid worden gebruikt, nooit om prestaties te meten.",
    "Het arbeidsreglement beschrijft de werktijden en de pauzes van elke ploeg.",
    "Wie ziek is, bezorgt zijn werkgever binnen twee werkdagen een medisch attest.",
    "Het overleg over de eindejaarspremie wordt in het najaar hervat.",
    "De preventieadviseur volgt de psychosociale risico's van digitaal werk op.",
    "Nieuwe software wordt pas ingevoerd na overleg met de werknemersvertegenwoordigers.",
    "Militanten krijgen een opleiding over het recht op deconnectie.",
])}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return dated_service(tmp_path_factory.mktemp("subject"), "acv.telewerk-2021.txt", texts=NOTES)


def test_an_amount_about_another_subject_is_not_the_answer(service):
    """The only monthly amount is the telework allowance: it does not say what the bicycle allowance is."""
    answer = service.ask("Hoeveel bedraagt de fietsvergoeding per maand?", generator="extractive")
    assert answer.abstained and "151,70" not in answer.answer
    assert answer.abstain_check == "subject"
    assert "fiets" in answer.to_json()["abstain_reason"]  # the helpdesk sees which subject was missing


def test_an_amount_about_the_subject_asked_is_answered(service):
    answer = service.ask("Hoeveel bedraagt de vergoeding voor bureaukosten per maand?", generator="extractive")
    assert not answer.abstained and "151,70" in answer.answer


def test_the_subject_is_read_from_the_questions_rare_words(service):
    index = service.index
    terms = subject_terms("Hoeveel bedraagt de fietsvergoeding per maand?", "nl", "nl", index)
    assert any(t.startswith("fiets") for t in terms)
    assert not any(t.startswith(("hoeveel", "bedraag", "maand")) for t in terms)  # the kind asked, its unit
    assert all(0 < index.lexical.share(t) <= RARE_SHARE for t in terms)


def test_over_a_few_passages_no_word_is_rare(tmp_path):
    small = dated_service(tmp_path, "acv.telewerk-2021.txt", texts={"fiets.txt": NOTES["nota-1.txt"]})
    assert subject_terms("Hoeveel bedraagt de fietsvergoeding per maand?", "nl", "nl", small.index) == set()
