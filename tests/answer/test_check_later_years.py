"""The later-years check: a year in the question after every document's date is answered "the documents
predate it"; a year that is part of a name the passages use is no time."""

from __future__ import annotations

from tests.answer.services import dated_service


def test_a_question_about_a_year_after_every_document_is_answered_honestly(tmp_path):
    service = dated_service(tmp_path, "acv.telewerk-2021.txt", "deconnectie.md")
    later = service.ask("Wat verandert de nieuwe telewerkwet van 2025 aan de vergoeding?", generator="extractive")
    assert later.abstained and later.citations == []
    assert later.to_json()["abstain_reason"] == "the documents predate 2025"  # for helpdesk and evaluators
    assert later.abstain_check == "later-years"
    covered = service.ask("Hoeveel bedraagt de vergoeding voor wie structureel thuiswerkt?", generator="extractive")
    assert not covered.abstained and "151,70" in covered.answer


def test_a_year_in_the_name_of_a_text_the_documents_cite_is_no_time(tmp_path):
    plan = ("De vakbond schreef zijn toekomstvisie neer in het Toekomstplan 2030 van 12 maart 2021. "
            "Het Toekomstplan 2030 vraagt een recht op opleiding van vijf dagen per jaar voor elke werknemer.\n")
    service = dated_service(tmp_path, "deconnectie.md", texts={"toekomstplan.txt": plan})
    named = service.ask("Wat vraagt het Toekomstplan 2030 over opleiding?", generator="extractive")
    assert not named.abstained and "vijf dagen" in named.answer
    later = service.ask("Wat vraagt de vakbond in 2030 over opleiding?", generator="extractive")
    assert later.abstained and later.to_json()["abstain_reason"] == "the documents predate 2030"
