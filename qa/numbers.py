"""The numbers a sentence states (digits, number words, amounts, percentages), normalised for comparison.

A wrong amount or date is the worst failure this service can have, so every number of an answer sentence
must be found among the numbers of the passage it cites; translation must neither lose nor invent one.
"""

from __future__ import annotations

import re

# Number words that members' documents spell out, per language: Dutch "onze" is "our", French "onze" is 11,
# so a text's own language decides. "één"/"een" and "un"/"une" are left out on purpose: they are far more
# often articles than numbers.
_WORDS_BY_LANGUAGE = {
    "nl": {"twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9, "tien": 10,
           "elf": 11, "twaalf": 12, "dertien": 13, "veertien": 14, "vijftien": 15, "zestien": 16, "twintig": 20,
           "dertig": 30, "veertig": 40, "vijftig": 50, "zestig": 60, "honderd": 100, "duizend": 1000},
    "fr": {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
           "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20,
           "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100, "mille": 1000},
}
_WORDS = {w: n for words in _WORDS_BY_LANGUAGE.values() for w, n in words.items()}


def _words_re(words: dict[str, int]) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(sorted(words, key=len, reverse=True)) + r")\b", re.I)


_WORD_RES = {lang: _words_re(words) for lang, words in _WORDS_BY_LANGUAGE.items()}
_WORD_RE = _words_re(_WORDS)
# 1.000 / 1 000 / 1,5 / 23 / 2020 / 3,5% : thousands separators only in groups of three
# an ordinal suffix ("1er avril", "3e", "2de") still states the number: a translation may add or drop one
_NUM_RE = re.compile(r"(?<![\w.,])(\d{1,3}(?:[. \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?(?:er|re|ère|ème|e|de|ste)?(?![\w])")
_MONTHS = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7, "augustus": 8,
    "september": 9, "oktober": 10, "november": 11, "december": 12,
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
}
MONTH_PATTERN = "|".join(sorted(_MONTHS, key=len, reverse=True))  # Dutch and French month names, for regexes
_MONTH_RE = re.compile(rf"\b({MONTH_PATTERN})\b", re.I)


def numbers_in(text: str, language: str | None = None) -> set[str]:
    """Normalised numbers stated in `text`: '1.000' and '1 000' -> '1000', '3,5' -> '3.5', 'twintig' -> '20'.

    Month names count as numbers too ('juni' -> 'month:6'), so '23 juni' cannot become '23 juillet'. Number
    words are read in `language` when it is known ('nl', 'fr'), else in both."""
    found = set()
    for whole, frac in _NUM_RE.findall(text):
        digits = re.sub(r"[. \u00a0\u202f]", "", whole).lstrip("0") or "0"
        frac = frac.rstrip("0") if frac and not (len(frac) == 3 and "." not in whole) else ""
        found.add(f"{digits}.{frac}" if frac else digits)  # "320.00" (CP 320.00) is the PC 320 a member writes
    found.update(str(_WORDS[w.lower()]) for w in _WORD_RES.get(language, _WORD_RE).findall(text))
    found.update(f"month:{_MONTHS[m.lower()]}" for m in _MONTH_RE.findall(text))
    return found


def unsupported_numbers(sentence: str, sources: list[str]) -> set[str]:
    """Numbers of `sentence` that none of `sources` states: each one is a possible invention."""
    known: set[str] = set()
    for source in sources:
        known |= numbers_in(source)
    return numbers_in(sentence) - known


# Words that bound a number: "bijna 15 procent" is not "plus de 15 %", though both state 15. Grouped by what
# they do to the number, so a translation can be checked for keeping each bound.
_BOUNDS = {
    "about": {"nl": r"bijna|ongeveer|zo['’]n|circa|ca\.|rond|nagenoeg|quasi",
              "fr": r"presque|environ|près de|pres de|quelque|à peu près|approximativement|quasi"},
    "over": {"nl": r"meer dan|ruim|minstens|ten minste|tenminste|minimaal|minimum",
             "fr": r"plus de|au moins|au minimum|minimum|minimal|davantage que"},
    # not Dutch "tot" nor its French "jusqu'à": "leidde tot 11 wegwijzers" (led to 11) bounds nothing
    "under": {"nl": r"minder dan|maximaal|maximum|hoogstens|ten hoogste|uiterlijk",
              "fr": r"moins de|au maximum|maximum|au plus tard|au plus|pas plus de|d['’]ici"},
    "from": {"nl": r"vanaf|sinds|sedert|met ingang van",
             "fr": r"à partir d[eu]s?|a partir d[eu]s?|à compter d[eu]s?|depuis|dès"},
}


def _bound_re(bound_words: str, language: str) -> re.Pattern:
    """The bound words, then (after at most two articles or prepositions) a number in digits or words."""
    numbers = "|".join(_WORDS_BY_LANGUAGE[language])
    ahead = rf"\(?\s*(?:(?:à|le|la|les|l['’]|de|du|het|een)\s+){{0,2}}(?:\d|(?:{numbers})\b)"
    return re.compile(rf"\b(?:{bound_words})\)?\s*{ahead}", re.I)


_BOUND_RES = {lang: [(kind, _bound_re(words[lang], lang)) for kind, words in _BOUNDS.items()]
              for lang in ("nl", "fr")}


def bounds_in(text: str, language: str | None = None) -> set[str]:
    """The kinds of bound put on the numbers of `text` ("about", "over", "under", "from"): "zo'n 300.000",
    "meer dan 20", "uiterlijk 30 juni", "à partir du 1er avril". Read in `language`, else in both."""
    patterns = _BOUND_RES[language] if language else [p for ps in _BOUND_RES.values() for p in ps]
    return {kind for kind, pattern in patterns if pattern.search(text)}


def unsupported_bounds(sentence: str, sources: list[str]) -> set[str]:
    """Bounds `sentence` puts on a number that none of `sources` puts on any: "more than 15 %" from a passage
    that says "almost 15 percent"."""
    return bounds_in(sentence) - set().union(*(bounds_in(s) for s in sources))
