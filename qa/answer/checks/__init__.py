"""The checks that decide whether the documents answer the question: one interface, one list.

A check has a `name`, a `narrow` step (the candidate evidence sentences in, those it allows out: "only the
named organisation's words") and a `verdict` (None when the documents may answer, else the reason they do
not). The pipeline runs every narrowing step, then the verdicts in list order; the first reason becomes the
answer's `abstain_reason` and the check's name its `abstain_check`. Each check reads the `Question` read
once (qa/answer/question.py), never the raw text again.

Adding a check: one file in this folder with a class of this shape, and one line in `CHECKS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ...datatypes import Hit
from ...index import Index
from ..evidence import Evidence
from ..question import Question


@dataclass
class Context:
    """What the checks see: the question read once, the hits, and the candidate sentences best first."""

    question: Question
    hits: list[Hit]
    ranked: list[Evidence]
    index: Index
    settings: Any
    embedder: Any
    query_vector: np.ndarray
    # the sentences that state what a value question asks (a date of what was asked, a count of the thing
    # counted), when a check worked that out; the pipeline quotes one of them
    answering: set[str] | None = None
    notes: dict = field(default_factory=dict)


class Check(Protocol):
    name: str

    def narrow(self, ctx: Context) -> list[Evidence]: ...

    def verdict(self, ctx: Context) -> str | None: ...


class Passes:
    """A check without a narrowing step or without a verdict inherits the one that changes nothing."""

    name = ""

    def narrow(self, ctx: Context) -> list[Evidence]:
        return ctx.ranked

    def verdict(self, ctx: Context) -> str | None:
        return None


def _checks() -> list[Check]:
    from .attribution import Attribution
    from .closeness import Closeness
    from .instrument import Instrument
    from .names import UnknownNames
    from .numbers import StatedNumbers
    from .retrieved import Retrieved
    from .subject import Subject
    from .typed import TypedAnswer
    from .years import LaterYears

    return [Retrieved(), UnknownNames(), LaterYears(), Instrument(), Attribution(), StatedNumbers(), TypedAnswer(),
            Subject(), Closeness()]


CHECKS: list[Check] = _checks()


def narrow(ctx: Context, checks: list[Check] | None = None) -> list[Evidence]:
    for check in checks or CHECKS:
        ctx.ranked = check.narrow(ctx)
    return ctx.ranked


def verdict(ctx: Context, checks: list[Check] | None = None) -> tuple[str, str] | None:
    """(check name, reason) of the first check that finds the documents do not answer, or None."""
    for check in checks or CHECKS:
        reason = check.verdict(ctx)
        if reason:
            return check.name, reason
    return None
