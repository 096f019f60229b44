"""The typed-answer check: a question asking for a kind of value is answered only by a sentence stating a
value of that kind, in the unit asked, about what was asked.

- amount (money), rate (a percentage), count, date, duration (a number of days, weeks, months, years),
  frequency ("how often": "jaarlijks", "twee keer per jaar", "tous les deux ans");
- in the unit asked: "how much per month" is not answered by "5 euros a day";
- "what did they conclude / find" needs a sentence that reports a conclusion or finding;
- about what was asked: a date must date the event asked (qa/answer/dated.py: a closeness floor per embedder),
  a count must count the thing asked (qa/answer/counted.py), an amount must not be another joint committee's
  (qa/answer/scope.py), a value asked of one level of government must come from a passage naming that level
  (qa/answer/authority.py); for the other kinds any sentence of the retrieved passages may state it, and the
  subject check (qa/answer/checks/subject.py) then asks that its passage speak of what was asked.
Which sentences state a value of a kind, in a unit, or report a finding: qa/answer/stated.py.

Its narrowing step works out which candidate sentences answer (`Context.answering`); the pipeline then quotes
one of them, and its verdict refuses when none does.
"""

from __future__ import annotations

from .. import dated
from ..answer_type import states
from ..authority import speaks_of
from ..counted import CountCheck, count_check
from ..evidence import Evidence
from ..question import Question
from ..scope import committee_at
from ..stated import states_value
from . import Context, Passes

_WHAT = {"amount": "an amount", "rate": "a percentage", "count": "a number", "date": "a date", "duration": "a duration",
         "frequency": "how often"}
_UNIT = {"day": "per day", "week": "per week", "month": "per month", "year": "per year"}


class TypedAnswer(Passes):
    name = "typed-answer"

    def narrow(self, ctx: Context) -> list[Evidence]:
        q = ctx.question
        if not (q.asks_value or q.reports):
            return ctx.ranked
        check = _calibrated_check(q, ctx)
        ctx.notes["check"] = check
        if check is not None:
            answering = [e for e in ctx.ranked if check.answers(e.text)]
        else:
            # every candidate, not only the closest few: a member's words score the sentence stating the value
            # lower than sentences sharing their wording (docs/evaluation.md)
            answering = [e for e in ctx.ranked if states_value(q, e.text, e.language)]
        ctx.notes["stating"] = answering
        if q.levels:  # Brussels' three telework days are no answer for Flemish civil servants
            answering = [e for e in answering if speaks_of(e.hit.chunk, set(q.levels))]
        ctx.answering = {e.text for e in answering}
        return ctx.ranked

    def verdict(self, ctx: Context) -> str | None:
        q = ctx.question
        if ctx.answering is None:
            return None
        stating = ctx.notes["stating"]
        check = ctx.notes.get("check")
        if not stating and check is not None:
            return check.missing
        if not stating and not (q.kind == "date" and not q.unit):  # an uncalibrated "when": any date would do
            what = _WHAT.get(q.kind, "a value") if q.asks_value else "a conclusion or finding"
            unit = f" {_UNIT[q.unit]}" if q.unit and q.asks_value else ""
            return f"none of the closest passages states {what}{unit}"
        other = self._other_committees(ctx, stating)
        if other:
            return other
        if stating and not ctx.answering:
            return f"no passage stating {_WHAT.get(q.kind, 'a value')} speaks of the " \
                   f"{' or '.join(sorted(q.levels))} level asked about"
        return None

    @staticmethod
    def _other_committees(ctx: Context, stating: list[Evidence]) -> str | None:
        """The only amounts near are those of joint committees the question does not name ("5 euros a day" of
        the funeral sector does not answer a civil servant)."""
        if ctx.question.kind != "amount" or not stating:
            return None
        sectors = [committee_at(ctx.index, e.hit.chunk, e.span.start) for e in stating]
        if sectors and all(sectors) and not any(c.named_in(ctx.question.text) for c in sectors):
            codes = ", ".join(sorted({c.code for c in sectors}))
            return f"the closest amounts are those of other joint committees ({codes})"
        return None


def _calibrated_check(q: Question, ctx: Context) -> CountCheck | dated.DateCheck | None:
    """For "how many X" and "when", with an embedder calibrated for it: which sentences count X or date what
    was asked, among all candidates."""
    if q.kind == "count":
        return count_check(q.text, [e.text for e in ctx.ranked if states("count", e.text)], ctx.embedder)
    if q.kind == "date" and dated.checkable(ctx.embedder):
        return dated.date_check(q.text, [(e.text, e.vector) for e in ctx.ranked], ctx.query_vector, ctx.embedder)
    return None
