"""The joint committee a quoted sentence belongs to, when it comes from a table of sector agreements.

The NAR report's annexes list agreements row by row: a label line ("CP 320.00 COMMISSION paritaire …") and
then the row's articles. A sentence of a row ("… 5 euros par jour de télétravail") rarely names the committee
itself, and an amount without it reads as a general right. The label is taken only when the nearest line
before the sentence that starts like a row (a committee number) is such a label; anything less plain gives
no scope rather than a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..index.lexical import tokenize
from ..lexicon import word_pattern, words


def _words(key: str) -> str:
    """[committees] of the lexicon, matched where they begin."""
    return word_pattern(words("committees", key), bound=False)


# a line that starts a row: a committee number first, or a committee named in its first words
# ("3190200 - SOUS-COMMISSION …" is a row whose number the PDF mangled: it ends the row before, gives no scope)
_ROW_START = re.compile(rf"^[ \t]*(?:(?:{_words('abbreviations')}[ \t]*)?\d{{3}}(?:\.\d{{2}})?\b|[^\n]{{0,20}}\b"
                        rf"{_words('row_start')})", re.M | re.I)
_LABEL = re.compile(rf"[ \t]*({_words('abbreviations')})[ \t]*(\d{{3}}(?:\.\d{{2}})?)[ \t]*(?:-[ \t]*)?"
                    rf"{_words('label')}", re.I)
REACH = 4000  # characters: the longest table row of the sample corpus is ~3,200
# words every label has, which name no committee in particular
_GENERIC = {t for lang in ("fr", "nl") for t in tokenize(" ".join(words("committees", "generic")), lang)}
# where a label's name ends: the agreement's number or date ("174487/co/320.00"), its first article or the
# end of a sentence
_NAME_END = re.compile(rf"\d{{4,}}|\d+/\d+|\b{word_pattern(words('references', 'article'), bound=False)}\b|[.;:]",
                       re.I)


@dataclass(frozen=True)
class Committee:
    code: str  # "CP 320.00"
    label: str  # the row's label ("CP 320.00 COMMISSION PARITAIRE DES ENTREPRISES DE POMPES FUNÈBRES")

    def named_in(self, question: str) -> bool:
        """Whether the question names this committee: by number, or by a word of its label."""
        number = self.code.split()[1]
        if re.search(rf"\b{re.escape(number.split('.')[0])}\b", question):
            return True
        asked = {t for lang in ("fr", "nl") for t in tokenize(question, lang) if len(t) >= 4}
        label = {t for lang in ("fr", "nl") for t in tokenize(self.label, lang) if len(t) >= 4}
        return bool(asked & (label - _GENERIC))


def committee_of(text: str, offset: int) -> Committee | None:
    """The committee whose table row holds the sentence at `offset` of a document's text, if plainly labelled."""
    rows = list(_ROW_START.finditer(text, max(0, offset - REACH), offset))
    if not rows:
        return None
    label = _LABEL.match(text, rows[-1].start())
    if not label:
        return None
    # the label runs over several table-cell lines, up to the agreement's number or date ("174487/co/320.00"),
    # its first article or the end of a sentence
    head = text[label.end():label.end() + 160]
    name = _NAME_END.split(head, maxsplit=1)[0]
    return Committee(f"{label.group(1).upper()} {label.group(2)}", " ".join((label.group(0) + name).split()))


def committee_at(index, chunk, offset: int) -> Committee | None:
    """The committee of the sentence at `offset` of a passage (`chunk`) of the index."""
    text = index.text_of(chunk.doc)
    return committee_of(text, chunk.start + offset) if text else None
