"""Sentence spans inside a passage, and which of them an answer may quote."""

from __future__ import annotations

from qa.sentences import is_evidence_sentence, split_sentences

CONGRESS = ("We leerden uit ons congres dat we onze wegwijzers in vijf grote thema’s kunnen indelen.\n\n"
            "6. Wegwijzers en werkplan: De vijf thema’s\n\n"
            "Anders werken, anders organiseren wegwijzer 6 Welzijn op het werk wegwijzer 7 Omkaderen van het werk\n\n"
            "> 75% kijkvastheid > 85% kijkvastheid jongeren\n\n40531 km 4839,16 CO2\n\n"
            "De modaliteiten bepalen minstens het volgende:\n- de praktische modaliteiten voor de werknemer;\n"
            "- de richtlijnen voor het gebruik van digitale hulpmiddelen.")


def test_a_paragraph_break_or_a_list_item_always_ends_a_sentence():
    texts = [s.text for s in split_sentences(CONGRESS, "nl")]
    assert texts == [
        "We leerden uit ons congres dat we onze wegwijzers in vijf grote thema’s kunnen indelen.",
        "6. Wegwijzers en werkplan: De vijf thema’s",
        "Anders werken, anders organiseren wegwijzer 6 Welzijn op het werk wegwijzer 7 Omkaderen van het werk",
        "> 75% kijkvastheid > 85% kijkvastheid jongeren",
        "40531 km 4839,16 CO2",
        "De modaliteiten bepalen minstens het volgende:",
        "- de praktische modaliteiten voor de werknemer;",
        "- de richtlijnen voor het gebruik van digitale hulpmiddelen.",
    ]
    assert all(CONGRESS[s.start:s.end] == s.text for s in split_sentences(CONGRESS, "nl"))


def test_french_abbreviations_do_not_cut_a_sentence():
    text = "La loi du 3 oct. 2022 s'applique. Elle vise p. ex. le télétravail."
    assert [s.text for s in split_sentences(text, "fr")] == ["La loi du 3 oct. 2022 s'applique.",
                                                               "Elle vise p. ex. le télétravail."]


def test_headings_table_rows_and_figures_are_never_quoted():
    quotable = [s.text for s in split_sentences(CONGRESS, "nl") if is_evidence_sentence(s, CONGRESS)]
    assert quotable == [
        "We leerden uit ons congres dat we onze wegwijzers in vijf grote thema’s kunnen indelen.",
        "De modaliteiten bepalen minstens het volgende:",
        "- de praktische modaliteiten voor de werknemer;",
        "- de richtlijnen voor het gebruik van digitale hulpmiddelen.",
    ]


def test_a_signature_line_is_never_quoted():
    preface = ("We danken de onderzoekers van de werkgroep voor het geleverde werk.\n\n"
               "Jan Peeters Algemeen Directeur VAKBOND.\n\n"
               "Het Rapport Van De Werkgroep Digitalisering.\n\n"
               "De Vlaamse Regering keurde het plan op 19 maart 2021 goed.")
    quotable = [s.text for s in split_sentences(preface, "nl") if is_evidence_sentence(s, preface)]
    assert quotable == ["We danken de onderzoekers van de werkgroep voor het geleverde werk.",
                        "De Vlaamse Regering keurde het plan op 19 maart 2021 goed."]
