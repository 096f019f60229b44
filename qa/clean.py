"""Turn text extracted from PDFs, Word files and web pages into clean paragraphs.

Extracted text is hard-wrapped, hyphenated at line ends, sprinkled with page numbers and
running headers, and sometimes has a blank line after every line. Passages built from it
must read like the source (they are shown to members as citations) and must match
evidence quotes after `qa.fold.fold`, so the cleaning is conservative: when in doubt it
keeps text rather than dropping it.

Output layout: paragraphs separated by one blank line; consecutive list items (and lines
that are just a URL) separated by a single newline so a list stays together.

Words that lost the space between them in the PDF (e.g. "werknemerwegwijzer") are not
repaired: without a dictionary a split would be a guess, and a wrong split breaks exact
quotes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields

from .numbers import MONTH_PATTERN

__all__ = [
    "CleanStats",
    "clean_pages",
    "clean_text",
    "clean_text_with_stats",
    "is_heading",
    "is_list_item",
    "normalize_unicode",
    "repeated_blocks",
]


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


# --- Unicode -------------------------------------------------------------------------------

# Zero-width characters, and bidirectional overrides and isolates (U+202A-E, U+2066-9, LRM/RLM): invisible, and
# an override can make a quoted passage display reversed or reordered (the "Trojan source" trick).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069"), None)
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls but tab and line ends (ESC, BEL, ...)
_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\v]")


def normalize_unicode(text: str) -> str:
    """NFKC (ligatures, full-width forms), one kind of space, no invisible or private-use
    characters (symbol-font bullets become "•"), \\n line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    # A soft hyphen at a line end marks where the typesetter broke a word: always join.
    text = re.sub(r"\u00ad[ \t]*\n[ \t]*", "", text)
    text = text.replace("\u00ad", "")
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROLS.sub("", text.translate(_INVISIBLE))
    # Symbol-font bullets come out of PDFs as private-use characters (U+F0B7 and friends).
    text = re.sub(r"^([ \t]*)[\ue000-\uf8ff]", r"\1•", text, flags=re.MULTILINE)
    text = re.sub(r"[\ue000-\uf8ff]", "", text)
    return _SPACES.sub(" ", text)


# --- Line classes --------------------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_BULLET = re.compile(rf"^(?:[-–—•▪▶►◦○●■□✓✔*·→]|\(?\d{{1,2}}[.)]|\d{{1,2}}-|\(?[{_LOWER}][.)])\s+\S")
_NUMBERED_HEADING = re.compile(
    rf"^(?:\d{{1,2}}(?:\.\d{{1,2}})*\.?|[IVXLC]{{1,6}}\.|[A-H]\.)\s+[\"'‘“(]?[{_UPPER}]"
)
_NAMED_HEADING = re.compile(
    r"^(?:bijlage|annexe|annex|anlage|hoofdstuk|chapitre|chapter|deel|partie|titel|titre|afdeling|section)"
    r"\s+(?:\d{1,3}|[IVXLC]{1,6})\b",
    re.IGNORECASE,
)
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+\S")
_URL_LINE = re.compile(r"^(?:https?://|www\.)\S+$")
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?(?:(?:pagina|page|blz\.?|p\.|seite)\s*)?\d{1,4}(?:\s*(?:/|van|of|sur|de|von)\s*\d{1,4})?(?:\s*[-–—])?$",
    re.IGNORECASE,
)
_TERMINAL = ".!?:;"


def is_list_item(line: str) -> bool:
    return bool(_BULLET.match(line.strip()))


def is_heading(line: str) -> bool:
    """A line that titles what follows: numbered ("3.1 ...", "II. ...", "A. ..."), named
    ("Bijlage 1", "Annexe 2"), markdown ("# ..."), or written in capitals."""
    line = line.strip()
    if not line or len(line) > 200:
        return False
    if _MARKDOWN_HEADING.match(line):
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


def _is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line.strip()))


