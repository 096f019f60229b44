"""Question memory: member questions confirmed against a passage, searched beside the passages themselves.

Members ask in their own words ("mag mijn baas mij 's avonds mailen"), the documents speak of "deconnectie".
A question that a helpdesk agent or an evaluator confirmed against the passage answering it bridges the two
for every later question worded like it. So confirmed questions are embedded, and a new question close to
one of them brings that question's passages in as one more list of the fusion (qa/retrieve/retriever.py).

The memory is a file in the index folder, beside the builds (`memory.jsonl`, lines in the schema of the
question sets: question, lang, doc, evidence quotes), so it outlives re-indexing: each line is tied to the
passages of the current build that hold one of its evidence quotes when the index is loaded, and a line whose
quotes no passage holds any more is set aside (counted in `unresolved`), never guessed. `qa memory add`
appends lines from a question set or from confirmed feedback (`qa feedback export --confirmed`). It is off
unless QA_MEMORY_WEIGHT is set: remembering the dev split did not raise the test split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..fold import fold

MEMORY_FILE = "memory.jsonl"
# a memory question adds its passages only when it is at least this close to the question asked (cosine,
# EmbeddingGemma): at 0.5-0.7 questions on the same theme but another passage came in and cost the test split
# recall@1 (docs/evaluation.md); at 0.85 it takes rewordings of one question
DEFAULT_FLOOR = 0.85
MAX_REMEMBERED = 5  # memory questions taken per question asked


class MemoryLineError(ValueError):
    """A memory line not in the question-set schema (lines whose evidence no passage holds are reported, not raised)."""


@dataclass(frozen=True)
class Remembered:
    """One confirmed question and the chunk rows of the current build that answer it."""

    question: str
    language: str
    rows: tuple[int, ...]


@dataclass
class QuestionMemory:
    entries: list[Remembered]
    vectors: np.ndarray  # one unit row per entry
    floor: float = DEFAULT_FLOOR
    unresolved: int = 0  # lines whose evidence no passage of this build holds
    hold_out: bool = False  # skip a remembered question identical to the one asked (scoring a set kept in memory)
    _folded: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._folded = [fold(e.question) for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def ranked(self, question: str, vector: np.ndarray) -> list[tuple[int, float]]:
        """Chunk rows of the remembered questions closest to `vector`, best first, with that closeness."""
        if not self.entries:
            return []
        sims = self.vectors @ vector
        asked = fold(question) if self.hold_out else None
        out: dict[int, float] = {}
        taken = 0
        for i in np.argsort(-sims):
            if sims[i] < self.floor or taken >= MAX_REMEMBERED:
                break
            if asked is not None and self._folded[i] == asked:
                continue
            taken += 1
            for row in self.entries[i].rows:
                out.setdefault(row, float(sims[i]))
        return list(out.items())


def parse_line(obj: object) -> dict:
    """A memory line as the question sets write it; raises MemoryLineError saying what is wrong."""
    if not isinstance(obj, dict):
        raise MemoryLineError("a memory line is a JSON object")
    question, lang, doc, evidence = obj.get("question"), obj.get("lang"), obj.get("doc"), obj.get("evidence")
    if obj.get("unanswerable"):
        raise MemoryLineError("an unanswerable question has no passage to remember")
    if not isinstance(question, str) or not question.strip():
        raise MemoryLineError("'question' must be a non-empty string")
    if lang not in ("nl", "fr"):
        raise MemoryLineError("'lang' must be 'nl' or 'fr'")
    if not isinstance(doc, str) or not doc:
        raise MemoryLineError("'doc' must name the document")
    chunk_id = obj.get("chunk_id")
    if not isinstance(evidence, list) or not all(isinstance(q, str) and q.strip() for q in evidence):
        raise MemoryLineError("'evidence' must be a list of quotes from the document")
    if not evidence and not isinstance(chunk_id, str):
        raise MemoryLineError("a line needs evidence quotes or the 'chunk_id' of the passage that answers")
    line = {"question": question.strip(), "lang": lang, "doc": doc, "evidence": evidence}
    return line | ({"chunk_id": chunk_id} if not evidence else {})


def evidence_rows(index, doc: str, evidence: list[str]) -> tuple[int, ...]:
    """Rows of the passages of `doc` that hold one of the quotes (folded: layout and case do not count)."""
    quotes = [fold(q) for q in evidence]
    rows = []
    for row, chunk in enumerate(index.chunks):
        if chunk.doc == doc and any(q in fold(chunk.text) for q in quotes):
            rows.append(row)
    return tuple(rows)


def read_lines(path: Path, skip_unanswerable: bool = False) -> list[dict]:
    """The lines of a memory (or question-set) file; raises MemoryLineError naming the first bad line.
    `skip_unanswerable`: a question set's unanswerable questions are passed over, not refused."""
    lines = []
    with path.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                if skip_unanswerable and isinstance(obj, dict) and obj.get("unanswerable"):
                    continue
                lines.append(parse_line(obj))
            except (json.JSONDecodeError, MemoryLineError) as e:
                raise MemoryLineError(f"{path}:{n}: {e}") from None
    return lines


def load_memory(root: Path, index, embedder, floor: float = DEFAULT_FLOOR) -> QuestionMemory | None:
    """The memory of the index at `root` tied to its current build, or None when there is none."""
    path = Path(root) / MEMORY_FILE
    if not path.is_file():
        return None
    by_doc: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.chunks):  # one pass over the passages, grouped by document
        by_doc.setdefault(chunk.doc, []).append(row)
    folded_text: dict[int, str] = {}
    entries, unresolved = [], 0
    for line in read_lines(path):
        quotes = [fold(q) for q in line["evidence"]]
        rows = []
        for row in by_doc.get(line["doc"], []):
            text = folded_text.setdefault(row, fold(index.chunks[row].text))
            if any(q in text for q in quotes):
                rows.append(row)
        if rows:
            entries.append(Remembered(line["question"], line["lang"], tuple(rows)))
        else:
            unresolved += 1
    vectors = (embedder.embed_queries([e.question for e in entries]) if entries
               else np.zeros((0, 1), dtype=np.float32))
    return QuestionMemory(entries, np.asarray(vectors, dtype=np.float32), floor=floor, unresolved=unresolved)


def add_lines(root: Path, index, lines: list[dict]) -> tuple[int, list[str]]:
    """Append the lines whose evidence the index holds and that are not remembered yet.
    Returns (number added, reasons for the lines set aside); the file is replaced atomically."""
    path = Path(root) / MEMORY_FILE
    kept = read_lines(path) if path.is_file() else []
    seen = {(fold(l["question"]), l["doc"]) for l in kept}
    added, refused = 0, []
    for line in lines:
        key = (fold(line["question"]), line["doc"])
        if key in seen:
            continue
        if not line["evidence"]:  # confirmed feedback names a passage of some build: remember its text
            chunk = index.chunk(line["chunk_id"])
            if chunk is None or chunk.doc != line["doc"]:
                refused.append(f"{line['question'][:60]!r}: passage {line['chunk_id']} is not in this index")
                continue
            line = {k: v for k, v in line.items() if k != "chunk_id"} | {"evidence": [chunk.text]}
        if not evidence_rows(index, line["doc"], line["evidence"]):
            refused.append(f"{line['question'][:60]!r}: no passage of {line['doc']} holds its evidence")
            continue
        seen.add(key)
        kept.append(line)
        added += 1
    if added:
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(l, ensure_ascii=False) + "\n" for l in kept), encoding="utf-8")
        tmp.replace(path)
    return added, refused
