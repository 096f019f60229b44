"""Question memory: a question confirmed against a passage brings that passage to later questions worded
like it, survives re-indexing as quotes, and refuses lines it cannot tie to a passage."""

from __future__ import annotations

import json

import pytest

from qa.retrieve import memory as M
from qa.embed import configured_embedder
from qa.index import load_index
from qa.retrieve import RetrievalSettings, Retriever

from tests.conftest import make_settings

# The member's words ("directeur", "filmen") are not the passage's ("camerabewaking", "werkplek").
ASKED = "Mag de directeur mij filmen?"
REMEMBERED = {"question": "Mag mijn directeur mij filmen?", "lang": "nl", "doc": "camera-toezicht.txt",
              "evidence": ["Camerabewaking op de werkplek is alleen toegelaten voor welbepaalde doelen"]}


def _rank_of(hits, doc: str) -> int | None:
    return next((h.rank for h in hits if h.chunk.doc == doc), None)


@pytest.fixture
def setup(qa_writable):
    _, root = qa_writable
    index = load_index(root)
    embedder = configured_embedder(make_settings())
    return root, index, embedder


def test_a_remembered_question_brings_its_passage_first(setup):
    root, index, embedder = setup
    plain = Retriever(index, embedder, RetrievalSettings())
    before = _rank_of(plain.search(ASKED, 5, "nl"), REMEMBERED["doc"])
    assert before != 1  # the premise: without memory the passage is not first

    added, refused = M.add_lines(root, index, [REMEMBERED])
    assert (added, refused) == (1, [])
    memory = M.load_memory(root, index, embedder, floor=0.5)
    with_memory = Retriever(index, embedder, RetrievalSettings(memory_weight=2.0), memory=memory)
    assert _rank_of(with_memory.search(ASKED, 5, "nl"), REMEMBERED["doc"]) == 1


def test_held_out_the_identical_question_does_not_answer_itself(setup):
    root, index, embedder = setup
    M.add_lines(root, index, [dict(REMEMBERED, question=ASKED)])
    memory = M.load_memory(root, index, embedder, floor=0.5)
    vector = embedder.embed_queries([ASKED])[0]
    assert memory.ranked(ASKED, vector)  # served: the same question asked again finds its passage
    memory.hold_out = True
    assert memory.ranked(ASKED, vector) == []  # scored: a question set kept in memory does not grade itself


def test_lines_whose_evidence_no_passage_holds_are_refused_and_nothing_is_lost(setup):
    root, index, _ = setup
    M.add_lines(root, index, [REMEMBERED])
    stale = dict(REMEMBERED, question="Iets anders", evidence=["deze zin staat nergens in het corpus"])
    added, refused = M.add_lines(root, index, [stale, REMEMBERED])  # the second is already remembered
    assert added == 0 and len(refused) == 1 and "holds its evidence" in refused[0]
    kept = [json.loads(l) for l in (root / M.MEMORY_FILE).read_text(encoding="utf-8").splitlines()]
    assert [k["question"] for k in kept] == [REMEMBERED["question"]]


def test_a_bad_line_is_named_with_its_line_number(tmp_path):
    path = tmp_path / "memory.jsonl"
    path.write_text(json.dumps(REMEMBERED) + "\n" + json.dumps(dict(REMEMBERED, lang="en")) + "\n")
    with pytest.raises(M.MemoryLineError, match=r"memory.jsonl:2: 'lang'"):
        M.read_lines(path)


def test_confirmed_feedback_becomes_memory_tied_to_the_passage_it_cites(setup, tmp_path):
    from qa.feedback import FeedbackStore

    root, index, embedder = setup
    chunk = next(c for c in index.chunks if c.doc == REMEMBERED["doc"])
    answer = {"answer": "…", "language": "nl", "abstained": False,
              "citations": [{"n": 1, "doc": chunk.doc, "chunk_id": chunk.chunk_id}]}
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add(vote="up", answer=answer, consent=True, question=REMEMBERED["question"])
    store.add(vote="up", answer=answer, consent=False, question="niet bewaard")  # no consent: no question
    store.add(vote="down", answer=answer, consent=True, question="Een slecht antwoord")  # not a confirmation
    out = tmp_path / "confirmed.jsonl"
    assert store.export_confirmed(out) == 1

    added, refused = M.add_lines(root, index, M.read_lines(out))
    assert (added, refused) == (1, [])
    memory = M.load_memory(root, index, embedder, floor=0.5)
    vector = embedder.embed_queries([ASKED])[0]
    assert [index.chunks[r].doc for r, _ in memory.ranked(ASKED, vector)] == [chunk.doc]
