"""A "when" question is answered only by a date of what it asks about (qa/dated.py), with the real EmbeddingGemma."""

from __future__ import annotations

import pytest

from qa.config import Settings
from qa.dated import DateCheck
from qa.service import QAService
from tests.conftest import build_index, make_settings

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


def test_a_date_check_answers_with_the_sentences_it_holds():
    check = DateCheck(frozenset({"Het congres vond plaats op 27 mei 2021."}))
    assert check.answers("Het congres vond plaats op 27 mei 2021.")
    assert not check.answers("Vanaf 1 april 2023 moeten ondernemingen een cao sluiten.")
    assert check.missing == "none of the closest passages dates what the question asks about"


@pytest.fixture(scope="module")
def gemma_service(tmp_path_factory):
    if not (Settings(_env_file=None).models_dir / "embeddinggemma" / "modules.json").exists():
        pytest.skip("EmbeddingGemma is not fetched (`qa models fetch`)")
    root = tmp_path_factory.mktemp("dated")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "deconnectie-en-congres.txt").write_text(REPORT, encoding="utf-8")
    settings = make_settings(embed_model="embeddinggemma")
    return QAService.load(settings, build_index(corpus, root / "index", settings))


def test_when_is_answered_with_the_date_of_what_was_asked(gemma_service):
    congress = gemma_service.ask("Wanneer vond het congres van de vakbond plaats?", generator="extractive")
    assert not congress.abstained and "27 en 28 mei 2021" in congress.answer and "april" not in congress.answer
    deadline = gemma_service.ask("Sinds wanneer geldt de plicht om een cao over deconnectie te sluiten?",
                                 generator="extractive")
    assert not deadline.abstained and "1 april 2023" in deadline.answer


def test_a_date_of_something_else_is_no_answer(gemma_service):
    # the documents discuss the allowance but date only other things: quoting "1 april 2023" or the congress
    # as the answer would tell the member a wrong date. (A date of another event on the same topic can still
    # pass the floor: the check is a closeness floor, not an event match; eval/README.md.)
    answer = gemma_service.ask("Wanneer wordt de thuiswerkvergoeding verhoogd?", generator="extractive")
    assert answer.abstained and answer.citations == []
    assert answer.to_json()["abstain_reason"] == "none of the closest passages dates what the question asks about"
