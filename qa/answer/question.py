"""The question, read once: the kind of answer it asks for, in which unit, about what, under which constraints.

Every check reads this `Question` instead of scanning the text again. The words come from the lexicon files
of each language (qa/lexicon/nl.toml, fr.toml, section [question]); organisations from the index's
catalog and the alias table (qa/lexicon/organisations.py); levels of government from qa/answer/authority.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from ..fold import fold
from ..lexicon import lexicon, organisations
from ..sentences import split_sentences
from .authority import levels_in

Kind = Literal["amount", "rate", "count", "date", "duration", "frequency", "yesno", "name", "definition",
               "procedure", "explanation"]
# a value of a kind answers these; "how often" is asked as a value too: "twice a year", "every month"
VALUE_KINDS = frozenset({"amount", "rate", "count", "date", "duration", "frequency"})
UNITS = ("day", "week", "month", "year")
_WORD = re.compile(r"[\w'’/%-]+|€|[.?!]", re.UNICODE)  # sentence ends kept: a yes/no verb opens a sentence
_ENDS = {".", "?", "!"}


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    kind: Kind
    unit: str | None = None  # "month" for "how much per month": a daily amount does not answer
    reports: bool = False  # asks what a body concluded or found
    bodies: tuple[organisations.Body, ...] = ()  # organisations named in the sentences that ask
    levels: frozenset[str] = field(default_factory=frozenset)  # levels of government named
    # the sentences that ask (end in a question mark), or the whole text when none or all do. A sentence around
    # them tells the member's situation ("Ik werk bij de NMBS.", "Je travaille 4 jours par semaine."): it helps
    # the search, but a name or number in it is no constraint the passages must meet (qa/answer/checks/names.py)
    asked: str = ""

    def __post_init__(self) -> None:
        if not self.asked:
            object.__setattr__(self, "asked", self.text)

    @property
    def asks_value(self) -> bool:
        return self.kind in VALUE_KINDS


@dataclass(frozen=True)
class Cues:
    """One language's cue phrases, each a tuple of folded words."""

    kinds: dict[str, tuple[tuple[str, ...], ...]]
    units: dict[str, tuple[tuple[str, ...], ...]]


def read_question(text: str, language: str, publishers: tuple[str, ...] = (), own_words: str | None = None
                  ) -> Question:
    """`own_words`: a follow-up as the member asked it, when `text` is that follow-up made whole. The words
    carried over from the earlier turns are context, like a member's situation: they were checked when those
    turns were asked, so only the member's own words are `asked`."""
    words = words_of(text)
    cues = cues_for(language)
    kind = _kind(words, cues)
    unit = next((u for u in UNITS if has_cue(words, cues.units.get(u, ()))), None)
    asked = asking_sentences(own_words.strip() if own_words else text, language)
    # the organisations whose words are asked for are named where the member asks; "Ik ben lid van het ACV."
    # tells who the member is. A level of government is read everywhere: "Ik werk in Brussel." decides which
    # region's rules and amounts apply.
    return Question(text=text, language=language, kind=kind, unit=unit,
                    reports=has_cue(words, cues.kinds.get("reports", ())),
                    bodies=tuple(organisations.asked(asked, publishers)), levels=frozenset(levels_in(text)),
                    asked=asked)


def asking_sentences(text: str, language: str) -> str:
    """The sentences of `text` that end in a question mark, joined; `text` itself when none or all do."""
    sentences = split_sentences(text, language)
    asking = [s.text for s in sentences if s.text.rstrip(" \"'»”)").endswith("?")]
    return " ".join(asking) if asking and len(asking) < len(sentences) else text


def words_of(text: str) -> tuple[str, ...]:
    return tuple(w.strip("'’-") or w for w in _WORD.findall(fold(text).replace("’", "'")))


def _kind(words: tuple[str, ...], cues: Cues) -> Kind:
    k = cues.kinds
    if has_cue(words, k["rate"]):
        return "rate"
    if has_cue(words, k["duration"]):
        return "duration"
    if has_cue(words, k["frequency"]):  # before "how many": "hoeveel keer", "combien de fois"
        return "frequency"
    if has_cue(words, k["quantity"]):
        return "amount" if _money(words, k["money"]) else "count"
    # "quel est le salaire …", "welke vergoeding …": a sum of money is asked; "quelle est la durée …", "wat is de
    # termijn …" a duration; "quel est le taux …" a rate
    asked_of = [words[end:end + 4] for _, end, _ in cue_positions(words, k["which"])]
    if any(_money(span, k["money"]) for span in asked_of):
        return "amount"
    for kind in ("rate", "duration"):
        if any(has_cue(span, k[f"{kind}_nouns"]) for span in asked_of):
            return kind
    if _asks_date(words, k["date"], k["condition"]):
        return "date"
    for kind in ("definition", "procedure"):
        if has_cue(words, k[kind]):
            return kind
    inverted = {c[0] for c in k["inversion"]}
    if any((w,) in k["yesno"] for w in _sentence_starts(words)) or \
            any(w.endswith("-" + s) for w in words for s in inverted):  # "peut-il", not "travail"
        return "yesno"
    if has_cue(words, k["name"]):
        return "name"
    return "explanation"


def _asks_date(words: tuple[str, ...], cues, conditions) -> bool:
    """A date cue not followed by a word that makes it a condition ("wanneer mag …", "quand puis-je …")."""
    for at in cue_positions(words, cues):
        end = at[1]
        following = words[end].split("-")[0] if end < len(words) else ""
        if at[2] > 1 or (following,) not in conditions:
            return True
    return False


def _money(words: tuple[str, ...], cues) -> bool:
    """A money word, also as the end of a compound ("thuiswerkvergoeding")."""
    singles = {c[0] for c in cues if len(c) == 1}
    return has_cue(words, cues) or any(w.endswith(s) for w in words for s in singles if len(s) >= 5)


def _sentence_starts(words: tuple[str, ...]) -> list[str]:
    return [w for i, w in enumerate(words) if i == 0 or words[i - 1] in _ENDS]


def has_cue(words: tuple[str, ...], cues) -> bool:
    return any(True for _ in cue_positions(words, cues))


def cue_positions(words: tuple[str, ...], cues):
    """(start, end, cue length) of every cue found in `words`."""
    for cue in cues:
        n = len(cue)
        for i in range(len(words) - n + 1):
            if words[i:i + n] == cue:
                yield i, i + n, n


@lru_cache(maxsize=None)
def cues_for(language: str) -> Cues:
    data = lexicon(language).data.get("question", {})
    kinds = {key: _phrases(value) for key, value in data.items() if isinstance(value, list)}
    for key in ("rate", "duration", "frequency", "rate_nouns", "duration_nouns", "quantity", "money", "date",
                "condition", "definition", "procedure", "name", "yesno", "reports", "inversion", "which"):
        kinds.setdefault(key, ())
    return Cues(kinds, {u: _phrases(v) for u, v in data.get("units", {}).items()})


def _phrases(values: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(t for t in (words_of(v) for v in values) if t)
