"""Whether a sentence states a value of the kind a question asks (qa/answer/question.py), in the unit asked, or
reports a finding: what the typed-answer check (qa/answer/checks/typed.py) counts as an answer.

- amount, count and date: qa/answer/answer_type.py;
- rate: a number before a percent word ("15 procent", "15 %") or with the sign glued to it ("15%");
- duration: a number before a time unit ("drie maanden"), or a bound before a date ("tot eind 2024");
- frequency: "jaarlijks", a number before a "times" word ("twee keer"), an "every" word before a time unit
  ("om de twee jaar", "tous les trois mois").
The words are the lexicon's ([statements] and [question.units] of qa/lexicon/nl.toml and fr.toml), read in the
sentence's own language.
"""

from __future__ import annotations

from functools import lru_cache

from ..numbers import numbers_in
from .answer_type import date_starts, states
from .question import Question, cue_positions, cues_for, has_cue, words_of


def states_value(q: Question, sentence: str, language: str) -> bool:
    """Whether the sentence states a value of the kind asked, in the unit asked, or reports a finding."""
    words = words_of(sentence)
    if q.reports and not has_cue(words, _statements(language).get("reports", ())):
        return False
    if not q.asks_value:
        return True
    if q.unit and not has_cue(words, cues_for(language).units.get(q.unit, ())):
        return False
    if q.kind in ("amount", "count", "date"):
        return states(q.kind, sentence)
    if q.kind == "rate":
        return _number_before(words, _statements(language).get("percent", ()), language) or \
            _glued_percent(words, language)
    if q.kind == "frequency":
        return _states_frequency(words, language)
    # a period is stated by its length ("drie maanden") or by a bound ("tot 31 december 2023", "jusqu'en
    # 2025"); a date alone ("op 16 november 2020") dates an event and says nothing of how long it lasts
    return _number_before(words, _statements(language).get("time_units", ()), language) or \
        _bounded_date(sentence, _statements(language).get("period_bounds", ()))


def _number_before(words: tuple[str, ...], cues, language: str) -> bool:
    """A number directly before one of `cues` ("15 procent", "30 dagen", "trois mois")."""
    return any(start and _is_number(words[start - 1], language) for start, _, _ in cue_positions(words, cues))


def _glued_percent(words: tuple[str, ...], language: str) -> bool:
    """A number with the percent sign glued to it ("15%"): a rate, never a length of time."""
    return any(w.endswith("%") and _is_number(w[:-1], language) for w in words)


# "om de twee jaar": the time unit at most this many words after the "every" word
_EVERY_REACH = 2


def _states_frequency(words: tuple[str, ...], language: str) -> bool:
    """"jaarlijks", "per maand"; a number before a "times" word ("twee keer", "deux fois"); an "every" word a
    few words before a time unit ("om de twee jaar", "tous les trois mois", "elke week")."""
    said = _statements(language)
    if has_cue(words, said.get("frequency", ())):
        return True
    times = cue_positions(words, said.get("times", ()))
    if any(start and _is_number(words[start - 1], language) for start, _, _ in times):
        return True
    units = said.get("time_units", ())
    every = cue_positions(words, said.get("every", ()))
    return any(has_cue(words[end:end + _EVERY_REACH], units) for _, end, _ in every)


# "tot eind 2024", "jusqu'à la fin de 2024": a bound a few words before the date
_BOUND_REACH = 4


def _bounded_date(sentence: str, bounds) -> bool:
    """A date with one of `bounds` among the few words before it."""
    return any(has_cue(words_of(sentence[:start])[-_BOUND_REACH:], bounds) for start in date_starts(sentence))


def _is_number(word: str, language: str) -> bool:
    return any(not n.startswith("month:") for n in numbers_in(word, language))


@lru_cache(maxsize=None)
def _statements(language: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    from ..lexicon import lexicon

    data = lexicon(language).data.get("statements", {})
    return {key: tuple(words_of(v) for v in values) for key, values in data.items()}
