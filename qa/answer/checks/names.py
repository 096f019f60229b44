"""A name in the question (a capitalised or mixed-case word past a sentence's first) that no passage contains,
nor any document's title or publisher: the documents never mention ChatGPT, a brand, an acronym they do not use.

Only the sentences that ask are read (`Question.asked`): "Ik werk bij de NMBS. Mag mijn baas mij 's avonds
bellen?" names the member's employer to tell their situation, and the documents' rule on evening calls still
answers. A name may be written in the other language ("Flandre" for "Vlaanderen"): the lexicon's table
between the languages gives its other form. A member word of the lexicon ("SMS", "GSM") is a word the search
knows how to bring to the documents' terms, no unknown name. The question reader's cue words and stop words are
no names.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ...index import Index
from ...index.lexical import tokenize
from ...lexicon import lexicon
from ...lexicon import words as lexicon_words
from ...sentences import split_sentences
from ..question import cues_for, words_of
from . import Context, Passes

_NAME = re.compile(r"\b(?:[A-Z][a-z]*[A-Z][\w]*|[A-Z]{2,}[\w]*|[A-Z][a-zà-ÿ]{2,})\b")


class UnknownNames(Passes):
    name = "unknown-names"

    def verdict(self, ctx: Context) -> str | None:
        names = unknown_names(ctx.question.asked, ctx.question.language, ctx.index)
        return f"the documents never mention {', '.join(names)}" if names else None


def unknown_names(question: str, language: str, index: Index) -> list[str]:
    firsts = {s.text.split()[0].strip("¿?,.:;!") for s in split_sentences(question, language) if s.text.split()}
    unknown = []
    for name in _NAME.findall(question):
        if name in firsts or name.lower() in _not_names() or _member_word(name):
            continue
        forms = [name, *_other_forms(name)]
        stems = {s for lang in ("nl", "fr") for form in forms for s in tokenize(form, lang)}
        if stems and not any(index.lexical.knows(s) or s in index.catalog_stems for s in stems):
            unknown.append(name)
    return unknown


def _member_word(name: str) -> bool:
    """A word of the lexicon's [synonyms] in either language: the search maps it to the documents' terms."""
    return any(lexicon(lang).synonyms_in(name) for lang in ("nl", "fr"))


def _other_forms(name: str) -> list[str]:
    return [term for lang in ("nl", "fr") for m in lexicon(lang).crossing_in(name) for term in m.terms]


@lru_cache(maxsize=1)
def _not_names() -> frozenset[str]:
    """Words of the question reader's cues and [names] of the lexicon: "Hoeveel", "Quelle", "Mag" open
    questions, "Ik" and "Mon" are no names either."""
    words = set()
    for lang in ("nl", "fr"):
        for phrases in cues_for(lang).kinds.values():
            words.update(w for phrase in phrases for w in phrase)
    return frozenset(words | {w for entry in lexicon_words("names", "not_names") for w in words_of(entry)})
