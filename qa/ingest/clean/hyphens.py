"""Dehyphenation: words broken at line ends (and page ends) glued back, the hyphen kept where the word has one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lines import CleanStats, starts_lower

_WORD = re.compile(r"[^\W\d_]+")
# Suspended compounds split over a line: "natuur-\nen bosbeheer", "bewakings-\nen/of toezicht".
_CONJUNCTIONS = {"en", "of", "tot", "et", "ou", "und", "oder", "and", "or"}


@dataclass
class Vocabulary:
    """Spellings seen inside lines of the same document, the best evidence for a line-end hyphen."""

    words: set[str]
    hyphen_pairs: set[tuple[str, str]]

    @classmethod
    def of(cls, text: str) -> Vocabulary:
        words: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for line in text.split("\n"):
            for token in line.split():
                parts = [p.lower() for p in _WORD.findall(token)]
                words.update(parts)
                for m in re.finditer(r"([^\W\d_]+)-([^\W\d_]+)", token):
                    pairs.add((m.group(1).lower(), m.group(2).lower()))
        return cls(words, pairs)


TREMA = str.maketrans("aeiou", "äëïöü")


def _with_trema(prefix: str, word: str) -> str:
    if prefix[-1:].lower() in "aeiou" and word[:1] in "aeiou":
        return prefix + word[0].translate(TREMA) + word[1:]
    return prefix + word


def _hyphen_decision(head: str, tail: str, vocab: Vocabulary) -> str | None:
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


def dehyphenate(lines: list[str], vocab: Vocabulary, stats: CleanStats) -> list[str]:
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
        if decision is None or (decision == "keep" and j - i > 1 and not starts_lower(tail)):
            i += 1
            continue
        if decision == "trema":
            glued = line[:-1] + tail[0].translate(TREMA) + tail[1:]
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



def glue_page_breaks(pages: list[str]) -> None:
    for k in range(len(pages) - 1):
        head = pages[k].rstrip()
        nxt = pages[k + 1].lstrip()
        if re.search(r"[^\W\d_]-$", head) and nxt[:1].islower():
            word = nxt.split()[0]
            pages[k] = head + "\n" + word
            pages[k + 1] = nxt[len(word) :].lstrip(" ")
