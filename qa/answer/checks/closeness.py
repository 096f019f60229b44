"""The best passage or sentence is far from the question (per-language floors, calibrated on the dev split)."""

from __future__ import annotations

from . import Context, Passes


class Closeness(Passes):
    name = "closeness"

    def verdict(self, ctx: Context) -> str | None:
        if not ctx.ranked:
            return "no sentence of the retrieved passages can be quoted"
        language, s = ctx.question.language, ctx.settings
        best_passage = max((h.dense_score or 0.0) for h in ctx.hits)
        if best_passage < s.min_passage_score(language) or ctx.ranked[0].score < s.min_sentence_score(language):
            return "the closest passages are too far from the question"
        return None
