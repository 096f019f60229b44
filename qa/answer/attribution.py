"""Which organisation a question asks about, and whether a passage is its word or speaks of it.

"Que dit la CSC Services publics sur le télétravail ?" was answered with the food industry's position from
the NAR report's annexes, and "Wat zegt De Betrokken Partij over digitalisering?" with two sentences of the
SERV note: true and cited, and read by the member as the CSC's and De Betrokken Partij's positions. So when a
question names an organisation, the answer quotes only passages of documents it published (the catalog's
publisher) or passages that name it; when no retrieved passage is either, the documents do not answer.
This decides whose words are quoted, not whether they are on the question's topic: a passage retrieved for
the name alone passes when it is close enough to the question (docs/evaluation.md).
"""

from __future__ import annotations

from ..datatypes import Chunk
from ..lexicon.organisations import Body


def speaks_for(chunk: Chunk, publisher: str | None, asked_bodies: list[Body]) -> bool:
    """True when the passage's document was published by, or the passage names, one of the bodies asked
    about (or none was asked about)."""
    return not asked_bodies or any(body.named_in(text) for body in asked_bodies
                                   for text in (publisher or "", chunk.text, chunk.title))

