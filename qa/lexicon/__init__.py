"""The words of each language, as data: what members say for what the documents say, and the terms of one
language in the other.

Members ask "Mag mijn baas mij 's avonds nog mailen?" where the documents write "werkgever", "buiten de
werkuren" and "deconnectie"; a French member asks about text that exists only in Dutch. Search engines keep
synonym files for this; these are `nl.toml` and `fr.toml` beside this module. A key matches a run of the
question's content words after stop words are dropped and Snowball stemming, so one entry covers its
inflections, and the longest key wins where keys overlap ("maison de repos" before "maison").

The same files hold the words the answer checks look for (qa/answer/): the levels of government, the names
of legal texts, the words that ask "how many" or "when", one section per concern; `words` reads one list
from every language's file and `word_pattern` makes it a regular expression. English has a file of its own
for the few English words documents in both languages use ("AI Act") and the instructions planted for models.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..index.lexical import tokenize

FOLDER = Path(__file__).resolve().parent
LANGUAGES = ("nl", "fr")
WORD_LANGUAGES = (*LANGUAGES, "en")  # the files `words` reads
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_KEEP = re.compile(r"^(?:\d[\d.,/-]*|[A-Z][A-Z0-9-]+|[A-Z]\w*[A-Z]\w*)$")  # numbers, acronyms: same in both


@dataclass(frozen=True)
class Match:
    """A phrase of the question and the terms it stands for."""

    phrase: str  # as the question writes it
    terms: tuple[str, ...]


Table = dict[tuple[str, ...], tuple[str, tuple[str, ...]]]  # key stems -> (key as written, terms)


@dataclass(frozen=True)
class Lexicon:
    language: str
    synonyms: Table  # member words -> document words, same language
    crossing: Table  # this language's terms -> the other language's
    data: dict = field(default_factory=dict, compare=False)  # the file as read, for the question reader and checks

    def synonyms_in(self, text: str) -> list[Match]:
        return _matches(text, self.language, self.synonyms)

    def crossing_in(self, text: str) -> list[Match]:
        return _matches(text, self.language, self.crossing)

    def expansion(self, text: str) -> str:
        """The document terms the text's member words stand for ("" when none)."""
        return " ".join(_unique(t for m in self.synonyms_in(text) for t in m.terms))

    def expanded(self, text: str) -> str:
        """The text followed by the document terms its member words stand for ("" when none)."""
        terms = self.expansion(text)
        return f"{text} {terms}" if terms else ""

    def rewritten(self, text: str) -> str:
        """The text with each member phrase replaced, where it stands, by the document terms it stands for
        ("" when it has none): a question in the documents' words that still reads as a question, for a dense
        query view: "Mag mijn baas mij 's avonds nog mailen?" becomes "Mag mijn werkgever leidinggevende
        werkgevers mij 's buiten de werkuren bereikbaarheid deconnectie nog e-mail digitale communicatie
        bereikbaarheid?"."""
        out, at = text, 0
        for m in self.synonyms_in(text):
            words = m.phrase.split(" ")
            first = _word_at(out, words[0], at)
            if first is None:
                continue
            last = _word_at(out, words[-1], first.end()) if len(words) > 1 else first
            end = (last or first).end()
            terms = " ".join(m.terms)
            out = out[:first.start()] + terms + out[end:]
            at = first.start() + len(terms)
        return out if out != text else ""

    def rendered(self, text: str) -> str:
        """The text in the other language's terms, as a keyword query: the mapped terms of the text and of its
        member words, plus numbers and acronyms as written ("" when nothing maps)."""
        source = self.expanded(text) or text
        terms = [t for m in self.crossing_in(source) for t in m.terms]
        if not terms:
            return ""
        kept = [w for w in _WORD.findall(text) if _KEEP.match(w)]
        return " ".join(_unique([*terms, *kept]))


def why(question: str, language: str, text: str, text_language: str, most: int = 6) -> list[str]:
    """Which words of the question meet which words of a passage: "telewerk" for a word both share,
    "baas → werkgever" for a member word whose document term the passage holds, "patron → werkgever" across
    the languages. Stems are compared, so "mailen" meets "mails"."""
    own = lexicon(language)
    found = set(tokenize(text, text_language))
    out: list[str] = []
    if text_language == language:
        shared = [w for w in _WORD.findall(question) if len(w) > 3 and (s := tokenize(w, language)) and set(s) <= found]
        out += _unique(shared)
        matches = [m for m in own.synonyms_in(question) if m.phrase not in shared]
    else:
        matches = own.crossing_in(own.expanded(question) or question)
    for m in matches:
        hit = next((term for term in m.terms if (s := tokenize(term, text_language)) and set(s) <= found), None)
        if hit and m.phrase.lower() != hit.lower():
            out.append(f"{m.phrase} → {hit}")
    return _unique(out)[:most]


