"""Splitting documents into citable chunks, on small documents and on the real sample corpus."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest

from qa.datatypes import Document, PageSpan
from qa.ingest import load_folder
from qa.ingest.split import MIN_WORD_CHARS, chunk_id, find_headings, split_document
from tests.conftest import SAMPLE_CORPUS as CORPUS


PARAGRAPH_NL = (
    "Vanaf 1 april 2023 moeten de ondernemingen die twintig of meer werknemers tewerkstellen een "
    "collectieve arbeidsovereenkomst aannemen over het recht op deconnectie. Daarin staan de praktische "
    "modaliteiten voor het recht om niet bereikbaar te zijn buiten de uurroosters."
)
PARAGRAPH_FR = (
    "Le chapitre 8 de la loi du 3 octobre 2022 prévoit que les modalités d'application du droit à la "
    "déconnexion doivent être fixées dans une convention collective d'entreprise ou, à défaut, dans le "
    "règlement de travail."
)


def make_doc(text: str, pages: list[PageSpan] | None = None) -> Document:
    return Document(doc="map/nota.txt", title="Nota", text=text, sha256="0" * 64, pages=pages or [])


def assert_invariants(doc: Document, chunks: list, chunk_size: int) -> None:
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.text == c.text.strip()
        # a short fragment glued to a full chunk may push it a little over chunk_size
        assert len(c.text) <= chunk_size + 120
        assert sum(ch.isalnum() for ch in c.text) >= MIN_WORD_CHARS
        assert c.doc == doc.doc and c.title == doc.title
        assert c.chunk_id.startswith(doc.doc + "#")


def test_chunks_are_exact_slices_with_overlap() -> None:
    text = "\n\n".join([PARAGRAPH_NL] * 6)
    doc = make_doc(text)
    chunks = split_document(doc, chunk_size=300, chunk_overlap=60)
    assert len(chunks) >= 6
    assert_invariants(doc, chunks, 300)
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)


def test_sections_follow_the_most_recent_heading() -> None:
    text = (
        "I. INLEIDING\n\n" + PARAGRAPH_NL + "\n\n"
        "3.1 Toekomstgerichte competenties\n\n" + PARAGRAPH_NL + "\n\n" + PARAGRAPH_NL + "\n\n"
        "Kansen en uitdagingen\n\n" + PARAGRAPH_NL
    )
    doc = make_doc(text)
    chunks = split_document(doc, chunk_size=300, chunk_overlap=30)
    sections = [c.section for c in chunks]
    assert sections[0] == "I. INLEIDING"
    assert "3.1 Toekomstgerichte competenties" in sections
    assert sections[-1] == "Kansen en uitdagingen"
    by_text = {c.text: c.section for c in chunks}
    assert by_text.get("3.1 Toekomstgerichte competenties\n\n" + PARAGRAPH_NL) in (None, "3.1 Toekomstgerichte competenties")


def test_short_label_lines_are_not_sections() -> None:
    text = "Waarom?\n\nWaartoe?\n\nHoe?\n\nDigitale geletterdheid\n\nLevenslang leren\n\n" + PARAGRAPH_NL
    headings = [h for _, h in find_headings(text)]
    assert "Digitale geletterdheid" not in headings
    assert headings == ["Levenslang leren"]


def test_pages_and_languages_per_chunk() -> None:
    text = PARAGRAPH_NL + "\n\n" + PARAGRAPH_FR
    second = len(PARAGRAPH_NL) + 2
    doc = make_doc(text, pages=[PageSpan(1, 0, len(PARAGRAPH_NL)), PageSpan(2, second, len(text))])
    chunks = split_document(doc, chunk_size=300, chunk_overlap=0)
    assert [(c.page, c.language) for c in chunks] == [(1, "nl"), (2, "fr")]


def test_debris_chunks_are_dropped() -> None:
    text = PARAGRAPH_NL + "\n\n6\n\n" + "x " * 10 + "\n\n" + PARAGRAPH_NL
    # the paragraphs fill whole chunks, so the debris between them would be a chunk of its own
    chunks = split_document(make_doc(text), chunk_size=len(PARAGRAPH_NL) + 1, chunk_overlap=0)
    assert [c.text for c in chunks] == [PARAGRAPH_NL, PARAGRAPH_NL]


def test_short_paragraph_between_full_chunks_is_kept_with_what_follows() -> None:
    intro = "Dat leidde tot 11 wegwijzers. Kort samengevat:"
    items = "\n".join(f"- Wegwijzer {n} over digitale geletterdheid en werkbaar werk." for n in range(1, 6))
    text = PARAGRAPH_NL + "\n\n" + intro + "\n\n" + items
    doc = make_doc(text)
    chunks = split_document(doc, chunk_size=len(PARAGRAPH_NL) + 1, chunk_overlap=0)
    assert any(c.text.startswith(intro + "\n\n- Wegwijzer 1") for c in chunks)
    assert_invariants(doc, chunks, len(PARAGRAPH_NL) + 1)


def test_a_tiny_document_is_one_chunk() -> None:
    chunks = split_document(make_doc("Korte nota over telewerk."))
    assert [c.text for c in chunks] == ["Korte nota over telewerk."]


def test_repeated_text_gets_numbered_ids() -> None:
    text = PARAGRAPH_NL + "\n\n" + PARAGRAPH_FR + "\n\n" + PARAGRAPH_NL
    chunks = split_document(make_doc(text), chunk_size=300, chunk_overlap=0)
    base = chunk_id("map/nota.txt", PARAGRAPH_NL)
    assert [c.chunk_id for c in chunks] == [base, chunk_id("map/nota.txt", PARAGRAPH_FR), base + "-2"]
    assert chunks[2].start > chunks[0].start


def test_chunk_id_is_doc_and_sha1_prefix() -> None:
    assert chunk_id("a.txt", "tekst") == "a.txt#" + hashlib.sha1(b"tekst").hexdigest()[:10]


def test_overlap_must_be_smaller_than_size() -> None:
    with pytest.raises(ValueError):
        split_document(make_doc(PARAGRAPH_NL), chunk_size=100, chunk_overlap=100)


# --- The real sample corpus ----------------------------------------------------------------

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"sample corpus not found at {CORPUS}")


@pytest.fixture(scope="module")
def corpus_documents() -> list[Document]:
    result = load_folder(CORPUS)
    assert result.skipped == []
    assert len(result.documents) == 5
    return result.documents


@needs_corpus
@pytest.mark.parametrize(("size", "overlap"), [(500, 60), (800, 100), (1200, 150)])
def test_corpus_chunk_invariants(corpus_documents: list[Document], size: int, overlap: int) -> None:
    for doc in corpus_documents:
        chunks = split_document(doc, chunk_size=size, chunk_overlap=overlap)
        assert chunks, doc.doc
        assert_invariants(doc, chunks, size)
        # a chunk that is only a number, a date or punctuation is page debris
        assert not [c.text for c in chunks if re.fullmatch(r"[\W\d_]+", c.text)]


@needs_corpus
def test_corpus_no_words_fall_between_chunks(corpus_documents: list[Document]) -> None:
    for doc in corpus_documents:
        lost: list[str] = []
        covered_to = 0
        for c in split_document(doc):
            lost.append(doc.text[covered_to:c.start] if c.start > covered_to else "")
            covered_to = max(covered_to, c.end)
        lost.append(doc.text[covered_to:])
        assert not re.search(r"[^\W\d_]{3,}", "".join(lost)), (doc.doc, [t for t in lost if t.strip()][:5])


@needs_corpus
def test_corpus_chunk_ids_are_stable_across_runs(corpus_documents: list[Document]) -> None:
    first = [c.chunk_id for d in corpus_documents for c in split_document(d)]
    again = [c.chunk_id for d in load_folder(CORPUS).documents for c in split_document(d)]
    assert first == again
    assert len(set(first)) == len(first)


@needs_corpus
def test_corpus_languages(corpus_documents: list[Document]) -> None:
    by_doc = {d.doc: Counter(c.language for c in split_document(d)) for d in corpus_documents}
    nar = by_doc["nar-rapport-131-kaderakkoord-digitalisering-2023.txt"]
    assert nar["fr"] >= 50 and nar["nl"] >= 50
    annex = [c for d in corpus_documents if d.doc.startswith("nar-") for c in split_document(d) if "Annexe" in c.text]
    assert annex and all(c.language == "fr" for c in annex)
    for name, counts in by_doc.items():
        if not name.startswith("nar-"):
            assert set(counts) == {"nl"}, (name, counts)


@needs_corpus
def test_corpus_text_is_clean(corpus_documents: list[Document]) -> None:
    docs = {d.doc: d for d in corpus_documents}
    serv = docs["serv-visienota-digitalisering-2017.txt"].text
    assert "versterkte samenwerking en aangepaste (horizontale) maatregelen" in serv
    assert "loopbaanlange focus op om- en bijscholing" in serv
    acv = docs["acv-od-congres-2021-digitalisering.txt"].text
    assert "mogelijkheden, veranderingen en uitdagingen van digitalisering zichtbaar maakten" in acv
    nar = docs["nar-rapport-131-kaderakkoord-digitalisering-2023.txt"].text
    assert "Votre personne de contact" not in nar
    assert "evenwicht privé- en beroepsleven" in nar
    assert "II. TENUITVOERLEGGING VAN HET EUROPESE KADERAKKOORD OVER DIGITALISERING" in nar
    md = docs["dbp-workinar-bevlogen-ambtenaren-2020.md"]
    assert "**" not in md.text and "grassy hill" not in md.text
    assert md.title.startswith("Bevlogen ambtenaren")  # from catalog.json
