"""The stated-numbers check: a number the question states that no retrieved passage (nor its title) states."""

from __future__ import annotations

import json

from qa.conversation import Turn
from qa.service import QAService
from tests.conftest import CORPUS, build_index, make_settings


def test_a_number_in_a_document_title_counts_as_mentioned(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rapport.txt").write_text(CORPUS["acv.telewerk-2021.txt"], encoding="utf-8")
    (corpus / "catalog.json").write_text(json.dumps({"rapport.txt": {"title": "Rapport nr. 131 over telewerk",
                                                                     "publisher": "NAR", "date": "2023"}}))
    settings = make_settings()
    service = QAService.load(settings, build_index(corpus, tmp_path / "index", settings))
    named = service.ask("Wat zegt rapport nr. 131 over de telewerkovereenkomst?", generator="extractive")
    assert not named.abstained and "telewerkovereenkomst" in named.answer
    other = service.ask("Wat zegt rapport nr. 140 over de telewerkovereenkomst?", generator="extractive")
    assert other.abstained and other.to_json()["abstain_reason"] == "no passage mentions 140"
    assert other.abstain_check == "stated-numbers"


def test_a_number_that_only_tells_the_members_situation_is_no_constraint(qa_service):
    # "15 werknemers" tells the firm's size; the rule for firms of twenty or more is what answers
    told = qa_service.ask("Ons bedrijf telt 15 werknemers. Moet mijn werkgever afspraken maken over deconnectie?",
                          generator="extractive")
    assert not told.abstained and "twintig" in told.answer
    asked = qa_service.ask("Moet een werkgever met 15 werknemers afspraken maken over deconnectie?",
                           generator="extractive")
    assert asked.abstained and asked.abstain_reason == "no passage mentions 15"


def test_a_number_carried_over_from_an_earlier_turn_is_no_constraint(qa_service):
    # the follow-up is searched with the earlier question's words, "15" among them; the member asks when, and
    # "15" was the earlier turn's situation, not a number this turn asks about
    earlier = Turn("Ons bedrijf telt 15 werknemers. Moet mijn werkgever afspraken maken over deconnectie?", "", "nl")
    follow_up = qa_service.ask("En vanaf wanneer?", generator="extractive", history=[earlier])
    assert follow_up.abstain_check != "stated-numbers"
    assert not follow_up.abstained and "Sinds 2022" in follow_up.answer