def _is_stray_page_number(line: str) -> bool:
    # Between paragraphs, a bare 3-digit number is as likely a table value ("311" heading a
    # row of joint committees) as a page number; only decorated ones ("- 116 -") go.
    s = line.strip()
    return _is_page_number(s) and (not s.isdigit() or len(s) <= 2)


def _has_alnum(line: str) -> bool:
    return any(c.isalnum() for c in line)


def _starts_lower(line: str) -> bool:
    return bool(line) and line[0].islower()


def _opens_lower(line: str) -> bool:
    """A quote or bracket opening on a lower-case word ("‘zelfstandig werken’, …") goes on a sentence."""
    return len(line) > 1 and line[0] in "‘“\"'«([" and line[1].islower()


def _starts_continuation(line: str) -> bool:
    """Does this line read as the rest of an unfinished sentence?"""
    if _starts_lower(line):
        return True
    # "... numéro 125 du" / "6 avril 2022 du Conseil": a number then a lower-case word.
    return (
        bool(re.match(rf"^\d[\d.,/]*\s+[{_LOWER}]", line))
        and not is_list_item(line)
        and not _is_footnote_start(line)
    )


# --- Stray numbers -------------------------------------------------------------------------

# Numbers framed by runs of spaces inside running text: page numbers and cross-reference icons
# that the PDF extractor dropped into the sentence ("samenwerking  6  en aangepaste",
# "andere vormen van leren  3 , zoals"). Two spaces on at least one side and a lower-case word
# or punctuation after keep real numbers ("op 28 en 29 juni", table columns) untouched.
_INLINE_NUMBER = re.compile(
    rf"(?:(?<=\S) {{2,}}\d{{1,3}} +|(?<=\S) +\d{{1,3}} {{2,}}|^ *\d{{1,3}} {{2,}})(?=[{_LOWER}(]|[,.;:)](?:\s|$)|$)",
    re.MULTILINE,
)


def _drop_inline_numbers(text: str, stats: CleanStats) -> str:
    def repl(m: re.Match[str]) -> str:
        stats.inline_numbers += 1
        after = m.string[m.end() : m.end() + 1]
        if m.start() == 0 or m.string[m.start() - 1] == "\n" or after in ",.;:)" or after == "":
            return ""
        return " "

    return _INLINE_NUMBER.sub(repl, text)


# A footnote marker the PDF extractor glued to the year of a date ("SERV-platformtekst 2030 van 8 februari
# 20162."): quoted as it stands it tells the member a wrong date. After a day and a month, a year has four
# digits, so one or two more are the marker.
_GLUED_MARKER = re.compile(rf"(\b\d{{1,2}}(?:er)?\s+(?:{MONTH_PATTERN})\s+(?:19|20)\d\d)\d{{1,2}}\b", re.IGNORECASE)


def _unglue_date_markers(text: str, stats: CleanStats) -> str:
    def repl(m: re.Match[str]) -> str:
        stats.inline_numbers += 1
        return m.group(1)

    return _GLUED_MARKER.sub(repl, text)


# --- Repeated debris -----------------------------------------------------------------------


def _norm(line: str) -> str:
    return " ".join(line.split())


def _debris_key(line: str) -> str:
    # Running headers/footers differ only in their page number.
    return re.sub(r"\d+", "#", " ".join(line.split()))


def _is_content_line(line: str) -> bool:
    """Lines never taken for running headers, however often they repeat."""
    s = line.strip()
    if _MARKDOWN_HEADING.match(s) or is_list_item(s):
        return True
    if not any(c.isalpha() for c in s):  # dates, amounts, "x" marks in tables: data, not headers
        return True
    return len(s) > 80 or s[-1] in ",;-"


