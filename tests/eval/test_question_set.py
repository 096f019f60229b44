"""Checks on the evaluation question set eval/questions.jsonl (schema, evidence, balance, language)."""

from __future__ import annotations

import importlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from qa.fold import contains
from tests.conftest import SAMPLE_CORPUS as CORPUS

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "eval" / "questions.jsonl"

KEYS = ["id", "lang", "question", "doc", "evidence", "answer", "key_facts", "unanswerable"]
LANGS = {"nl", "fr"}
ID_PATTERN = re.compile(r"^(nl|fr)-(\d{3}|u\d{2})$")

MIN_QUESTIONS = 80
MIN_FRENCH_SHARE = 0.35
MIN_UNANSWERABLE = 8
MIN_PER_DOCUMENT = 6


def _rows() -> list[dict]:
    rows = []
    for number, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            rows.append((number, json.loads(line)))
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [row for _, row in _rows()]


@pytest.fixture(scope="module")
def corpus() -> dict[str, str]:
    if not CORPUS.is_dir():
        pytest.skip(f"sample corpus not found at {CORPUS}")
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.iterdir())
            if p.is_file() and p.name != "catalog.json"}


def test_every_line_is_json_with_exactly_the_schema_keys():
    for number, row in _rows():
        assert isinstance(row, dict), f"line {number}: not an object"
        assert list(row) == KEYS, f"line {number}: keys {list(row)} (want exactly {KEYS}, in that order)"


def test_field_types(rows):
    for row in rows:
        where = row["id"]
        assert isinstance(row["id"], str) and ID_PATTERN.match(row["id"]), where
        assert row["lang"] in LANGS, where
        assert row["id"].startswith(row["lang"] + "-"), f"{where}: id prefix does not match lang"
        assert isinstance(row["question"], str) and row["question"].strip(), where
        assert row["doc"] is None or isinstance(row["doc"], str), where
        assert row["answer"] is None or (isinstance(row["answer"], str) and row["answer"].strip()), where
        assert isinstance(row["unanswerable"], bool), where
        for key in ("evidence", "key_facts"):
            assert isinstance(row[key], list), f"{where}: {key} must be a list"
            assert all(isinstance(x, str) and x.strip() for x in row[key]), f"{where}: {key} items"


def test_ids_unique(rows):
    counts = Counter(row["id"] for row in rows)
    assert not [i for i, n in counts.items() if n > 1]


def test_answerable_questions_are_complete(rows):
    for row in rows:
        if row["unanswerable"]:
            continue
        assert row["doc"], f"{row['id']}: no doc"
        assert 1 <= len(row["evidence"]) <= 3, f"{row['id']}: needs 1-3 evidence quotes"
        assert row["answer"], f"{row['id']}: no reference answer"
        assert 1 <= len(row["key_facts"]) <= 3, f"{row['id']}: needs 1-3 key facts"


def test_unanswerable_questions_have_nothing_to_cite(rows):
    for row in rows:
        if row["unanswerable"]:
            assert row["doc"] is None, row["id"]
            assert row["evidence"] == [], row["id"]
            assert row["key_facts"] == [], row["id"]
            assert row["answer"] is None, row["id"]
            assert "-u" in row["id"], f"{row['id']}: unanswerable ids look like nl-u01"
        else:
            assert "-u" not in row["id"], row["id"]


def test_reference_answers_contain_their_key_facts(rows):
    for row in rows:
        for fact in row["key_facts"]:
            assert contains(row["answer"], fact), f"{row['id']}: key fact {fact!r} not in its reference answer"


def test_docs_exist_in_corpus(rows, corpus):
    for row in rows:
        if not row["unanswerable"]:
            assert row["doc"] in corpus, f"{row['id']}: unknown doc {row['doc']!r}"


def test_every_evidence_quote_occurs_in_its_document(rows, corpus):
    missing = [(row["id"], quote) for row in rows if not row["unanswerable"]
               for quote in row["evidence"] if not contains(corpus.get(row["doc"], ""), quote)]
    assert not missing, f"quotes not found (after folding): {missing}"


