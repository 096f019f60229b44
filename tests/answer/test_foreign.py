"""An answer that can only quote the other language still speaks the member's language first."""

from __future__ import annotations

from qa.answer.pipeline import Draft, Part, assemble
from qa.datatypes import Chunk
from qa.language import detect_language

DUTCH = Chunk(chunk_id="c1", doc="nar.txt", title="Rapport over digitalisering", language="nl", start=0, end=120,
              text="Vanaf 1 april 2023 moeten ondernemingen met twintig of meer werknemers afspraken maken "
                   "over deconnectie.")
FRENCH = Chunk(chunk_id="c2", doc="annexe.txt", title="Annexe", language="fr", start=0, end=60,
               text="Le droit à la déconnexion s'applique dès le 1er avril 2023.")


def _quote(chunk: Chunk, kind: str) -> Part:
    return Part(kind, chunk.text, [chunk], (chunk, 0, len(chunk.text)))


def test_a_french_question_over_dutch_text_is_framed_in_french_before_the_quote():
    question = "Mon patron peut-il encore m'envoyer des courriels le soir ?"
    answer = assemble(Draft([_quote(DUTCH, "foreign")]), "fr", "member", question)
    intro, quote = answer.answer.split("\n")
    assert detect_language(intro) == "fr"
    assert question in intro and DUTCH.title in intro  # what the quote answers, and where it comes from
    assert "1 april 2023" in quote and "[1]" in quote  # the Dutch text itself, cited, unchanged


def test_a_dutch_question_over_french_text_is_framed_in_dutch():
    answer = assemble(Draft([_quote(FRENCH, "foreign")]), "nl", "member", "Vanaf wanneer geldt deconnectie?")
    assert detect_language(answer.answer.split("\n")[0]) == "nl"


def test_no_frame_when_part_of_the_answer_is_in_the_members_language():
    answer = assemble(Draft([_quote(FRENCH, "quote"), _quote(DUTCH, "foreign")]), "fr", "member", "Depuis quand ?")
    assert answer.answer.startswith("Selon [1]")
