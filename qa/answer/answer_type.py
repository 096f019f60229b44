"""Whether a sentence states an amount of money, a count or a date: the values policy texts write with digits
and symbols ("20 euro", "29 (sub)sectoren", "1 april 2023") amid years and reference numbers ("cao nr. 85",
"PC 320") that count nothing. Which kind a question asks for is the question reader's call
(qa/answer/question.py); the typed-answer check (qa/answer/checks/typed.py) uses these.
"""

from __future__ import annotations

import re
from typing import Literal

from ..lexicon import word_pattern, words
from ..numbers import MONTH_PATTERN

Kind = Literal["amount", "count", "date"]

# "20 euro", "€ 20", and sums with a scale word: "7,6 milliards €", "5 miljoen euro", "2 milliards d'euros"
_AMOUNT = re.compile(rf"(\d[\d.,\u00a0\u202f ]*\s*(?:{word_pattern(words('amounts', 'scale'), bound=False)}\s*"
                     rf"(?:{word_pattern(words('amounts', 'of'), bound=False)}\s*)?)?(€|euro|eur\b)|€\s*\d)", re.I)
# A number that counts something: not a year, not a day of a month, not a reference number (cao nr. 85,
# PC 320, article 7), which are the numbers policy texts are full of. Number words: [counts] of the lexicon.
_NUMBER_WORDS = word_pattern(words("counts", "number_words"), bound=False)
_REFERENCE_WORD = rf"(?<!\w){word_pattern(words('references', 'before_number'), bound=False)}"
_REFERENCE = rf"{_REFERENCE_WORD}\.?\s*$"
_RANGE = word_pattern(words("counts", "range_words"), bound=False)  # "27 en 28 mei"
# Dates as policy texts write them: a year, "1 april 2023", "1er avril", "01/04/2023", and a
# day and month alone ("op 14/11", "le 14/11") in reports of meetings. A short "14/11" is also how a legal
# text numbers an inserted article ("artikel 17/2", "articles 16 à 17/2"): near a reference word, it is none.
_DAY_MONTH = r"(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|1[0-2])(?![/\d])"
_DATE = re.compile(rf"\b((?:19|20)\d\d|\d{{1,2}}(?:er)?\s+(?:{MONTH_PATTERN})|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
                   rf"|(?<![\d/.,]){_DAY_MONTH})\b", re.I)
_NEAR_REFERENCE = re.compile(rf"{_REFERENCE_WORD}\w*\.?(?:\s+\S+){{0,3}}\s*$", re.I)
_COMMITTEE_NAME = re.compile(rf"\s*[.:]?\s*(?:{word_pattern(words('committees', 'names'), bound=False)}|"
                             rf"{word_pattern(words('committees', 'abbreviations'), bound=False)}\b)", re.I)
_CARDINAL = re.compile(rf"\b(\d+(?:[.,]\d+)?|{_NUMBER_WORDS})\b", re.I)
_YEAR = re.compile(r"^(19|20)\d\d$")


def states(kind: Kind, sentence: str) -> bool:
    if kind == "amount":
        return bool(_AMOUNT.search(sentence))
    if kind == "date":
        return bool(date_starts(sentence))
    return bool(counts_in(sentence))


def date_starts(sentence: str) -> list[int]:
    """Where each date (or year) in the sentence starts."""
    return [m.start() for m in _DATE.finditer(sentence)
            if not (re.fullmatch(_DAY_MONTH, m.group(1)) and _NEAR_REFERENCE.search(sentence[:m.start()]))]


def counts_in(sentence: str) -> list[int]:
    """Where each count in the sentence ends (years, dates, list numbers and reference numbers are no counts)."""
    return [m.end() for m in _CARDINAL.finditer(sentence) if _is_count(sentence, m)]


def _is_count(sentence: str, match: re.Match) -> bool:
    token = match.group(1)
    if _YEAR.match(token):
        return False
    before, after = sentence[:match.start()].lower(), sentence[match.end():].lower()
    if re.match(rf"\s*(?:(?:{_RANGE}|-)\s*\d+\s*)?(?:{MONTH_PATTERN})\b", after) or re.match(r"[/-]\d", after):
        return False  # 23 juni, 27 en 28 mei, 01/09/2022
    line_start = not before.rpartition("\n")[2].strip(" \t>•-*(")
    if re.match(r"\.\s", after) and line_start:
        return False  # "1. " numbering a list item
    if re.match(r"\s*[-–)]\s", after) and line_start:
        return False  # "4- Répondre …", "(5) Sociare": numbering too
    if re.search(r"[/-]$", before):
        return False
    if _COMMITTEE_NAME.match(after):
        return False  # "126 Commission paritaire de l'ameublement": the committee's number in the annex tables
    return not re.search(_REFERENCE, before)
