"""Deciding that the documents do not answer, before any answer is composed.

No single similarity threshold separates unanswerable questions from answerable ones (measured on the eval
set: the best threshold abstains on 2 of 12 unanswerable questions), so several signals are combined, each
of which says something a member would accept as a reason:
- the question names something the documents never mention (ChatGPT, Proximus, a brand, an acronym);
- the question asks what a regulation or directive says and no retrieved passage mentions one
  (qa/instrument.py: remarks on AI at work do not say what the AI act says);
- the question names an organisation and no retrieved passage is its document or names it
  (qa/attribution.py: the NAR report's words on telework are not the CSC's);
- the question states a number or year that no retrieved passage states ("… adopted in 2024");
- the question asks about a year after the newest document was published (the documents cannot report it);
- the question asks for an amount or a count and none of the closest sentences states one
  (qa/answer_type.py: a passage on the right topic that states no amount does not say how much);
- the question asks how many of a named thing and no retrieved sentence counts that thing
  (qa/counted.py: "1181 reacties" does not say how many members);
- the question asks when, and no retrieved sentence that states a date is about what it asks
  (qa/dated.py: the 1 April 2023 deadline for disconnection agreements does not date their evaluation);
- the question asks for an amount, and the only amounts near are those of joint committees it does not
  name (qa/scope.py: "5 euros a day" of the funeral sector does not answer a civil servant);
- the question asks a number or date of one level of government, and no passage stating one names that
  level (qa/authority.py: Brupartners' three telework days do not answer federal civil servants);
- the best passage or sentence is far from the question (per-language floors, calibrated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import attribution
from .answer_type import expected_kind, states
from .authority import levels_in, speaks_of
from .counted import CountCheck
from .dated import DateCheck
from .datatypes import Hit
from .evidence import Evidence
from .fold import fold
from .index import Index
from .instrument import undiscussed_instrument
from .lexical import tokenize
from .numbers import numbers_in
from .scope import committee_at

_NAME = re.compile(r"\b(?:[A-Z][a-z]*[A-Z][\w]*|[A-Z]{2,}[\w]*|[A-Z][a-zà-ÿ]{2,})\b")
# Names of Belgian and European places and bodies in the other language, which may be what the documents use.
_EXONYMS = {"Flandre": "Vlaanderen", "Belgique": "België", "Bruxelles": "Brussel", "Wallonie": "Wallonië",
            "Europe": "Europa", "Anvers": "Antwerpen", "Gand": "Gent", "Louvain": "Leuven", "Liège": "Luik",
            "Namur": "Namen", "Mons": "Bergen", "Bruges": "Brugge", "Flamands": "Vlamingen",
            # joint committees: Dutch paritair comité (PC) is French commission paritaire (CP), and back
            "PC": "CP", "CP": "PC", "PSC": "SCP", "SCP": "PSC", "CNT": "NAR", "NAR": "CNT"}
_STOP_NAMES = {"Mag", "Wat", "Wie", "Hoe", "Hoeveel", "Welke", "Wanneer", "Waarom", "Kan", "Moet", "Is", "Zijn",
               "Heb", "Krijg", "Gaan", "Wordt", "Quel", "Quelle", "Quels", "Quelles", "Est", "Comment", "Combien",
               "Qui", "Que", "Quand", "Pourquoi", "Puis", "Peut", "Les", "Mon", "Ma", "Mes", "Dans", "Ik", "Mijn"}


# What a "how many X" or "when" question checks each candidate sentence with (qa/counted.py, qa/dated.py).
AnswerCheck = CountCheck | DateCheck
EVIDENCE_WINDOW = 8  # the best-scored evidence sentences an amount or count must be found in
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")


@dataclass(frozen=True)
class Verdict:
    abstain: bool
    reason: str = ""


def unknown_names(question: str, index: Index) -> list[str]:
    """Names in the question (capitalised or mixed-case words past the first) that no passage contains, and
    no document's title or publisher: a council may publish a note that never names itself."""
    names = [m for m in _NAME.findall(question)[0:] if m not in _STOP_NAMES]
    first = question.split()[0] if question.split() else ""
    unknown = []
    for name in names:
        if name == first.strip("¿?,.:;!"):
            continue
        stems = {s for lang in ("nl", "fr") for s in tokenize(name, lang) + tokenize(_EXONYMS.get(name, ""), lang)}
        if stems and not any(index.lexical.knows(s) or s in index.catalog_stems for s in stems):
            unknown.append(name)
    return unknown