def _blocks(lines: list[str]) -> list[list[int]]:
    """Indexes of the non-blank lines, grouped into runs between blank lines."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if line.strip():
            current.append(i)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _flows(line: str, nxt: str) -> bool:
    """Does `nxt` continue the sentence of `line` (so both are running text, not a letterhead)?"""
    return _starts_lower(nxt) and not _URL_LINE.match(nxt) and "@" not in nxt.split()[0]


def repeated_blocks(lines: list[str], min_count: int = 3) -> set[tuple[str, ...]]:
    """Multi-line blocks that recur identically: letterheads and footers of extracted pages.

    The French annexes repeat whole table cells ("Définition de l'urgence ;", "(focusgroep
    socioculturele sector)" in VIVO) on every row, so a single recurring line is not evidence
    of debris; a recurring block of two or more short lines that do not read as one sentence
    ("Votre personne de contact : / Guy VAN GYES, Directeur Général") is. Single-line running
    headers in plain text are therefore kept (PDFs are handled by page position, see
    `clean_pages`).
    """
    counts: Counter[tuple[str, ...]] = Counter()
    for block in _blocks(lines):
        texts = [lines[i].strip() for i in block]
        if not 2 <= len(texts) <= 6 or any(_is_content_line(t) for t in texts):
            continue
        if any(_flows(a, b) for a, b in zip(texts, texts[1:])):
            continue
        counts[tuple(_debris_key(t) for t in texts)] += 1
    return {key for key, n in counts.items() if n >= min_count}


def _drop_blocks(lines: list[str], debris: set[tuple[str, ...]], stats: CleanStats) -> list[str]:
    if not debris:
        return lines
    out = list(lines)
    for block in _blocks(lines):
        if tuple(_debris_key(lines[i]) for i in block) in debris:
            for i in block:
                out[i] = ""
            stats.debris_lines += len(block)
    return out


# --- Hyphenation ---------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+")
# Suspended compounds split over a line: "natuur-\nen bosbeheer", "bewakings-\nen/of toezicht".
_CONJUNCTIONS = {"en", "of", "tot", "et", "ou", "und", "oder", "and", "or"}


@dataclass
class _Vocabulary:
    """Spellings seen inside lines of the same document, the best evidence for a line-end hyphen."""

    words: set[str]
    hyphen_pairs: set[tuple[str, str]]

    @classmethod
    def of(cls, text: str) -> _Vocabulary:
        words: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for line in text.split("\n"):
            for token in line.split():
                parts = [p.lower() for p in _WORD.findall(token)]
                words.update(parts)
                for m in re.finditer(r"([^\W\d_]+)-([^\W\d_]+)", token):
                    pairs.add((m.group(1).lower(), m.group(2).lower()))
        return cls(words, pairs)


_TREMA = str.maketrans("aeiou", "äëïöü")


def _with_trema(prefix: str, word: str) -> str:
    if prefix[-1:].lower() in "aeiou" and word[:1] in "aeiou":
        return prefix + word[0].translate(_TREMA) + word[1:]
    return prefix + word


def _hyphen_decision(head: str, tail: str, vocab: _Vocabulary) -> str | None:
    """How to glue "head-" at a line end to the first token `tail` of the next line.

    Returns "join" (drop the hyphen), "keep" (glue, keep the hyphen), "trema" (join and put
    back the diaeresis Dutch drops at a break) or None (leave the line break: it is not a word
    broken across lines).
    """
    prefix_parts = _WORD.findall(head)
    tail_parts = _WORD.findall(tail)
    if tail[:1].isdigit():
        return "keep"  # "COVID-\n19", "A-\n2021-042" in a URL
    if not prefix_parts or not tail_parts or not head.endswith(prefix_parts[-1] + "-"):
        return None
    prefix, word = prefix_parts[-1], tail_parts[0]
    if not tail.startswith(word):
        return None  # the next line starts with a quote, bracket or dash
    if "/" in head or "://" in head or head.startswith("www."):
        return "keep" if tail[:1].isupper() else "join"
    if word[0].isupper():
        if prefix.isupper() and word.isupper() and len(prefix) > 1:
            return "join"  # "DIGITALI-\nSERING" in a heading
        return "keep"  # "Waals-\nBrabant", "Noord-\nBrabant"
    if word.lower() in _CONJUNCTIONS and not tail[len(word) : len(word) + 1].isalpha():
        return None  # "natuur-\nen bosbeheer" is "natuur- en bosbeheer"
    if (prefix.lower(), word.lower()) in vocab.hyphen_pairs:
        return "keep"  # "niet-\nformeel" when "niet-formeel" is written elsewhere
    if (prefix + word).lower() in vocab.words:
        return "join"
    if _with_trema(prefix, word).lower() in vocab.words or (
        prefix.lower() in ("ge", "be") and head == prefix + "-" and word[:1] in "eiu"
    ):
        return "trema"  # "ge-\nidentificeerd": Dutch drops the trema at the break
    if len(prefix) == 1 or any(c.isupper() for c in prefix[1:]) or prefix.isupper() and len(prefix) > 1:
        return "keep"  # "e-\nmail", "ICT-\ninfrastructuur", "eIDAS-\nwet": prefixes Dutch writes with a hyphen
    return "join"


def _dehyphenate(lines: list[str], vocab: _Vocabulary, stats: CleanStats) -> list[str]:
    """Glue words broken at line ends, also across blank lines ("bijvoor-\n\nbeeld")."""
    out = list(lines)
    i = 0
    while i < len(out):
        line = out[i]
        # A space after the hyphen ("beroeps- \nen technisch") marks a suspended compound.
        if not re.search(r"\w-$", line):
            i += 1
            continue
        j = i + 1
        while j < len(out) and j - i <= 4 and not out[j].strip():
            j += 1
        if j >= len(out) or not out[j].strip():
            i += 1
            continue
        nxt = out[j].lstrip()
        tail = nxt.split()[0]
        head = line.split()[-1]
        decision = _hyphen_decision(head, tail, vocab)
        if decision is None or (decision == "keep" and j - i > 1 and not _starts_lower(tail)):
            i += 1
            continue
        if decision == "trema":
            glued = line[:-1] + tail[0].translate(_TREMA) + tail[1:]
        else:
            glued = line[:-1] + ("-" if decision == "keep" else "") + tail
        rest = nxt[len(tail) :].strip()
        if decision == "keep":
            stats.hyphens_kept += 1
        else:
            stats.hyphen_joins += 1
        # The rest of the next line belongs to the same sentence (and must not start a list
        # item of its own: "Maat-\n\nschappij - Project Amai!"); blank lines between the
        # halves went with the break.
        out[i] = f"{glued} {rest}" if rest else glued
        del out[i + 1 : j + 1]
        # The glued line may itself end in a hyphen ("e-ge-\nzondheid"): look at it again.
    return out


# --- Reflow --------------------------------------------------------------------------------


@dataclass
class _Unit:
    """One output paragraph, list item or URL line."""

    lines: list[str]
    kind: str  # "para", "item", "heading", "url"

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _line_kind(line: str) -> str:
    if _URL_LINE.match(line):
        return "url"
    if is_heading(line):
        return "heading"
    if is_list_item(line):
        return "item"
    return "para"


def _typical_width(lines: list[str]) -> int:
    lengths = sorted(len(ln) for ln in lines if len(ln) >= 20)
    if not lengths:
        return 80
    return lengths[int(len(lengths) * 0.75)]


def _reflow(lines: list[str]) -> str:
    width = _typical_width(lines)
    blocks: list[list[str]] = []
    current: list[str] = []
    for ln in lines:
        s = " ".join(ln.split())
        if s:
            current.append(s)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    units: list[_Unit] = []
    for block in blocks:
        block_start = len(units)
        block_width = max(len(s) for s in block)
        for k, s in enumerate(block):
            kind = _line_kind(s)
            if kind == "heading" and units and units[-1].kind == "item" and is_list_item(s):
                kind = "item"  # "1. Een visie" after "- ..." is the next item, not a title
            if k == 0:
                if units and _continues(units[-1], s, kind, width):
                    units[-1].lines.append(s)
                else:
                    units.append(_Unit([s], kind))
                continue
            prev = units[-1]
            prev_line = prev.lines[-1]
            if _starts_continuation(s) and prev.kind != "url" and kind not in ("item", "url"):
                prev.lines.append(s)
                continue
            new_unit = (
                kind in ("item", "url", "heading")
                or prev.kind in ("heading", "url")
                # A short line ending a sentence ends its paragraph (widths vary per column).
                or (prev_line[-1] in _TERMINAL and len(prev_line) < 0.6 * block_width and s[0].isupper())
                or (_is_footnote_start(s) and (prev_line[-1] in _TERMINAL or "http" in prev_line))
                # A short title line glued to its text ("De optimisten\nLaten we starten ...").
                or (
                    kind == "para"
                    and prev.kind == "para"
                    and len(prev.lines) == 1
                    and len(prev_line) < 0.5 * block_width
                    and _short_title(prev_line)
                    and s[0].isupper()
                )
            )
            if new_unit:
                units.append(_Unit([s], kind))
            else:
                prev.lines.append(s)
        # A heading that swallowed a lower-case continuation line is still a heading only if it
        # still looks like one.
        for u in units[max(0, block_start - 1) :]:
            if u.kind == "heading" and not is_heading(u.text):
                u.kind = "para"

    parts: list[str] = []
    for idx, u in enumerate(units):
        if idx:
            prev = units[idx - 1]
            tight = u.kind in ("item", "url") and prev.kind in ("item", "url")
            parts.append("\n" if tight else "\n\n")
        parts.append(u.text)
    return "".join(parts)


def _short_title(line: str) -> bool:
    words = line.split()
    return (
        len(words) <= 8
        and line[0].isupper()
        and line[-1] not in _TERMINAL + ",-"
        and words[-1].strip("()[]\"'‘’“”").lower() not in _NEVER_LAST
        and any(len(w) >= 4 and w.isalpha() for w in words)
    )


def _is_footnote_start(line: str) -> bool:
    return bool(re.match(rf"^\d{{1,3}}\s+(?:[{_UPPER}\"'‘“]|https?://|www\.)", line))


def _continues(prev: _Unit, line: str, kind: str, width: int) -> bool:
    """Does the first line of a block continue the unit before the blank line?

    Some extractors put a blank line after every line, so a blank line alone is not a
    paragraph break when the sentence visibly goes on.
    """
    if prev.kind == "url" or kind in ("item", "url", "heading"):
        return False
    if prev.kind == "heading":
        # Only a lower-case start continues a title across a blank line (a footnote such as
        # "7 Onderlinge verbanden ... een link\n\nbestaat" also looks like a numbered title).
        return _starts_lower(line)
    last = prev.lines[-1]
    if last[-1] in _TERMINAL:
        return False
    if _starts_lower(line) or _opens_lower(line):
        return True
    long_line = len(last) >= 0.6 * width
    if long_line and (_starts_continuation(line) or re.match(r"^(?:\(|\d[\d.,/]*(?:[ ,.;:)]|$)|[–-] [a-zß-ÿ])", line)):
        # "... numéro 125 du\n\n6 avril 2022", "pour l'année\n\n2023 (entre autres)",
        # "sa convention du 23 novembre 2021\n\n(numéro 173468)."
        return not _is_footnote_start(line)
    # A line ending in a word that cannot end a sentence or a title breaks mid-sentence even
    # when the next line starts with a name ("... naar een vergadering vanuit\n\nWest-Vlaanderen").
    return long_line and last.split()[-1] in _NEVER_LAST and line[0].isupper()


_NEVER_LAST = frozenset(
    "de het een van voor met naar in op aan bij uit om te door over en of dat die als vanuit tot "
    "le la les des du un une à au aux et ou pour par dans sur avec que qui".split()
)


# --- Entry points --------------------------------------------------------------------------


def _clean_lines(text: str, vocab: _Vocabulary, debris: set[tuple[str, ...]], stats: CleanStats) -> str:
    text = _unglue_date_markers(_drop_inline_numbers(text, stats), stats)
    # Trailing spaces stay until the hyphen step: "beroeps- \nen" (space) is not a broken word.
    lines = _drop_blocks(text.split("\n"), debris, stats)
    kept: list[str] = []
    n = len(lines)
    for i, ln in enumerate(lines):
        s = ln.strip()
        if not s:
            kept.append("")
            continue
        if _is_stray_page_number(s):
            before = i == 0 or not lines[i - 1].strip()
            after = i == n - 1 or not lines[i + 1].strip()
            if before and after:  # a number that is a paragraph of its own
                stats.page_numbers += 1
                kept.append("")
                continue
        if not _has_alnum(s):  # "***", lone bullets and rules
            stats.debris_lines += 1
            kept.append("")
            continue
        kept.append(ln)
    kept = _dehyphenate(kept, vocab, stats)
    return _reflow(kept)


def clean_text_with_stats(raw: str) -> tuple[str, CleanStats]:
    stats = CleanStats(chars_before=len(raw))
    text = normalize_unicode(raw)
    out = _clean_lines(text, _Vocabulary.of(text), repeated_blocks(text.split("\n")), stats)
    stats.chars_after = len(out)
    return out, stats


def clean_text(raw: str) -> str:
    """Clean one document's extracted text (see the module doc)."""
    return clean_text_with_stats(raw)[0]


