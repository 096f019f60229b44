"""The typed-answer check: a value question is answered only by a sentence stating a value of that kind."""

from __future__ import annotations

from qa.answer.stated import states_value
from qa.answer.question import read_question
from tests.answer.services import dated_service


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


def test_a_percentage_is_no_duration():
    asked = "Combien de temps dure la phase pilote du projet ?"
    assert not _states(asked, "Les moyens s'élèvent à 252,9 millions € (3,3% du total du Plan de relance).", "fr")
    assert _states("Quel pourcentage du plan va au numérique ?", "Cela fait 3,3% du total du Plan.", "fr")
    assert _states(asked, "La phase pilote dure six mois.", "fr")


def test_a_duration_is_a_length_or_an_end():
    asked = "Hoe lang mogen de beelden bewaard worden?"
    assert _states(asked, "De beelden worden drie maanden bewaard.")
    assert _states(asked, "De regeling loopt tot 31 december 2023.")
    assert not _states(asked, "Camerabewaking is enkel toegelaten voor de veiligheid.")


def test_a_date_alone_is_no_duration():
    asked = "Combien de temps a duré la réunion du 16 novembre 2020 ?"
    assert not _states(asked, "Le 16 novembre 2020, les partenaires sociaux ont organisé une réunion.", "fr")
    assert not _states("Hoelang mogen de gegevens bewaard worden?",
                       "De Raad sprak zich uit in zijn advies nr. 2.288 van 26 april 2022.")
    assert _states(asked, "Le projet court jusqu'à la fin de 2024.", "fr")
    assert _states(asked, "La réunion a duré deux heures.", "fr")


def test_a_date_written_in_digits_answers_when_and_an_inserted_article_number_does_not():
    asked = "Wanneer vond de studiedag plaats?"
    assert _states(asked, "De studiedag vond plaats op 14/11 in Brussel.")
    assert not _states(asked, "De studiedag wordt geregeld door artikel 17/2 van de wet.")
    assert not _states("Quand la réunion a-t-elle eu lieu ?",
                       "La CCT renvoie aux articles 16 à 17/2 inclus de la loi.", "fr")


def test_how_often_is_answered_by_a_frequency_not_by_a_date_or_a_count():
    asked = "Hoe vaak moet de werkgever het telewerkbeleid evalueren?"
    assert _states(asked, "Het beleid wordt jaarlijks geëvalueerd.")
    assert _states(asked, "De werkgever evalueert het beleid om de twee jaar.")
    assert _states(asked, "De werkgever bespreekt het beleid twee keer met de vakbond.")
    assert not _states(asked, "Het beleid werd op 3 maart 2022 geëvalueerd.")
    assert not _states(asked, "Elke werknemer krijgt het beleid bij de aanwerving.")
    asked = "Combien de fois par an le comité se réunit-il ?"
    assert _states(asked, "Le comité se réunit quatre fois par an.", "fr")
    assert not _states(asked, "Le comité se réunit quatre fois.", "fr")  # the unit asked is not stated
    assert not _states(asked, "Le comité compte douze membres.", "fr")


def test_a_question_for_findings_needs_a_sentence_that_reports_one():
    asked = "Wat waren de conclusies van de evaluatie?"
    assert _states(asked, "De evaluatie concludeert dat de regeling werkt.")
    assert not _states(asked, "De evaluatie wordt in 2024 uitgevoerd.")


def test_a_unit_the_documents_do_not_state_is_refused_end_to_end(qa_service):
    daily = qa_service.ask("Hoeveel bedraagt de thuiswerkvergoeding per dag?", generator="extractive")
    assert daily.abstained and daily.abstain_check == "typed-answer" and "per day" in daily.abstain_reason
    monthly = qa_service.ask("Hoeveel bedraagt de thuiswerkvergoeding per maand?", generator="extractive")
    assert not monthly.abstained and "151,70" in monthly.answer


def test_amount_question_over_passages_stating_no_amount_is_not_answered(tmp_path):
    service = dated_service(tmp_path, "deconnectie.md", "camera-toezicht.txt")
    answer = service.ask("Hoe hoog is de boete voor een werkgever die geen afspraken over deconnectie maakt?",
                         generator="extractive")
    assert answer.abstained and answer.citations == []
    on_topic = service.ask("Moet mijn werkgever afspraken maken over deconnectie?", generator="extractive")
    assert not on_topic.abstained


