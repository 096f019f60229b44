"""Cleaning extracted text: what a member reading a cited passage would notice."""

from __future__ import annotations

import pytest

from qa.ingest.clean import clean_pages, clean_text, clean_text_with_stats, is_heading, normalize_unicode

# --- Hyphenation at line ends --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # broken words are glued
        ("de impact op de dienst-\nverlening is groot.", "de impact op de dienstverlening is groot."),
        ("van digitali-\nsering en robotisering", "van digitalisering en robotisering"),
        # across the blank line some extractors insert after every line
        ("Dat gaat snel, bijvoor-\n\nbeeld. En dat", "Dat gaat snel, bijvoorbeeld. En dat"),
        ("II. TENUITVOERLEGGING OVER DIGITALI-\n\nSERING", "II. TENUITVOERLEGGING OVER DIGITALISERING"),
        # Dutch drops the trema at a break: put it back
        ("werden ge-\nidentificeerd als domein", "werden geïdentificeerd als domein"),
        # real hyphens stay
        ("stuur een e-\nmail naar de vakbond", "stuur een e-mail naar de vakbond"),
        ("de ICT-\ninfrastructuur van de school", "de ICT-infrastructuur van de school"),
        ("in Noord-\nBrabant en Limburg", "in Noord-Brabant en Limburg"),
        ("zie COVID-\n19 maatregelen", "zie COVID-19 maatregelen"),
        # suspended compounds: "om- en bijscholing", also when "en" starts the next line
        ("een focus op om- en bijscholing", "een focus op om- en bijscholing"),
        ("vooral van het beroeps- \nen technisch onderwijs", "vooral van het beroeps- en technisch onderwijs"),
        ("een transparant natuur-\nen bosbeheer", "een transparant natuur- en bosbeheer"),
        ("voor de bewakings-\nen/of toezichtsdiensten", "voor de bewakings- en/of toezichtsdiensten"),
        ("evenwicht privé- en beroepsleven", "evenwicht privé- en beroepsleven"),
        # the document itself shows the spelling
        (
            "informeel en niet-formeel leren. Ook niet-\nformeel leren telt.",
            "informeel en niet-formeel leren. Ook niet-formeel leren telt.",
        ),
        # a dash ending a line before a list is not a broken word
        ("Kort samengevat -\n- punt een", "Kort samengevat -\n\n- punt een"),
    ],
)
def test_hyphenation(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_hyphen_stats_count_joins_and_kept_hyphens() -> None:
    _, stats = clean_text_with_stats("de digitali-\nsering van het e-\nmailverkeer en de dienst-\nverlening")
    assert (stats.hyphen_joins, stats.hyphens_kept) == (2, 1)


# --- Reflow --------------------------------------------------------------------------------


def test_hard_wrapped_lines_become_one_paragraph_and_blank_lines_separate_paragraphs() -> None:
    raw = (
        "Met digitalisering binnen de overheid mikten \n"
        "we op een uitdagend thema, want digitalisering \n"
        "is aan een enorme evolutie bezig.\n"
        "\n"
        "Het thema digitalisering is omvangrijk.\n"
    )
    assert clean_text(raw) == (
        "Met digitalisering binnen de overheid mikten we op een uitdagend thema, want digitalisering "
        "is aan een enorme evolutie bezig.\n\nHet thema digitalisering is omvangrijk."
    )


def test_blank_line_inside_a_sentence_is_not_a_paragraph_break() -> None:
    # Some PDFs come out with an empty line after every line of text.
    raw = (
        "In welke mate worden de sectoren binnen de social profit geconfronteerd met de trend. Wat kunnen ze \n\n"
        "doen om zowel organisaties als werknemers voor te bereiden op de gevolgen ervan?\n\n"
        "Een nieuwe alinea begint hier.\n"
    )
    assert clean_text(raw) == (
        "In welke mate worden de sectoren binnen de social profit geconfronteerd met de trend. Wat kunnen ze "
        "doen om zowel organisaties als werknemers voor te bereiden op de gevolgen ervan?\n\n"
        "Een nieuwe alinea begint hier."
    )


def test_blank_line_before_a_quoted_lower_case_word_is_not_a_paragraph_break() -> None:
    # "… zijn\n\n‘zelfstandig werken’": a quote mark in front of the next word hid the continuation, the
    # sentence was cut in two and neither half could be quoted as evidence.
    raw = (
        "De drie vaardigheden die in vacatures het vaakst worden gevraagd zijn \n\n"
        "‘zelfstandig werken’ en ‘samenwerken’. Dat zegt het onderzoek.\n\n"
        "“Nieuwe alinea,” zei zij.\n"
    )
    assert clean_text(raw) == (
        "De drie vaardigheden die in vacatures het vaakst worden gevraagd zijn ‘zelfstandig werken’ en "
        "‘samenwerken’. Dat zegt het onderzoek.\n\n“Nieuwe alinea,” zei zij."
    )


def test_headings_are_paragraphs_of_their_own() -> None:
    raw = (
        " 3.1 Toekomstgerichte competenties ontwikkelen\n"
        "De digitalisering veroorzaakt grote wijzigingen in de vereiste competenties van werkenden en \n"
        "in de houdbaarheidsdatum van vaardigheden.\n"
        "I. INLEIDING\n"
        "Het akkoord geldt voor de volledige EU.\n"
    )
    assert clean_text(raw).split("\n\n") == [
        "3.1 Toekomstgerichte competenties ontwikkelen",
        "De digitalisering veroorzaakt grote wijzigingen in de vereiste competenties van werkenden en "
        "in de houdbaarheidsdatum van vaardigheden.",
        "I. INLEIDING",
        "Het akkoord geldt voor de volledige EU.",
    ]


def test_heading_wrapped_over_two_lines_stays_one_heading() -> None:
    raw = "2 Sleutelcompetenties versterken en \nnieuwe vaardigheden ontwikkelen\n\nIn het onderwijs is ruimte nodig.\n"
    assert clean_text(raw) == (
        "2 Sleutelcompetenties versterken en nieuwe vaardigheden ontwikkelen\n\nIn het onderwijs is ruimte nodig."
    )


def test_list_items_stay_separate_items_and_continuation_lines_join_their_item() -> None:
    raw = (
        "De modaliteiten bepalen minstens:\n"
        "\n"
        "- de praktische modaliteiten voor de toepassing van diens \n"
        "\n"
        "recht om niet bereikbaar te zijn;\n"
        "- de richtlijnen voor het gebruik van digitale hulpmiddelen;\n"
        "• vormings- en sensibiliseringsacties.\n"
        "1. Een visie\n"
        "2) Bouwstenen\n"
    )
    assert clean_text(raw) == (
        "De modaliteiten bepalen minstens:\n\n"
        "- de praktische modaliteiten voor de toepassing van diens recht om niet bereikbaar te zijn;\n"
        "- de richtlijnen voor het gebruik van digitale hulpmiddelen;\n"
        "• vormings- en sensibiliseringsacties.\n"
        "1. Een visie\n"
        "2) Bouwstenen"
    )


def test_urls_keep_their_own_lines() -> None:
    raw = "Meer lezen:\nhttps://www.hetacv.be/congres/webinars\nhttps://www.hetacv.be/congres/sessies\n"
    assert clean_text(raw) == (
        "Meer lezen:\n\nhttps://www.hetacv.be/congres/webinars\nhttps://www.hetacv.be/congres/sessies"
    )


# --- Page debris ---------------------------------------------------------------------------


def test_page_number_alone_between_paragraphs_is_dropped() -> None:
    raw = "ondersteunen van technologie.\n\n\n\n21\n\n36 Ondernemerschap bevorderen\n\nDe instrumenten.\n"
    text, stats = clean_text_with_stats(raw)
    assert text == "ondersteunen van technologie.\n\n36 Ondernemerschap bevorderen\n\nDe instrumenten."
    assert stats.page_numbers == 1


def test_page_number_inside_a_paragraph_is_dropped() -> None:
    raw = (
        "De vervaging van sectorale grenzen vraagt om versterkte samenwerking  \n"
        " 6  en aangepaste (horizontale) maatregelen. Dit vereist andere vormen van leren  3 , zoals "
        "het dieper leren, en een innovatieve arbeidsorganisatie  37  stimuleert talent.\n"
    )
    text, stats = clean_text_with_stats(raw)
    assert text == (
        "De vervaging van sectorale grenzen vraagt om versterkte samenwerking en aangepaste (horizontale) "
        "maatregelen. Dit vereist andere vormen van leren, zoals het dieper leren, en een innovatieve "
        "arbeidsorganisatie stimuleert talent."
    )
    assert stats.inline_numbers == 3


def test_a_footnote_marker_glued_to_the_year_of_a_date_is_dropped() -> None:
    raw = "Die uitdagingen werden beschreven in de SERV-platformtekst 2030 van 8 februari 20162. Eén ervan is …\n"
    text, stats = clean_text_with_stats(raw)
    assert "van 8 februari 2016. Eén" in text and "20162" not in text
    assert stats.inline_numbers == 1
    kept = "Op 3 mai 2017 werd 20000 euro betaald, vanaf 1er janvier 2025 en in 2030 20 projecten."
    assert clean_text(kept) == kept  # a year stands alone; other numbers are content


def test_numbers_that_are_content_are_kept() -> None:
    raw = (
        "De SERV organiseerde op 28 en 29 juni 2017 rondetafels.\n\n"
        "306 \nCommission paritaire des entreprises d'assurances\n\n"
        "469 unieke bezoekers\n\n21 polls\n\n"
        "311 \n \nCommission paritaire des grandes entreprises de vente au détail\n"
    )
    text = clean_text(raw)
    assert "311" in text
    assert "op 28 en 29 juni 2017" in text
    assert "306 Commission paritaire" in text
    assert "469 unieke bezoekers" in text and "21 polls" in text


def test_repeated_letterhead_block_is_dropped_but_repeated_table_cells_are_kept() -> None:
    letterhead = "Votre personne de contact : \nGuy Dupont, Directeur Général \n"
    rows = []
    for n in range(1, 4):
        rows.append(
            f"{letterhead}\nCP 31{n} pour les banques\n\nDéfinition de l'urgence ;\n\n"
            f"La CCT s'applique à toutes les entreprises du secteur numéro {n}.\n\n"
        )
    text, stats = clean_text_with_stats("".join(rows))
    assert "Votre personne de contact" not in text
    assert "Guy Dupont" not in text
    assert text.count("Définition de l'urgence ;") == 3  # content repeated in every row stays
    assert "CP 312 pour les banques" in text
    assert stats.debris_lines == 6


def test_lines_without_letters_or_digits_are_dropped() -> None:
    assert clean_text("Eerste deel.\n\n***\n\n•\n\nTweede deel.") == "Eerste deel.\n\nTweede deel."


def test_pdf_pages_lose_running_headers_and_footers_and_keep_their_text() -> None:
    pages = [
        f"Rapport nr. 131 - 30 mei 2023\nTekst {n} over telewerk en deconnectie op deze bladzijde.\nPagina {n} van 4"
        for n in range(1, 5)
    ]
    cleaned, stats = clean_pages(pages)
    assert cleaned == [f"Tekst {n} over telewerk en deconnectie op deze bladzijde." for n in range(1, 5)]
    assert stats.debris_lines + stats.page_numbers == 8


def test_word_broken_across_a_page_end_is_glued_on_the_first_page() -> None:
    cleaned, _ = clean_pages(["Dit gaat over de digitali-", "sering van het werk.\nTweede zin."])
    assert cleaned == ["Dit gaat over de digitalisering", "van het werk. Tweede zin."]


# --- Unicode -------------------------------------------------------------------------------


def test_unicode_normalisation() -> None:
    raw = "de\u00a0werkgever, de ﬁrma en het bedrijfs\u00adleven\u200b zijn\u2009hier.\n\uf0b7 een punt"
    assert clean_text(raw) == "de werkgever, de firma en het bedrijfsleven zijn hier.\n\n• een punt"


def test_soft_hyphen_at_line_end_always_joins() -> None:
    assert normalize_unicode("digitali\u00ad\nsering") == "digitalisering"


def test_spaces_are_collapsed() -> None:
    assert clean_text("veel    spaties\t en   tabs") == "veel spaties en tabs"


def test_empty_and_whitespace_text_clean_to_empty() -> None:
    assert clean_text("") == ""
    assert clean_text(" \n\n\t \n") == ""


# --- Headings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["3.1 Toekomstgerichte competenties", "I. INLEIDING", "A. Tenuitvoerlegging op federaal niveau",
     "RAPPORT VAN DE NATIONALE ARBEIDSRAAD", "Annexe 1 : programmes liés", "# De context",
     "12 Het diverse palet aan nieuwe organisatievormen"],
)
def test_is_heading(line: str) -> None:
    assert is_heading(line)


@pytest.mark.parametrize(
    "line",
    ["3. Dienstverlening en het belang van persoonlijk contact.", "6 avril 2022 du Conseil National",
     "469 unieke bezoekers", "CP 310", "Het thema digitalisering is omvangrijk", "2022, une convention"],
)
def test_is_not_heading(line: str) -> None:
    assert not is_heading(line)
