"""What kind of answer a question expects, and whether a sentence states one.

"How much is the allowance?" is only answered by a sentence that states an amount, "how many sectors?" by
one that states a count; a passage on the right topic that states neither does not answer, however close
it is. This is the classic expected-answer-type check of question answering, kept to the types whose
misses matter most here: amounts of money and counts (abstention and evidence) and dates ("when was report
131 issued?" needs the sentence with the date quoted; "wanneer mag …" asks for a condition and is no date
question). Whether a date is one of what was asked is qa/dated.py's call, which also decides abstention.
"""

from __future__ import annotations

import re
from typing import Literal

from .numbers import MONTH_PATTERN

Kind = Literal["amount", "count", "date"]

_QUANTITY = re.compile(r"\b(hoeveel|hoe hoog|hoe groot|welk bedrag|combien|à combien|quel(?:le)?s? (?:est|sont) "
                       r"(?:le|la|les) (?:montant|prix|coût|salaire))\b", re.I)
_MONEY = re.compile(r"\b(bedra\w*|geld|argent|budget\w*|vergoeding\w*|kost\w*|prijs\w*|boete\w*|loon|lonen|"
                    r"salaris\w*|premie\w*|toelage\w*|euro|montant\w*|coût\w*|coute\w*|prix|amende\w*|salaire\w*|"
                    r"indemnité\w*|prime\w*|allocation\w*)\b", re.I)

# "20 euro", "€ 20", and sums with a scale word: "7,6 milliards €", "5 miljoen euro", "2 milliards d'euros"
_AMOUNT = re.compile(r"(\d[\d.,\u00a0\u202f ]*\s*(?:(?:miljoen|miljard|million|milliard)s?\s*(?:d['’]\s*)?)?"
                     r"(€|euro|eur\b)|€\s*\d)", re.I)
# A number that counts something: not a year, not a day of a month, not a reference number (cao nr. 85,
# PC 320, article 7), which are the numbers policy texts are full of. French "onze" (11) is left out: in Dutch
# it is "our", and both languages meet in one collection.
_NUMBER_WORDS = (r"twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|dertig|veertig|vijftig|"
                 r"honderd|duizend|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|vingt|trente|"
                 r"quarante|cinquante|cent|mille")
_REFERENCE = (r"(?<!\w)(?:nr|n°|no|nummer|numéro|pc|cp|psc|scp|art|artikel|article|advies|avis|rapport|cao|cct|afdeling|"
              r"hoofdstuk|chapitre|section|titel|titre|punt|point|fase|phase|bijlage|annexe|deel|partie|stap|"
              r"étape|axe|as)\.?\s*$")
# "when" as a time: "Wanneer werd het akkoord gesloten?"; not as a condition: "Wanneer mag mijn werkgever ...?"
_WHEN = re.compile(r"\b(?:(?:wanneer|quand)(?!\s+(?:mag|mogen|moet|moeten|kan|kun|kunnen|heb|hebt|heeft|hebben|ben|"
                   r"bent|puis|peut|peuvent|dois|doit|doivent|ai|a|ont|suis|est)\b)|welk jaar|welke datum|"
                   r"quelle année|quelle date)", re.I)
_DATE = re.compile(rf"\b((?:19|20)\d\d|\d{{1,2}}(?:er)?\s+(?:{MONTH_PATTERN})|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})\b", re.I)
_COMMITTEE_NAME = re.compile(r"\s*[.:]?\s*(?:(?:sous-)?commission paritaire|paritair (?:sub)?comité|"
                             r"(?:pc|psc|cp|scp)\b)", re.I)
_CARDINAL = re.compile(rf"\b(\d+(?:[.,]\d+)?|{_NUMBER_WORDS})\b", re.I)
_YEAR = re.compile(r"^(19|20)\d\d$")


def expected_kind(question: str) -> Kind | None:
    if _QUANTITY.search(question):
        return "amount" if _MONEY.search(question) else "count"
    return "date" if _WHEN.search(question) else None


def states(kind: Kind, sentence: str) -> bool:
    if kind == "amount":
        return bool(_AMOUNT.search(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    return bool(counts_in(sentence))


def counts_in(sentence: str) -> list[int]:
    """Where each count in the sentence ends (years, dates, list numbers and reference numbers are no counts)."""
    return [m.end() for m in _CARDINAL.finditer(sentence) if _is_count(sentence, m)]


def _is_count(sentence: str, match: re.Match) -> bool:
    token = match.group(1)
    if _YEAR.match(token):
        return False
    before, after = sentence[:match.start()].lower(), sentence[match.end():].lower()
    if re.match(rf"\s*(?:(?:en|et|tot|à|au|-)\s*\d+\s*)?(?:{MONTH_PATTERN})\b", after) or re.match(r"[/-]\d", after):
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
