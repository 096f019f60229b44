"""Language of members' questions and of passages (nl, fr, en, de)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from qa.language import detect_language, detect_question_language

DUTCH_QUESTIONS = [
    "Mag mijn baas mij 's avonds nog mailen?",
    "Wat is het recht op deconnectie?",
    "Heb ik recht op een thuiswerkvergoeding?",
    "Moet mijn werkgever mijn laptop betalen?",
    "Hoeveel dagen mag ik telewerken?",
    "Kan ik weigeren om na mijn uren bereikbaar te zijn?",
    "Wie betaalt mijn internet als ik thuis werk?",
    "Is er een cao over deconnectie in mijn sector?",
    "Wat zegt de wet over telewerk?",
    "Mag mijn werkgever mijn e-mails lezen?",
    "Welke opleidingen krijg ik over digitale vaardigheden?",
    "Wanneer moet een bedrijf afspraken maken over deconnectie?",
    "Geldt het recht op deconnectie ook voor kaderleden?",
    "Wat gebeurt er als ik niet reageer op een bericht in het weekend?",
    "Hoe vraag ik structureel telewerk aan?",
    "Mag ik mijn gsm uitzetten na het werk?",
    "Krijg ik een vergoeding voor mijn bureau thuis?",
    "Wat is een individuele opleidingsrekening?",
    "Mag een robot mijn job overnemen?",
    "Waar vind ik de afspraken over bereikbaarheid?",
    "Is telewerk verplicht?",
    "Wat doet de vakbond tegen digitale controle?",
]

FRENCH_QUESTIONS = [
    "Ai-je droit à une indemnité de télétravail ?",
    "C'est quoi le droit à la déconnexion ?",
    "Mon patron peut-il m'envoyer des mails le soir ?",
    "Combien de jours puis-je télétravailler ?",
    "Qui paie ma connexion internet à domicile ?",
    "Est-ce que mon employeur doit fournir un ordinateur ?",
    "Puis-je refuser de répondre au téléphone après mes heures ?",
    "Quelle CCT règle le télétravail structurel ?",
    "Y a-t-il une convention sur la déconnexion dans mon secteur ?",
    "Que dit la loi sur le droit à la déconnexion ?",
    "Mon employeur peut-il lire mes e-mails ?",
    "Quelles formations numériques sont prévues ?",
    "Les cadres ont-ils aussi droit à la déconnexion ?",
    "Que se passe-t-il si je ne réponds pas le week-end ?",
    "Comment demander le télétravail ?",
    "Est-ce que je peux éteindre mon portable après le travail ?",
    "Le télétravail est-il obligatoire ?",
    "Qu'est-ce qu'un compte formation individuel ?",
    "Un robot peut-il prendre mon emploi ?",
    "Où trouver le règlement de travail ?",
    "Faut-il une CCT d'entreprise pour la déconnexion ?",
    "Que fait le syndicat contre la surveillance numérique ?",
]


@pytest.mark.parametrize("question", DUTCH_QUESTIONS)
def test_dutch_questions(question: str) -> None:
    assert detect_question_language(question) == "nl"
    assert detect_language(question) == "nl"


@pytest.mark.parametrize("question", FRENCH_QUESTIONS)
def test_french_questions(question: str) -> None:
    assert detect_question_language(question) == "fr"
    assert detect_language(question) == "fr"


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("Can my boss email me in the evening?", "en"),
        ("Do I get a home office allowance from my employer?", "en"),
        ("Darf mein Chef mir abends noch E-Mails schicken?", "de"),
        ("Habe ich Anspruch auf eine Homeoffice-Pauschale?", "de"),
    ],
)
def test_clearly_foreign_questions_are_reported_so_the_caller_can_say_we_answer_in_nl_or_fr(
    question: str, code: str
) -> None:
    assert detect_question_language(question) == code


@pytest.mark.parametrize("question", ["", "   ", "???", "123 456", "€ 150"])
def test_question_without_words_gets_the_default(question: str) -> None:
    assert detect_question_language(question) == "nl"
    assert detect_question_language(question, default="fr") == "fr"


@pytest.mark.parametrize("text", ["", "  \n", "12/04/2023", "***", "€ 1.234,56"])
def test_text_without_letters_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


def test_passages() -> None:
    assert detect_language(
        "Vanaf 1 april 2023 moeten de ondernemingen die twintig of meer werknemers tewerkstellen, een "
        "collectieve arbeidsovereenkomst aannemen waarin de modaliteiten van het recht op deconnectie "
        "worden vastgesteld."
    ) == "nl"
    assert detect_language(
        "Le chapitre 8 de la loi du 3 octobre 2022 prévoit que les modalités d'application du droit à la "
        "déconnexion doivent être fixées dans une convention collective d'entreprise."
    ) == "fr"
    assert detect_language(
        "In der Deutschsprachigen Gemeinschaft laufen derzeit verschiedene Projekte zur Digitalisierung."
    ) == "de"


def test_detection_from_many_threads_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.language

    monkeypatch.setattr(qa.language, "_detector", None)  # the threads race to build it
    questions = DUTCH_QUESTIONS + FRENCH_QUESTIONS
    expected = ["nl"] * len(DUTCH_QUESTIONS) + ["fr"] * len(FRENCH_QUESTIONS)
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(detect_question_language, questions * 3))
    assert got == expected * 3
