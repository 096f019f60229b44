"""`qa eval --report DIR` renders report.md and its PNG plots (retrieval per language and document, recall@k,
answers, latency, before/after against a baseline)."""

from __future__ import annotations

import json
import struct

import pytest

from qa.eval.plots import recall_curve
from tests.eval.test_eval import run_eval, write_questions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def reports(tmp_path_factory, qa_corpus, qa_index):
    """A baseline from the default configuration, then a degraded run (lexical only) reported against it."""
    from tests.conftest import make_settings

    settings = make_settings(corpus_dir=qa_corpus, index_dir=qa_index, data_dir=tmp_path_factory.mktemp("data"))
    root = tmp_path_factory.mktemp("report")
    questions = write_questions(root)
    first = run_eval(settings, "--questions", str(questions), "--generator", "extractive",
                     "--save-baseline", "base", "--report", str(root / "plain"))
    assert first.exit_code == 0, first.output
    second = run_eval(settings, "--questions", str(questions), "--generator", "extractive", "--fusion", "lexical",
                      "--baseline", str(root / "eval" / "baselines" / "base.json"), "--report", str(root / "against"))
    assert second.exit_code == 1, second.output
    return root


def test_report_without_baseline_has_its_plots(reports):
    folder = reports / "plain"
    md = (folder / "report.md").read_text(encoding="utf-8")
    for name in ("retrieval_by_language", "retrieval_by_document", "recall_at_k", "answers_by_language", "latency"):
        png = folder / f"{name}.png"
        width, height = _png_size(png)
        assert width >= 500 and height >= 300, (name, width, height)
        assert f"]({name}.png)" in md
    assert not (folder / "baseline_comparison.png").exists() and "## Baseline comparison" not in md
    assert "| nl | 1.000" in md  # the retrieval table
    assert "`camera-toezicht.txt`" in md  # per document
    assert (folder / "details.jsonl").exists()  # details default into the report folder
    assert len((folder / "details.jsonl").read_text().splitlines()) == 12


def test_report_against_a_baseline_shows_the_regression(reports):
    folder = reports / "against"
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert _png_size(folder / "baseline_comparison.png")[0] >= 800
    assert "](baseline_comparison.png)" in md
    assert "**FAILED**" in md and "not like for like" in md and "different retrieval settings" in md
    row = next(line for line in md.splitlines() if line.startswith("| retrieval recall@5 | fr |"))
    assert "fr-002" in row and "fr-003" in row
    failing = md.split("## Questions that failed a check")[1]
    assert "| fr-002 | fr | retrieval: no evidence passage in the top 5" in failing
    assert "retrieval recall@5" in failing  # the flipped column


def test_recall_curve():
    assert recall_curve([1, 3, None, 10]) == [0.25, 0.25, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.75]
    assert recall_curve([]) == []


def test_report_module_renders_without_a_display(tmp_path, monkeypatch):
    """Agg backend: no DISPLAY needed, nothing opens a window."""
    from qa.eval.plots import plot_retrieval_by_language

    monkeypatch.delenv("DISPLAY", raising=False)
    scores = {s: {"recall@1": 0.5, "recall@3": 0.6, "recall@5": 0.7, "recall@10": 0.9, "mrr": 0.6, "ndcg@10": 0.65,
                  "questions": 3} for s in ("nl", "fr", "all")}
    plot_retrieval_by_language(scores, tmp_path / "x.png")
    assert _png_size(tmp_path / "x.png")[0] > 0
    import matplotlib

    assert matplotlib.get_backend().lower() == "agg"
    json.dumps(scores)
