"""A number or year the question states that no retrieved passage states ("… adopted in 2024"): the
passages are about something else than what was asked."""

from __future__ import annotations

from ...numbers import numbers_in
from . import Context, Passes


class StatedNumbers(Passes):
    name = "stated-numbers"

    def verdict(self, ctx: Context) -> str | None:
        q = ctx.question
        # a passage's title counts: every passage of "Rapport nr. 131" is about report 131
        stated = set().union(*(numbers_in(h.chunk.text, h.chunk.language) | numbers_in(h.chunk.title)
                               for h in ctx.hits))
        missing = {n for n in numbers_in(q.text, q.language) if not n.startswith("month:")} - stated
        return f"no passage mentions {', '.join(sorted(missing))}" if missing else None
