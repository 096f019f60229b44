"""What a line of extracted text is (heading, list item, page number, continuation), and `CleanStats`,
the counts the cleaning steps keep."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields


@dataclass
class CleanStats:
    """What cleaning did to one text, for reports and tuning."""

    chars_before: int = 0
    chars_after: int = 0
    hyphen_joins: int = 0  # "digitali-\nsering" -> "digitalisering"
    hyphens_kept: int = 0  # "ICT-\ninfrastructuur" -> "ICT-infrastructuur" (line break removed, hyphen kept)
    page_numbers: int = 0  # lines that were only a page number
    inline_numbers: int = 0  # stray numbers in a line ("samenwerking  6  en"), markers glued to a year ("20162")
    debris_lines: int = 0  # repeated running headers/footers and lines without letters or digits

    def add(self, other: CleanStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))



UPPER = "A-ZÀ-ÖØ-Þ"
LOWER = "a-zß-öø-ÿ"
_BULLET = re.compile(rf"^(?:[-–—•▪▶►◦○●■□✓✔*·→]|\(?\d{{1,2}}[.)]|\d{{1,2}}-|\(?[{LOWER}][.)])\s+\S")
_NUMBERED_HEADING = re.compile(
    rf"^(?:\d{{1,2}}(?:\.\d{{1,2}})*\.?|[IVXLC]{{1,6}}\.|[A-H]\.)\s+[\"'‘“(]?[{UPPER}]"
)
_NAMED_HEADING = re.compile(
    r"^(?:bijlage|annexe|annex|anlage|hoofdstuk|chapitre|chapter|deel|partie|titel|titre|afdeling|section)"
    r"\s+(?:\d{1,3}|[IVXLC]{1,6})\b",
    re.IGNORECASE,
)
MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+\S")
URL_LINE = re.compile(r"^(?:https?://|www\.)\S+$")
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:(?:pagina|page|blz\.?|p\.|seite)\s*)?\d{1,4}(?:\s*(?:/|van|of|sur|de|von)\s*\d{1,4})?(?:\s*[-–—])?$",
    re.IGNORECASE,
)
TERMINAL = ".!?:;"


def is_list_item(line: str) -> bool:
    return bool(_BULLET.match(line.strip()))


def is_heading(line: str) -> bool:
    """A line that titles what follows: numbered ("3.1 ...", "II. ...", "A. ..."), named
    ("Bijlage 1", "Annexe 2"), markdown ("# ..."), or written in capitals."""
    line = line.strip()
    if not line or len(line) > 200:
        return False
    if MARKDOWN_HEADING.match(line):
        return True
    if line[-1] in ".;,":
        # "3. Dienstverlening en het belang van persoonlijk contact." is a list item, not a title
        # (but "RAPPORT NR. 131" style abbreviations inside are fine).
        return False
    if _NAMED_HEADING.match(line):
        return True
    if _NUMBERED_HEADING.match(line):
        return True
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and len(line) <= 120:
        upper = sum(c.isupper() for c in letters)
        return upper / len(letters) >= 0.9
    return False


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line.strip()))


def is_stray_page_number(line: str) -> bool:
    # Between paragraphs, a bare 3-digit number is as likely a table value ("311" heading a
    # row of joint committees) as a page number; only decorated ones ("- 116 -") go.
    s = line.strip()
    return is_page_number(s) and (not s.isdigit() or len(s) <= 2)


def has_alnum(line: str) -> bool:
    return any(c.isalnum() for c in line)


def starts_lower(line: str) -> bool:
    return bool(line) and line[0].islower()


def opens_lower(line: str) -> bool:
    """A quote or bracket opening on a lower-case word ("‘zelfstandig werken’, …") goes on a sentence."""
    return len(line) > 1 and line[0] in "‘“\"'«([" and line[1].islower()


def starts_continuation(line: str) -> bool:
    """Does this line read as the rest of an unfinished sentence?"""
    if starts_lower(line):
        return True
    # "... numéro 125 du" / "6 avril 2022 du Conseil": a number then a lower-case word.
    return (
        bool(re.match(rf"^\d[\d.,/]*\s+[{LOWER}]", line))
        and not is_list_item(line)
        and not is_footnote_start(line)
    )



def is_footnote_start(line: str) -> bool:
    return bool(re.match(rf"^\d{{1,3}}\s+(?:[{UPPER}\"'‘“]|https?://|www\.)", line))
