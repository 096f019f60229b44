"""A year in the question later than every document's date: what happened then cannot be in them. Read in
the sentences that ask (`Question.asked`): "Sinds 2025 werk ik thuis." tells the member's situation.

A year that is part of a name a retrieved passage uses ("de SERV-platformtekst 2030", "Agenda 2030") is no
time: the question asks about a known text, not about the future.
"""

from __future__ import annotations

import re

from ...datatypes import Hit
from ...fold import fold
from ...index.lexical import tokenize
from . import Context, Passes

_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")


class LaterYears(Passes):
    name = "later-years"

    def verdict(self, ctx: Context) -> str | None:
        dated = [int(d.date[:4]) for d in ctx.index.documents.values() if d.date and d.date[:4].isdigit()]
        if not dated or len(dated) < len(ctx.index.documents):
            return None  # an undated document might be recent
        question = ctx.question.asked
        later = sorted({m.group(1) for m in _YEAR.finditer(question)
                        if int(m.group(1)) > max(dated) and not _named_with_year(question, m, ctx.hits)})
        return f"the documents predate {', '.join(later)}" if later else None


def _named_with_year(question: str, year: re.Match, hits: list[Hit]) -> bool:
    """The word before the year is no stop word ("van 2024", "en 2024" are times) and a retrieved passage
    holds that word followed by the year."""
    before = re.findall(r"[\w'’-]+", question[:year.start()])
    if not before or not tokenize(before[-1], "nl") or not tokenize(before[-1], "fr"):
        return False
    name = fold(f"{before[-1]} {year.group(1)}")
    return any(name in fold(hit.chunk.text) for hit in hits)
