"""Calibrate the closeness floors (`QA_ABSTAIN_*`) per language.

The floors guard against questions about something else entirely ("Hoe lang moet een ei koken?"). They cannot
also catch near misses: a question asking for a figure the documents do not give sits as close to the text
as an answerable one (its best passage scores 0.42-0.72 where answerable ones score 0.28-0.76, on the
EmbeddingGemma index of the sample corpus); the typed, date, count and name checks handle those. And members
asking in their own words, or in French about Dutch text, score as low as 0.28-0.33 with the passage that
answers them, as low as an off-topic question's best match. So the floors are placed as low as the off-topic
questions allow, and only where the other checks do not already refuse:

for each language, among the passage floors that refuse at least --target of the off-topic questions the other
checks let through, the one that refuses the fewest answerable questions of the dev sets, then the lowest. A
question is refused when its best passage is below that floor or its best sentence below the sentence floor
(`QA_ABSTAIN_SENTENCE_*`, held as configured: the sentence score adds word overlap to the cosine, and its floor
also refuses a count of other things offered for "how many", tests/answer/test_counted.py).

    python bench/calibrate_abstention.py [--index index] [--target 0.9]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.answer import checks
from qa.answer.pipeline import choose_evidence
from qa.answer.question import read_question
from qa.config import Settings
from qa.eval.questions import load_questions
from qa.service import QAService

OFF_TOPIC = Path("eval/calibration/offtopic.jsonl")
ANSWERABLE = [Path("eval/questions.jsonl"), Path("eval/calibration/dates.jsonl"), Path("eval/calibration/counts.jsonl")]


def signals(service: QAService, questions) -> list[dict]:
    """Per question: its best passage and sentence scores, and whether a check other than closeness refuses it."""
    rows, retriever = [], service.retriever
    others = [c for c in checks.CHECKS if c.name != "closeness"]
    for q in questions:
        searched = retriever.search_with_vector(q.question, service.settings.top_k, q.lang)
        hits = searched.hits
        ctx, _ = choose_evidence(read_question(q.question, q.lang, retriever.index.publishers), searched,
                                 retriever, service.settings)
        rows.append({"id": q.id, "lang": q.lang, "unanswerable": q.unanswerable,
                     "passage": max((h.dense_score or 0.0) for h in hits) if hits else 0.0,
                     "sentence": ctx.ranked[0].score if ctx.ranked else 0.0,
                     "other_check": (checks.verdict(ctx, others) or (None,))[0]})
    return rows


def floors(off_topic: list[dict], answerable: list[dict], target: float, ts: float) -> dict:
    """The passage floor of one language (see the module docstring), beside sentence floor `ts`, and what
    the pair refuses."""
    loose = [r for r in off_topic if not r["other_check"]]
    best = None
    for tp in sorted({round(r["passage"] + 0.001, 3) for r in loose} | {0.0}):
        refused = lambda r: r["passage"] < tp or r["sentence"] < ts  # noqa: E731
        caught = sum(map(refused, loose))
        if caught < target * len(loose):
            continue
        key = (sum(map(refused, answerable)), tp)
        if best is None or key < best[0]:
            best = (key, tp, caught)
    (false, tp), _, caught = best
    return {"passage": tp, "sentence": ts, "off_topic_refused": caught, "off_topic": len(loose),
            "off_topic_refused_by_other_checks": len(off_topic) - len(loose), "answerable_refused": false,
            "answerable": len(answerable)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--off-topic", type=Path, default=OFF_TOPIC)
    parser.add_argument("--answerable", type=Path, nargs="+", default=ANSWERABLE,
                        help="question sets whose answerable questions the floors must not refuse (dev sets only)")
    parser.add_argument("--target", type=float, default=0.9, help="share of loose off-topic questions to refuse")
    args = parser.parse_args()
    service = QAService.load(Settings(), args.index)
    off = signals(service, load_questions(args.off_topic))
    answerable = [r for path in args.answerable for r in signals(service, load_questions(path))
                  if not r["unanswerable"]]
    result = {lang: floors([r for r in off if r["lang"] == lang], [r for r in answerable if r["lang"] == lang],
                           args.target, service.settings.min_sentence_score(lang)) for lang in ("nl", "fr")}
    print(json.dumps(result, indent=1))
    for lang, f in result.items():
        print(f"QA_ABSTAIN_PASSAGE_{lang.upper()}={f['passage']:.3f} QA_ABSTAIN_SENTENCE_{lang.upper()}={f['sentence']:.3f}")


if __name__ == "__main__":
    main()