def test_how_often_over_passages_stating_no_frequency_is_not_answered(tmp_path):
    text = ("Evaluatie van het telewerkbeleid\n\nDe werkgever evalueert het telewerkbeleid samen met de vakbond. "
            "De eerste evaluatie vond plaats op 3 maart 2022 en leidde tot een nieuwe regeling voor laptops.\n")
    service = dated_service(tmp_path, texts={"evaluatie.txt": text})
    asked = "Hoe vaak evalueert de werkgever het telewerkbeleid?"
    answer = service.ask(asked, generator="extractive")
    assert answer.abstained and answer.abstain_check == "typed-answer", answer.answer
    assert "how often" in answer.abstain_reason
    (tmp_path / "yearly").mkdir()
    yearly = dated_service(tmp_path / "yearly", texts={"evaluatie.txt": text.replace(
        "samen met de vakbond.", "elk jaar samen met de vakbond.")})
    answer = yearly.ask(asked, generator="extractive")
    assert not answer.abstained and "elk jaar" in answer.answer, answer.abstain_reason


def test_a_number_asked_of_one_level_of_government_comes_only_from_a_passage_about_that_level(tmp_path):
    brussels = ("Telewerk bij de Brusselse gewestelijke diensten\n\nBij de Brusselse gewestelijke diensten mogen "
                "medewerkers tot drie dagen per week telewerken. Zij krijgen daarvoor een laptop.\n")
    service = dated_service(tmp_path, "deconnectie.md", texts={"brussel.txt": brussels})
    federal = service.ask("Hoeveel dagen per week mogen federale ambtenaren telewerken?", generator="extractive")
    assert federal.abstained and federal.citations == []
    assert "federal" in federal.to_json()["abstain_reason"]
    for question in ("Hoeveel dagen per week mogen Brusselse ambtenaren telewerken?",
                     "Combien de jours par semaine les fonctionnaires bruxellois peuvent-ils télétravailler ?",
                     "Hoeveel dagen per week mag ik telewerken?"):  # no level asked: the quote names its own
        answer = service.ask(question, generator="extractive")
        assert not answer.abstained and "drie dagen" in answer.answer, question


def test_of_two_levels_stating_a_number_the_one_asked_about_is_quoted(tmp_path):
    # the Brussels sentence matches the question's words better; quoting it first told "drie dagen"
    brussels = ("Telewerk bij de Brusselse gewestelijke diensten\n\nBij de Brusselse gewestelijke diensten mogen "
                "medewerkers van de overheid tot drie dagen per week telewerken, ook ambtenaren. Zij krijgen "
                "daarvoor een laptop.\n")
    flemish = ("Vlaamse overheid\n\nBij de Vlaamse overheid geldt sinds 2022 een nieuwe regeling: twee dagen per "
               "week thuis is het maximum.\n")
    service = dated_service(tmp_path, texts={"brussel.txt": brussels, "vlaanderen.txt": flemish})
    for question, right, wrong in (
            ("Hoeveel dagen per week mogen Vlaamse ambtenaren telewerken?", "twee", "drie"),
            ("Combien de jours par semaine les fonctionnaires flamands peuvent-ils télétravailler ?", "twee", "drie"),
            ("Hoeveel dagen per week mogen Brusselse ambtenaren telewerken?", "drie", "twee")):
        answer = service.ask(question, generator="extractive")
        assert not answer.abstained and f"{right} dagen" in answer.answer, question
        assert f"{wrong} dagen" not in answer.answer, question


def test_a_duration_stated_below_the_sentences_sharing_the_question_words_is_found(tmp_path):
    # the sentences that repeat the member's words come first; the one that states how long comes last, in
    # other words: the value must be looked for in every retrieved sentence, not only the closest few
    repeated = " ".join(f"Het opleidingstraject voor digitale vaardigheden helpt werknemers bij {topic}."
                        for topic in ("e-mail", "tekstverwerking", "rekenbladen", "videovergaderingen",
                                      "online formulieren", "veilig wachtwoordgebruik", "de intranetsite",
                                      "de digitale loonbrief", "online leren", "het planningssysteem"))
    text = f"Digitale vaardigheden\n\n{repeated}\n\nHet geheel neemt in totaal zes maanden in beslag.\n"
    service = dated_service(tmp_path, texts={"vaardigheden.txt": text})
    answer = service.ask("Hoelang duurt het opleidingstraject voor digitale vaardigheden?", generator="extractive")
    assert not answer.abstained, answer.abstain_reason
    assert "zes maanden" in answer.answer