_EDGE = 3  # lines at the top and at the bottom of a page where running headers/footers live


def _edge_indexes(lines: list[str]) -> list[int]:
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    return idx if len(idx) <= 2 * _EDGE else idx[:_EDGE] + idx[-_EDGE:]


def clean_pages(pages: list[str]) -> tuple[list[str], CleanStats]:
    """Clean the pages of one PDF separately (so page offsets stay exact) with shared evidence.

    Running headers and footers are found where they live: a line among the first or last
    three lines of at least 30% of the pages (and at least 3) is dropped from those
    positions; numbers are ignored in that comparison for short lines ("Pagina 3 van 12"). The vocabulary for hyphen decisions comes from the whole document, and a word
    broken across a page end is glued on the earlier page.
    """
    stats = CleanStats(chars_before=sum(len(p) for p in pages))
    pages = [normalize_unicode(p) for p in pages]
    _glue_page_breaks(pages)
    vocab = _Vocabulary.of("\n".join(pages))
    page_lines = [p.split("\n") for p in pages]
    edge_keys: set[str] = set()
    if len(pages) >= 3:
        threshold = max(3, int(0.3 * len(pages)))
        exact = Counter(k for lines in page_lines for k in {_norm(lines[i]) for i in _edge_indexes(lines)})
        masked = Counter(k for lines in page_lines for k in {_debris_key(lines[i]) for i in _edge_indexes(lines)})
        # The same line on many pages is a header; lines that differ only in their numbers
        # ("Pagina 3 van 12") only when short, as body lines can share a pattern too.
        edge_keys = {k for k, c in exact.items() if c >= threshold and len(k) <= 100}
        edge_keys |= {k for k, c in masked.items() if c >= threshold and len(k) <= 40}
    blocks = repeated_blocks([ln for lines in page_lines for ln in lines + [""]])
    out: list[str] = []
    for lines in page_lines:
        page_stats = CleanStats()
        for i in _edge_indexes(lines):
            if _norm(lines[i]) in edge_keys or _debris_key(lines[i]) in edge_keys:
                lines[i] = ""
                page_stats.debris_lines += 1
        lines = _drop_edge_page_numbers(lines, page_stats)
        out.append(_clean_lines("\n".join(lines), vocab, blocks, page_stats))
        stats.add(page_stats)
    stats.chars_after = sum(len(p) for p in out) + 2 * max(0, len(out) - 1)
    return out, stats


def _drop_edge_page_numbers(lines: list[str], stats: CleanStats) -> list[str]:
    # On a real page, a number alone on the first or last line is the page number even when
    # text surrounds it without a blank line.
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    for i in idx[:1] + idx[-1:]:
        if _is_page_number(lines[i]):
            lines[i] = ""
            stats.page_numbers += 1
    return lines


def _glue_page_breaks(pages: list[str]) -> None:
    for k in range(len(pages) - 1):
        head = pages[k].rstrip()
        nxt = pages[k + 1].lstrip()
        if re.search(r"[^\W\d_]-$", head) and nxt[:1].islower():
            word = nxt.split()[0]
            pages[k] = head + "\n" + word
            pages[k + 1] = nxt[len(word) :].lstrip(" ")
