"""The words of each language as data (qa/lexicon): members' words, the other language's terms, "why"."""

from __future__ import annotations

from qa.lexicon import lexicon, why


def test_a_member_word_stands_for_the_documents_word_in_any_inflection():
    nl = lexicon("nl")
    terms = {t for m in nl.synonyms_in("Mag mijn baas mij 's avonds nog mailen?") for t in m.terms}
    assert {"werkgever", "deconnectie", "e-mail"} <= terms
    assert "werkgever" in nl.expansion("Mogen bazen dat?")  # plural, same stem


def test_a_question_rewritten_in_the_documents_words_keeps_its_other_words_where_they_stand():
    nl = lexicon("nl")
    rewritten = nl.rewritten("Mag mijn baas mij 's avonds nog mailen? Mijn baas zegt van wel.")
    assert rewritten.startswith("Mag mijn werkgever leidinggevende")  # the member word gone, in its place
    assert "baas" not in rewritten and "avonds" not in rewritten and "mailen" not in rewritten
    assert "buiten de werkuren" in rewritten and rewritten.index("werkuren") < rewritten.index("nog e-mail")
    assert rewritten.endswith("zegt van wel.")  # the second "baas" replaced too, the rest as written
    no_member_word = "Wanneer werd het Europese kaderakkoord over digitalisering aangenomen?"
    assert nl.rewritten(no_member_word) == ""  # nothing to rewrite: no such view


def test_the_longest_phrase_wins_where_phrases_overlap():
    fr = lexicon("fr")
    matches = fr.synonyms_in("Ma fille travaille dans une maison de repos")
    assert [m.terms[0] for m in matches] == ["maisons de repos"]  # not "à la maison": telework


def test_one_snowball_stem_for_two_words_of_unlike_length_is_no_match():
    # French Snowball stems "communications" and "commune" alike; only the first is in the question
    assert not any("gemeente" in m.terms for m in lexicon("fr").crossing_in("les communications"))


def test_a_french_question_rendered_in_dutch_terms_keeps_numbers_and_acronyms():
    rendered = lexicon("fr").rendered("Mon patron peut-il m'envoyer des mails le soir ? Et la CCT 85 ?")
    assert {"werkgever", "deconnectie", "85", "CCT"} <= set(rendered.split())


def test_why_names_the_words_that_met():
    passage = "De werkgever mag geen e-mails sturen buiten de werkuren."
    reasons = why("Mag mijn baas mij 's avonds nog mailen?", "nl", passage, "nl")
    assert "baas → werkgever" in reasons and "mailen" in reasons
    assert "patron → werkgever" in why("Mon patron peut-il m'écrire ?", "fr", passage, "nl")
    assert why("Mag mijn baas mij 's avonds nog mailen?", "nl", "Robots in de zorg.", "nl") == []
