"""The joint committee a quoted sentence belongs to, when it comes from a table of sector agreements.

The NAR report's annexes list agreements row by row: a label line ("CP 320.00 COMMISSION paritaire …") and
then the row's articles. A sentence of a row ("… 5 euros par jour de télétravail") rarely names the committee
itself, and an amount without it reads as a general right. The label is taken only when the nearest line
before the sentence that starts like a row (a committee number) is such a label; anything less plain gives
no scope rather than a wrong one.
"""

from __future__ import annotations

import re

# a line that starts a row: a committee number first, or a committee named in its first words
# ("3190200 - SOUS-COMMISSION …" is a row whose number the PDF mangled: it ends the row before, gives no scope)
_ROW_START = re.compile(r"^[ \t]*(?:(?:(?:S?CP|PC|PSC)[ \t]*)?\d{3}(?:\.\d{2})?\b|[^\n]{0,20}\b(?:sous-commission|"
                        r"commission paritaire|paritair (?:sub)?comit))", re.M | re.I)
_LABEL = re.compile(r"[ \t]*(S?CP|PC|PSC)[ \t]*(\d{3}(?:\.\d{2})?)[ \t]*(?:-[ \t]*)?"
                    r"(?:sous-commission|commission|paritair)", re.I)
REACH = 4000  # characters: the longest table row of the sample corpus is ~3,200


def committee(text: str, offset: int) -> str | None:
    """"CP 320.00" when the sentence at `offset` of a document's text lies in that committee's table row."""
    rows = list(_ROW_START.finditer(text, max(0, offset - REACH), offset))
    if not rows:
        return None
    label = _LABEL.match(text, rows[-1].start())
    return f"{label.group(1).upper()} {label.group(2)}" if label else None
