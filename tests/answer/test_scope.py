"""A quote from a table of sector agreements says which joint committee it belongs to."""

from __future__ import annotations

import json

from qa.answer.scope import committee_of
from qa.service import QAService
from tests.conftest import build_index, make_settings

TABLE = """Aperçus sectoriels : dispositions relatives au télétravail

CP 320.00 COMMISSION PARITAIRE DES ENTREPRISES DE POMPES FUNÈBRES

Article 7. Les autres coûts liés au télétravail sont indemnisés par l'employeur par le biais d'une indemnité nette de 5 euros par jour de télétravail.

CP 337.00 COMMISSION PARITAIRE AUXILIAIRE POUR LE SECTEUR NON MARCHAND

Article 3. Le télétravail se fait sur une base volontaire. L'employeur rembourse les frais de connexion internet à hauteur de 12 euros par mois.

3190200 - SOUS-COMMISSION PARITAIRE DES ÉTABLISSEMENTS D'ÉDUCATION

Article 2. Le télétravailleur reçoit un ordinateur portable.
"""


def committee(text: str, offset: int) -> str | None:
    found = committee_of(text, offset)
    return found.code if found else None


def test_a_row_sentence_gets_its_committee_and_nothing_is_guessed():
    assert committee(TABLE, TABLE.index("5 euros par jour")) == "CP 320.00"
    assert committee(TABLE, TABLE.index("12 euros par mois")) == "CP 337.00"
    # a row whose label the PDF mangled ends the row before and gives no scope, rather than a wrong one
    assert committee(TABLE, TABLE.index("ordinateur portable")) is None
    assert committee(TABLE, TABLE.index("Aperçus sectoriels")) is None
    prose = "La commission paritaire pour les banques (CP 310) a conclu une CCT. Elle prévoit 10 euros."
    assert committee(prose, prose.index("10 euros")) is None


def _table_service(tmp_path) -> QAService:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "annexe-secteurs.txt").write_text(TABLE, encoding="utf-8")
    (corpus / "catalog.json").write_text(json.dumps({"annexe-secteurs.txt": {
        "title": "Aperçus sectoriels", "publisher": "CNT", "date": "2023-05-30"}}), encoding="utf-8")
    settings = make_settings()
    return QAService.load(settings, build_index(corpus, tmp_path / "index", settings))


def test_an_amount_from_a_sector_table_is_answered_with_its_committee(tmp_path):
    service = _table_service(tmp_path)
    answer = service.ask("Combien touche-t-on par jour de télétravail dans les pompes funèbres ?",
                         generator="extractive")
    assert not answer.abstained
    assert "Selon [1] (CP 320.00) :" in answer.answer and "5 euros" in answer.answer
    dutch = service.ask("Hoeveel bedraagt de thuiswerkvergoeding per dag in PC 320?", generator="extractive")
    assert not dutch.abstained and "(PC 320.00)" in dutch.answer


def test_an_amount_asked_for_another_group_is_not_answered_with_a_sector_amount(tmp_path):
    service = _table_service(tmp_path)
    for question in ("Quel est le montant de l'indemnité de télétravail pour les fonctionnaires fédéraux ?",
                     "Hoeveel bedraagt de thuiswerkvergoeding voor ambtenaren?"):
        answer = service.ask(question, generator="extractive")
        assert answer.abstained and answer.citations == [] and answer.see_also, question
        assert "CP 320.00" in answer.abstain_reason
    # not an amount question: the quote is given, with its committee
    general = service.ask("Qui paie les frais de télétravail dans les pompes funèbres ?", generator="extractive")
    assert not general.abstained and "(CP 320.00)" in general.answer
