"""Calibrate the abstention thresholds per language on the eval set.

For every question: the best passage score (dense cosine) and the best evidence-sentence score. A threshold
pair abstains when either is below it. Prints, per language, the pairs that abstain on the most
unanswerable questions while abstaining on at most --max-false of the answerable ones.

    python bench/calibrate_abstention.py [--index index] [--max-false 0.05]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from qa.answer import evidence as ev
from qa.config import Settings
from qa.eval.questions import load_questions
from qa.service import QAService


def signals(service: QAService, questions) -> list[dict]:
    rows = []
    for q in questions:
        hits, vector = service.retriever.search_with_vector(q.question, service.settings.top_k, q.lang)
        ranked = ev.score(q.question, q.lang, vector, ev.candidates(service.index, hits))
        rows.append({"id": q.id, "lang": q.lang, "unanswerable": q.unanswerable,
                     "passage": max((h.dense_score or 0.0) for h in hits),
                     "sentence": ranked[0].score if ranked else 0.0})
    return rows


def best_thresholds(rows: list[dict], max_false: float) -> list[tuple]:
    ans = [r for r in rows if not r["unanswerable"]]
    una = [r for r in rows if r["unanswerable"]]
    grid_p = sorted({round(r["passage"] - 0.001, 3) for r in rows} | {0.0})
    grid_s = sorted({round(r["sentence"] - 0.001, 3) for r in rows} | {0.0})
    results = []
    for tp, ts in itertools.product(grid_p, grid_s):
        abstains = lambda r: r["passage"] < tp or r["sentence"] < ts  # noqa: E731
        false = sum(map(abstains, ans)) / len(ans)
        if false <= max_false:
            results.append((sum(map(abstains, una)) / max(len(una), 1), -false, tp, ts))
    return sorted(results, reverse=True)[:5]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--max-false", type=float, default=0.05)
    args = parser.parse_args()
    service = QAService.load(Settings(), args.index)
    rows = signals(service, load_questions(args.questions))
    for lang in ("nl", "fr"):
        mine = [r for r in rows if r["lang"] == lang]
        for name in ("passage", "sentence"):
            a = [r[name] for r in mine if not r["unanswerable"]]
            u = [r[name] for r in mine if r["unanswerable"]]
            print(f"{lang} {name:8} answerable min/p10/median {min(a):.3f}/{np.percentile(a, 10):.3f}/"
                  f"{np.median(a):.3f}   unanswerable max/median {max(u):.3f}/{np.median(u):.3f}")
        for abst, neg_false, tp, ts in best_thresholds(mine, args.max_false):
            print(f"  {lang}: passage >= {tp:.3f}, sentence >= {ts:.3f}: abstains on {abst:.2f} of unanswerable, "
                  f"{-neg_false:.2f} of answerable")
    Path("eval/reports").mkdir(parents=True, exist_ok=True)
    Path("eval/reports/abstention_signals.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
