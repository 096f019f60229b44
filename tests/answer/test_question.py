"""The question read once: the kind of answer asked, its unit, whether it asks for a finding (lexicon data)."""

from __future__ import annotations

import pytest

from qa.answer.question import read_question


@pytest.mark.parametrize("text, language, kind", [
    ("Hoeveel bedraagt de thuiswerkvergoeding per maand?", "nl", "amount"),
    ("Quel est le montant de l'indemnité de télétravail ?", "fr", "amount"),
    ("Hoeveel geld gaat er naar digitalisering?", "nl", "amount"),
    ("Combien d'argent la Wallonie consacre-t-elle au numérique ?", "fr", "amount"),
    ("Quel est le salaire horaire minimum d'un coursier ?", "fr", "amount"),
    ("Combien de secteurs ont une CCT sur la déconnexion ?", "fr", "count"),
    ("Vanaf hoeveel werknemers geldt de plicht?", "nl", "count"),
    ("Hoeveel procent van de werknemers werkt thuis?", "nl", "rate"),
    ("Quel pourcentage des entreprises a une CCT ?", "fr", "rate"),
    ("Hoe lang mogen camerabeelden bewaard worden?", "nl", "duration"),
    ("Pendant combien de temps l'employeur garde-t-il les images ?", "fr", "duration"),
    ("Hoe vaak moet de werkgever het telewerkbeleid evalueren?", "nl", "frequency"),
    ("À quelle fréquence dois-je faire contrôler ma voiture ?", "fr", "frequency"),
    ("Combien de fois par an le comité se réunit-il ?", "fr", "frequency"),
    ("Quel est le délai de préavis ?", "fr", "duration"),
    ("Wat is de maximale duur van een dagcontract?", "nl", "duration"),
    ("Quel est le taux de chômage des jeunes ?", "fr", "rate"),
    ("Wat kost een opleiding bij de VDAB?", "nl", "amount"),
    ("Quel est le rôle du conseil dans la formation ?", "fr", "name"),  # "conseil", "formation" invert nothing
    ("Wanneer werd het akkoord gesloten?", "nl", "date"),
    ("À partir de quand le compte formation est-il consultable ?", "fr", "date"),
    ("Mag mijn baas mij 's avonds nog mailen?", "nl", "yesno"),
    ("Ik heb geen smartphone. Kan ik dan een treinabonnement krijgen?", "nl", "yesno"),
    ("Mon patron peut-il m'obliger à télétravailler ?", "fr", "yesno"),
    ("Wat betekent e-inclusie?", "nl", "definition"),
    ("Comment demander une formation ?", "fr", "procedure"),
    ("Welke cao regelt thuiswerk?", "nl", "name"),
    ("Waarom vragen de sociale partners een digitale agenda?", "nl", "explanation"),
])
def test_the_kind_of_answer_asked(text, language, kind):
    assert read_question(text, language).kind == kind


def test_wanneer_before_a_modal_asks_a_condition_not_a_date():
    assert read_question("Wanneer mag mijn werkgever mij bellen?", "nl").kind != "date"
    assert read_question("Quand puis-je refuser de répondre ?", "fr").kind != "date"


def test_the_unit_asked():
    assert read_question("Hoeveel bedraagt de maandelijkse vergoeding?", "nl").unit == "month"
    assert read_question("Combien touche-t-on par jour de télétravail ?", "fr").unit == "day"
    assert read_question("Hoeveel bedraagt de vergoeding?", "nl").unit is None


def test_a_question_asking_for_findings():
    assert read_question("Wat waren de conclusies van de evaluatie?", "nl").reports
    assert read_question("Quelles sont les conclusions du groupe de travail ?", "fr").reports
    assert read_question("Qu'a conclu le groupe de travail ?", "fr").reports
    assert not read_question("Quand ont-ils conclu leur accord ?", "fr").reports
