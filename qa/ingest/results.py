"""What loading a folder gives: the documents, the files skipped with a reason a person can act on, and
`LoadError`, which a reader raises for a file it cannot read."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..datatypes import Document


class LoadError(Exception):
    """A file that cannot be turned into a Document; `reason` says why, for the skip list."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Skipped:
    doc: str
    reason: str


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
