"""A question asking what a regulation or directive says, when no retrieved passage mentions one
(qa/answer/instrument.py): remarks on AI at work do not say what the AI act says."""

from __future__ import annotations

from ..instrument import undiscussed_instrument
from . import Context, Passes


class Instrument(Passes):
    name = "instrument"

    def verdict(self, ctx: Context) -> str | None:
        return undiscussed_instrument(ctx.question.text, ctx.hits)
