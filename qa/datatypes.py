"""The typed records that pass between the pipeline's steps.

load -> Document -> split -> Chunk -> retrieve -> Hit -> generate/verify -> Answer(Citation)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class PageSpan:
    """Where one source page lies in a Document's cleaned text (character offsets)."""

    number: int
    start: int
    end: int


@dataclass
class Document:
    """One source file, read and cleaned. `doc` is its file name relative to the corpus folder."""

    doc: str
    title: str
    text: str
    sha256: str
    publisher: str | None = None
    date: str | None = None
    pages: list[PageSpan] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        for span in self.pages:
            if span.start <= offset < span.end:
                return span.number
        return None


@dataclass
class Chunk:
    """A passage of a Document. start/end are offsets into the Document's cleaned text."""

    chunk_id: str
    doc: str
    title: str
    text: str
    start: int
    end: int
    language: str
    page: int | None = None
    section: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the scores of each retriever (None: not found by it)."""

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    lexical_score: float | None = None

    def to_json(self) -> dict:
        """The `qa search --json` contract of DESIGN.md."""
        out = {
            "rank": self.rank,
            "score": round(self.score, 6),
            "doc": self.chunk.doc,
            "title": self.chunk.title,
            "chunk_id": self.chunk.chunk_id,
            "text": self.chunk.text,
            "language": self.chunk.language,
        }
        if self.chunk.page is not None:
            out["page"] = self.chunk.page
        if self.chunk.section:
            out["section"] = self.chunk.section
        return out


@dataclass
class Citation:
    """A numbered source of an answer, with the exact supporting quote inside the chunk text."""

    n: int
    chunk: Chunk
    quote: str
    quote_start: int  # offset of `quote` in chunk.text, for highlighting
    quote_end: int
    # which words of the question matched which words of the passage ("baas → werkgever"), so a helpdesk
    # agent sees at once when a quote is off the topic
    why: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {
            "n": self.n,
            "doc": self.chunk.doc,
            "title": self.chunk.title,
            "chunk_id": self.chunk.chunk_id,
            "text": self.chunk.text,
            "quote": self.quote,
            "quote_start": self.quote_start,
            "quote_end": self.quote_end,
            "language": self.chunk.language,
        }
        if self.chunk.page is not None:
            out["page"] = self.chunk.page
        if self.why:
            out["why"] = " · ".join(self.why)
        return out


@dataclass
class Sentence:
    """One sentence of an answer and what the verifier concluded about it."""

    text: str
    citations: list[int]
    verified: bool
    reason: str = ""  # why it failed verification, empty when verified


@dataclass
class Answer:
    answer: str
    language: str
    abstained: bool
    citations: list[Citation]
    timings_ms: dict[str, float] = field(default_factory=dict)
    sentences: list[Sentence] = field(default_factory=list)
    see_also: list[Hit] = field(default_factory=list)
    generator: str = ""
    mode: str = "member"
    abstain_reason: str | None = None  # why the documents do not answer (for helpdesk and evaluators)
    abstain_check: str | None = None  # the name of the check that found it (qa/answer/checks/)

    def to_json(self) -> dict:
        """The `qa ask --json` contract of DESIGN.md, plus quotes, sentences, see-also and the abstention's reason."""
        return {
            "answer": self.answer,
            "language": self.language,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "sentences": [asdict(s) for s in self.sentences],
            "see_also": [h.to_json() for h in self.see_also],
            "generator": self.generator,
            "mode": self.mode,
            "abstain_reason": self.abstain_reason,
            "abstain_check": self.abstain_check,
        }
