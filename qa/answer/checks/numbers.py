"""A number or year in a sentence that asks which no retrieved passage states ("… adopted in 2024"): the
passages are about something else than what was asked. A number in a sentence that only tells the member's
situation ("Ons bedrijf telt 15 werknemers.") is no such constraint (`Question.asked`): the rule for firms
of twenty or more still answers them."""

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
        missing = {n for n in numbers_in(q.asked, q.language) if not n.startswith("month:")} - stated
        return f"no passage mentions {', '.join(sorted(missing))}" if missing else None