def test_proportions(rows):
    total = len(rows)
    french = sum(row["lang"] == "fr" for row in rows)
    unanswerable = [row for row in rows if row["unanswerable"]]
    assert total >= MIN_QUESTIONS
    assert french / total >= MIN_FRENCH_SHARE, f"{french}/{total} French"
    assert len(unanswerable) >= MIN_UNANSWERABLE
    assert {row["lang"] for row in unanswerable} == LANGS, "unanswerable questions in both languages"


def test_every_corpus_document_is_covered(rows, corpus):
    per_doc = Counter(row["doc"] for row in rows if not row["unanswerable"])
    thin = {doc: per_doc[doc] for doc in corpus if per_doc[doc] < MIN_PER_DOCUMENT}
    assert not thin, f"documents with fewer than {MIN_PER_DOCUMENT} questions: {thin}"


# --- language of the question text ---------------------------------------------------------------

_NL = set("""het een en van ik mijn mij is wat hoe wie welke welk voor op te niet zijn er met werd wanneer
hoeveel dat nog mag kan heeft geen bij over ook als door naar aan om wordt gaan moet ons onze waar
krijg komt zit ben volgens""".split())
_FR = set("""le la les un une des et du est je mon ma mes que qui quel quelle quels quelles pour sur dans au
aux pas il elle combien quand comment peut sont ce y moi me nous vous ont avec où ai suis
va leur""".split())
_WORD = re.compile(r"[a-zà-ÿ]+")


def _heuristic_language(text: str) -> str:
    words = _WORD.findall(text.lower().replace("’", "'"))
    nl = sum(w in _NL for w in words)
    fr = sum(w in _FR for w in words)
    return "fr" if fr > nl else "nl"


def _detector():
    """qa.language's detector when that module is there (it needs lingua), else None."""
    try:
        module = importlib.import_module("qa.language")
    except ImportError:
        return None
    return getattr(module, "detect_language", None)


def test_heuristic_is_sane():
    assert _heuristic_language("Mag mijn baas mij 's avonds nog mailen?") == "nl"
    assert _heuristic_language("Est-ce que mon employeur peut me surveiller avec l'IA ?") == "fr"


def test_question_language_matches_lang(rows):
    """Uses qa.language.detect_language when present (the service's own detector), else the heuristic."""
    detect = _detector() or _heuristic_language
    wrong = [(row["id"], row["question"]) for row in rows if detect(row["question"]) != row["lang"]]
    assert not wrong, f"question language differs from lang: {wrong}"


def test_question_language_matches_lang_by_heuristic(rows):
    """Independent of qa.language: the word-list heuristic must agree on every question too."""
    wrong = [(row["id"], row["question"]) for row in rows if _heuristic_language(row["question"]) != row["lang"]]
    assert not wrong, wrong


# the sets the answer checks were calibrated on, and the dev split's colloquial questions (eval/README.md)
SIDE_SETS = [*sorted((ROOT / "eval" / "calibration").glob("*.jsonl")), ROOT / "eval" / "colloquial.jsonl"]


@pytest.mark.parametrize("path", SIDE_SETS, ids=lambda p: p.name)
def test_side_sets_follow_the_schema_with_verbatim_evidence(path):
    """The calibration sets and the colloquial dev questions load as `qa eval --corpus` loads them: schema,
    unique ids, every evidence quote found in the cleaned document."""
    from qa.eval.questions import corpus_texts, load_questions

    if not CORPUS.is_dir():
        pytest.skip(f"sample corpus not found at {CORPUS}")
    questions = load_questions(path, corpus_texts(CORPUS))
    assert {q.lang for q in questions} == LANGS
    assert any(q.unanswerable for q in questions)
    # the off-topic set is unanswerable by design; the sets of a check hold both kinds
    assert any(not q.unanswerable for q in questions) or all(q.style == "offtopic" for q in questions)
