"""A question naming an organisation gets only that organisation's words (qa/answer/attribution.py): the
sentences of documents it published or of passages that name it; none retrieved, the documents do not say."""

from __future__ import annotations

from .. import attribution
from ...lexicon.organisations import label
from ..evidence import Evidence
from . import Context, Passes


class Attribution(Passes):
    name = "attribution"

    def narrow(self, ctx: Context) -> list[Evidence]:
        bodies = list(ctx.question.bodies)
        if not bodies:
            return ctx.ranked
        return [e for e in ctx.ranked if attribution.speaks_for(e.hit.chunk, _publisher(ctx, e.hit.chunk.doc), bodies)]

    def verdict(self, ctx: Context) -> str | None:
        if ctx.question.bodies and not ctx.ranked:
            return f"no retrieved passage is from or about {label(list(ctx.question.bodies))}"
        return None


def _publisher(ctx: Context, doc: str) -> str | None:
    info = ctx.index.documents.get(doc)
    return info.publisher if info else None