def _years_after_documents(question: str, index: Index, hits: list[Hit]) -> list[str]:
    """Years in the question later than every document's date: what happened then cannot be in them.

    A year that is part of a name a retrieved passage uses ("de SERV-platformtekst 2030", "Agenda 2030") is
    no time: the question asks about a known text, not about the future."""
    dated = [int(d.date[:4]) for d in index.documents.values() if d.date and d.date[:4].isdigit()]
    if not dated or len(dated) < len(index.documents):
        return []  # an undated document might be recent
    return sorted({m.group(1) for m in _YEAR.finditer(question)
                   if int(m.group(1)) > max(dated) and not _named_with_year(question, m, hits)})


def _named_with_year(question: str, year: re.Match, hits: list[Hit]) -> bool:
    """The word before the year is no stop word ("van 2024", "en 2024" are times) and a retrieved passage
    holds that word followed by the year."""
    before = re.findall(r"[\w'’-]+", question[:year.start()])
    if not before or not tokenize(before[-1], "nl") or not tokenize(before[-1], "fr"):
        return False
    name = fold(f"{before[-1]} {year.group(1)}")
    return any(name in fold(hit.chunk.text) for hit in hits)


def decide(question: str, language: str, hits: list[Hit], ranked: list[Evidence], index: Index,
           settings, check: AnswerCheck | None = None) -> Verdict:
    """`check`: for a "how many X" question, which candidate sentences count X (qa/counted.py); for a "when"
    question, which state a date and are about what was asked (qa/dated.py)."""
    if not hits:
        return Verdict(True, "nothing retrieved")
    names = unknown_names(question, index)
    if names:
        return Verdict(True, f"the documents never mention {', '.join(names)}")
    later = _years_after_documents(question, index, hits)
    if later:
        return Verdict(True, f"the documents predate {', '.join(later)}")
    undiscussed = undiscussed_instrument(question, hits)
    if undiscussed:
        return Verdict(True, undiscussed)
    if not ranked:  # also when no passage is by or about an organisation the question names (answer.of_body_asked)
        bodies = attribution.asked(question, index.publishers)
        return Verdict(True, f"no retrieved passage is from or about {attribution.label(bodies)}" if bodies
                       else "nothing retrieved")
    # a passage's title counts: every passage of "Rapport nr. 131" is about report 131
    passage_numbers = set().union(*(numbers_in(h.chunk.text, h.chunk.language) | numbers_in(h.chunk.title)
                                    for h in hits))
    missing = {n for n in numbers_in(question, language) if not n.startswith("month:")} - passage_numbers
    if missing:
        return Verdict(True, f"no passage mentions {', '.join(sorted(missing))}")
    verdict = _answer_type_verdict(question, expected_kind(question), ranked, index, check)
    if verdict:
        return verdict
    best_passage = max((h.dense_score or 0.0) for h in hits)
    if best_passage < settings.min_passage_score(language) or ranked[0].score < settings.min_sentence_score(language):
        return Verdict(True, "the closest passages are too far from the question")
    return Verdict(False)


_WHAT = {"amount": "an amount", "count": "a number", "date": "a date"}


def _answer_type_verdict(question: str, kind: str | None, ranked: list[Evidence], index: Index,
                         check: AnswerCheck | None) -> Verdict | None:
    """For a question asking an amount, a count or a date: an abstention when no retrieved sentence states
    one of what was asked, for the joint committee or the level of government asked."""
    if check is not None:
        answering = [e for e in ranked if check.answers(e.text)]
        if not answering:
            return Verdict(True, check.missing)
    elif kind in ("amount", "count"):  # not "date": without a calibrated embedder, no date of what was asked
        answering = [e for e in ranked[:EVIDENCE_WINDOW] if states(kind, e.text)]
        if not answering:
            return Verdict(True, f"none of the closest passages states {_WHAT[kind]}")
        sectors = [committee_at(index, e.hit.chunk, e.span.start) for e in answering] if kind == "amount" else []
        if sectors and all(sectors) and not any(c.named_in(question) for c in sectors):
            codes = ", ".join(sorted({c.code for c in sectors}))
            return Verdict(True, f"the closest amounts are those of other joint committees ({codes})")
    else:
        return None
    levels = levels_in(question)
    if not any(speaks_of(e.hit.chunk, levels) for e in answering):
        return Verdict(True, f"no passage stating {_WHAT[kind]} speaks of the "
                             f"{' or '.join(sorted(levels))} level asked about")
    return None
