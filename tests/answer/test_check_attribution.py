"""The attribution check: a question naming an organisation quotes only its documents or passages naming it;
none retrieved, the documents do not say."""

from __future__ import annotations

from tests.answer.services import dated_service


def test_a_question_naming_an_organisation_quotes_only_its_documents_or_passages_naming_it(tmp_path):
    # the council's telework sentence, quoted for "what does VIVO say", reads as VIVO's position
    council = ("Advies over telewerk\n\nDe raad vraagt dat telewerk altijd vrijwillig blijft en dat de werkgever "
               "de kosten van thuiswerk vergoedt.\n")
    care = ("Digitale vaardigheden in de zorg\n\nZorgverleners krijgen opleiding in het elektronisch "
            "patiëntendossier. De sector investeert in de digitale vaardigheden van het personeel.\n")
    cited = ("Telewerk in de zorg\n\nVolgens VIVO telewerken zorgverleners zelden, omdat zorg nabijheid vraagt.\n")
    service = dated_service(tmp_path, texts={"raad.txt": council, "zorg.txt": care},
                             publishers={"raad.txt": "SERV – Sociaal-Economische Raad van Vlaanderen",
                                         "zorg.txt": "VIVO"})
    for question in ("Wat zegt de SERV over telewerk?", "Que dit le SERV sur le télétravail ?"):
        answer = service.ask(question, generator="extractive")
        assert not answer.abstained and "vrijwillig" in answer.answer, question
    vivo = service.ask("Wat zegt VIVO over telewerk?", generator="extractive")
    assert "vrijwillig" not in vivo.answer
    assert all(c.chunk.doc == "zorg.txt" for c in vivo.citations)
    # an organisation that published nothing here and is named in a passage not retrieved: not its word
    (tmp_path / "elsewhere").mkdir()
    pensions = "Pensioenen\n\nHet ABVV vraagt een hoger minimumpensioen voor wie een volledige loopbaan heeft.\n"
    service = dated_service(tmp_path / "elsewhere", texts={"raad.txt": council, "pensioen.txt": pensions},
                            publishers={"raad.txt": "SERV – Sociaal-Economische Raad van Vlaanderen",
                                        "pensioen.txt": "Nationale Arbeidsraad"})
    only_council = service.ask("Wat zegt het ABVV over telewerk?", generator="extractive", k=1)
    assert only_council.abstained and only_council.citations == []
    assert only_council.to_json()["abstain_reason"] == "no retrieved passage is from or about ABVV"
    assert only_council.abstain_check == "attribution"
    # another body's document that reports VIVO's view is VIVO's word, and quoted
    (tmp_path / "named").mkdir()
    service = dated_service(tmp_path / "named", texts={"raad.txt": council, "verslag.txt": cited},
                             publishers={"raad.txt": "SERV – Sociaal-Economische Raad van Vlaanderen",
                                         "verslag.txt": "Nationale Arbeidsraad"})
    named = service.ask("Wat zegt VIVO over telewerk?", generator="extractive")
    assert not named.abstained and "nabijheid" in named.answer and "vrijwillig" not in named.answer


def test_an_organisation_named_only_in_the_members_situation_does_not_narrow_the_quotes(tmp_path):
    # "Ik ben lid van VIVO." tells who the member is; the council's answer on telework still answers them
    council = ("Advies over telewerk\n\nDe raad vraagt dat telewerk altijd vrijwillig blijft en dat de werkgever "
               "de kosten van thuiswerk vergoedt.\n")
    care = ("Digitale vaardigheden in de zorg\n\nZorgverleners krijgen opleiding in het elektronisch "
            "patiëntendossier. De sector investeert in de digitale vaardigheden van het personeel.\n")
    service = dated_service(tmp_path, texts={"raad.txt": council, "zorg.txt": care},
                            publishers={"raad.txt": "SERV – Sociaal-Economische Raad van Vlaanderen",
                                        "zorg.txt": "VIVO"})
    told = service.ask("Ik werk voor VIVO. Moet telewerk vrijwillig blijven?", generator="extractive")
    assert not told.abstained and "vrijwillig" in told.answer
    asked = service.ask("Vindt VIVO dat telewerk vrijwillig moet blijven?", generator="extractive")
    assert "vrijwillig" not in asked.answer