@lru_cache(maxsize=None)
def lexicon(language: str, folder: Path = FOLDER) -> Lexicon:
    """The lexicon of `language` (an unknown language gets empty tables)."""
    if language not in LANGUAGES:
        return Lexicon(language, {}, {})
    data = _load(folder / f"{language}.toml")
    crossing = _load(folder / "fr.toml").get("dutch", {})
    if language == "nl":  # the table is written French -> Dutch; read backwards for Dutch questions
        backwards: dict[str, list[str]] = {}
        for french, dutch in crossing.items():
            for term in dutch:
                backwards.setdefault(term, []).append(french)
        crossing = backwards
    return Lexicon(language, _table(data.get("synonyms", {}), language), _table(crossing, language), data)


@lru_cache(maxsize=None)
def words(section: str, key: str, languages: tuple[str, ...] = WORD_LANGUAGES) -> tuple[str, ...]:
    """The entries of `key` in `[section]` of each language's file, in file order, each once; a dotted
    section names a table within one ("committees.names")."""
    out: list[str] = []
    for language in languages:
        path = FOLDER / f"{language}.toml"
        table = _load(path) if path.exists() else {}
        for part in section.split("."):
            table = table.get(part, {})
        out.extend(table.get(key, []))
    return tuple(dict.fromkeys(out))


def word_pattern(entries, bound: bool = True, space: str = " ") -> str:
    """A regular expression matching any of `entries`, each taken as written: a `*` at either end lets a
    word go on there ("*verordening*" is also "AI-verordening", "verordeningen"); an end without one is a
    word boundary when `bound`. `space`: what a space between two words of an entry matches."""
    parts = []
    for entry in entries:
        head, tail = entry.startswith("*"), entry.endswith("*") and len(entry) > 1
        core = space.join(re.escape(w) for w in entry.strip("*").split(" "))
        # a word's start is where `[\w-]*` would begin its leftmost match anyway; said first, it spares
        # the engine a scan of the rest of the word from every letter
        parts.append((r"(?<![\w-])[\w-]*" if head else r"\b" if bound else "") + core
                     + (r"\w*" if tail else r"\b" if bound else ""))
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"  # no entries: matches nothing


def _load(path: Path) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


def _table(entries: dict[str, list[str]], language: str) -> Table:
    table: Table = {}
    for key, terms in entries.items():
        stems = tuple(tokenize(key, language))
        if stems and terms:
            known = table.get(stems, (key, ()))[1]
            table[stems] = (key, tuple(_unique([*known, *terms])))
    return table


def _matches(text: str, language: str, table: Table) -> list[Match]:
    """Longest keys first, left to right, each word used once."""
    if not table:
        return []
    pairs = [(s, w) for w in _WORD.findall(text) for s in tokenize(w, language)]  # "week-end": two stems
    stems, words = [s for s, _ in pairs], [w for _, w in pairs]
    longest = max(len(k) for k in table)
    out, i = [], 0
    while i < len(stems):
        for n in range(min(longest, len(stems) - i), 0, -1):
            entry = table.get(tuple(stems[i:i + n]))
            if entry and _same_words(words[i:i + n], entry[0], language):
                out.append(Match(" ".join(_unique(words[i:i + n])), entry[1]))
                i += n
                break
        else:
            i += 1
    return out


def _same_words(words: list[str], key: str, language: str) -> bool:
    """Equal stems of words of like length: Snowball gives "communications" and "commune" one French stem,
    and "mailen" and "mail" one Dutch stem; only the second pair is one word."""
    keys = [w for w in _WORD.findall(key) for _ in tokenize(w, language)]
    return all(max(len(a), len(b)) <= 1.5 * min(len(a), len(b)) for a, b in zip(words, keys))


def _word_at(text: str, word: str, start: int) -> re.Match | None:
    """The first whole occurrence of `word` in `text` from `start` on."""
    return re.compile(r"(?<![\w'’-])" + re.escape(word) + r"(?![\w'’-])").search(text, start)


def _unique(items) -> list[str]:
    seen, out = set(), []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out
