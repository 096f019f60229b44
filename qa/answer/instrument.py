"""Does any retrieved passage discuss the kind of legal text the question asks about?

"Wat zegt de AI-verordening over sollicitaties?" asks what a regulation says. When no retrieved passage
mentions a regulation at all, the closest sentences are about AI at work in general: true and cited, but
they tell the member nothing about the regulation, and read as if they did. Such a question is answered
with "the documents do not answer" instead.

Only the kind of text is matched (a regulation, a directive), in either language, not its subject: a passage
that names the GDPR as "verordening" keeps a GDPR question answered. Dutch "richtlijn" also means
"guideline", so a passage on guidelines keeps a directive question answered: this check only ever removes
answers, never adds one. A work regulation (arbeidsreglement, règlement de travail) is no legal instrument
of this kind.
"""

from __future__ import annotations

import re

from ..datatypes import Hit
from ..lexicon import WORD_LANGUAGES, word_pattern, words


def _kind(kind: str) -> re.Pattern:
    """A kind's words in each language ([instrument] of the lexicon), any case, none followed by that
    language's `<kind>_not_before` ("règlement de travail"); and its `<kind>_names` in capitals, after a
    capitalised word: "AI Act"."""
    forms = []
    for language in WORD_LANGUAGES:
        names = words("instrument", kind, (language,))
        if names:
            other = words("instrument", f"{kind}_not_before", (language,))
            unless = rf"(?! {word_pattern(other, bound=False)})" if other else ""
            forms.append(f"{word_pattern(names)}{unless}")
    pattern = f"(?i:{'|'.join(forms)})"
    capitalised = words("instrument", f"{kind}_names")
    if capitalised:
        pattern += rf"|(?:\b[A-Z][\w-]* )?{word_pattern(capitalised)}"
    return re.compile(pattern)


_KINDS = {kind: _kind(kind) for kind in ("regulation", "directive")}


def _kinds_in(text: str) -> dict[str, str]:
    """Kind -> the first word that names it in `text`."""
    return {kind: m.group(0) for kind, pattern in _KINDS.items() if (m := pattern.search(text))}


def undiscussed_instrument(question: str, hits: list[Hit]) -> str | None:
    """Why the hits cannot answer what the question asks of a legal text, or None: "the closest passages
    never mention a regulation (AI-verordening)"."""
    asked = _kinds_in(question)
    if not asked:
        return None  # most questions name no legal text: the passages need no scan
    mentioned = set().union(*(_kinds_in(hit.chunk.text) for hit in hits))
    missing = [f"a {kind} ({word})" for kind, word in asked.items() if kind not in mentioned]
    return f"the closest passages never mention {' or '.join(missing)}" if missing else None
