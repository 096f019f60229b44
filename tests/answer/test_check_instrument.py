"""The instrument check: a question on what a regulation or directive says is not answered with loose quotes
when no retrieved passage mentions one."""

from __future__ import annotations

from tests.answer.services import dated_service


def test_a_question_on_a_regulation_the_documents_never_mention_is_not_answered_with_loose_quotes(qa_service):
    asked = qa_service.ask("Wat zegt de algoritmeverordening over het beoordelen van prestaties?",
                           generator="extractive")
    assert asked.abstained and asked.citations == []
    assert asked.abstain_check == "instrument" and "algoritmeverordening" in asked.to_json()["abstain_reason"]
    french = qa_service.ask("Que dit le règlement sur les algorithmes qui évaluent les travailleurs ?",
                            generator="extractive")
    assert french.abstained and "règlement" in french.to_json()["abstain_reason"]
    # the same topic without a legal text named is answered, and a work regulation is no such text
    topic = qa_service.ask("Mag een algoritme alleen beslissen over mijn ontslag?", generator="extractive")
    assert not topic.abstained
    work_rules = qa_service.ask("Moeten de afspraken over deconnectie in het arbeidsreglement staan?",
                                generator="extractive")
    assert not work_rules.abstained
    french_work_rules = qa_service.ask("Les accords sur la déconnexion doivent-ils figurer dans le règlement de "
                                       "travail ?", generator="extractive")
    assert not french_work_rules.abstained


def test_a_question_on_a_regulation_the_documents_do_discuss_is_answered(tmp_path):
    privacy = ("Camerabeelden van werknemers zijn persoonsgegevens. De Algemene Verordening Gegevensbescherming "
               "(AVG) verplicht de werkgever om camerabeelden van werknemers niet langer dan nodig te bewaren.\n")
    service = dated_service(tmp_path, "camera-toezicht.txt", texts={"privacy.txt": privacy})
    answer = service.ask("Wat zegt de privacyverordening over het bewaren van camerabeelden?", generator="extractive")
    assert not answer.abstained and "bewaren" in answer.answer


def test_a_regulation_named_by_its_english_name_is_a_regulation_discussed(tmp_path):
    act = ("De Europese AI Act deelt AI-systemen voor de selectie van sollicitanten in als systemen met een hoog "
           "risico. Werkgevers moeten sollicitanten informeren wanneer zulke systemen hen beoordelen.\n")
    service = dated_service(tmp_path, "camera-toezicht.txt", texts={"ai-act.txt": act})
    answer = service.ask("Wat zegt de AI-verordening over sollicitanten?", generator="extractive")
    assert not answer.abstained and "hoog" in answer.answer
