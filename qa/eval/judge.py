"""An optional faithfulness score from an LLM judge (Ollama): never part of the deterministic scores and never
gated by a baseline."""

from __future__ import annotations

from .answer_scores import AnswerRecord, mean
from .questions import LANGS, Question

JUDGE_PROMPT = (
    "You check whether an answer is faithful to its sources. You get numbered source passages and an answer "
    "(in Dutch or French). Reply YES when every statement of the answer is supported by the passages, and NO "
    "when any statement is missing from them or contradicts them. Reply with the single word YES or NO.")
_JUDGE_PASSAGE_CHARS = 1500


def _verdict(reply: str) -> bool | None:
    import re

    word = re.match(r"\W*(\w+)", reply or "")
    word = word.group(1).lower() if word else ""
    if word in ("yes", "ja", "oui"):
        return True
    if word in ("no", "nee", "non"):
        return False
    return None


def judge_answers(records: list[AnswerRecord], questions: list[Question], index, judge) -> dict:
    """Ask `judge` (a Generator, e.g. the Ollama back end) whether each given answer is supported by the
    passages it cites. Sets `record.faithful`; returns per language {"faithfulness", "judged", "unclear"}.
    Abstentions are not judged. The deterministic scores never read these verdicts."""
    by_id = {q.id: q for q in questions}
    for r in records:
        if r.abstained:
            continue
        passages = []
        for n, cid in enumerate(r.citations, 1):
            chunk = index.chunk(cid)
            if chunk is not None:
                passages.append(f"[{n}] {chunk.text[:_JUDGE_PASSAGE_CHARS]}")
        user = (f"Question: {by_id[r.id].question}\n\nPassages:\n" + ("\n\n".join(passages) or "(none)")
                + f"\n\nAnswer:\n{r.answer}\n\nIs every statement of the answer supported by the passages?")
        reply = judge.complete([{"role": "system", "content": JUDGE_PROMPT}, {"role": "user", "content": user}],
                               max_tokens=4)
        r.faithful = _verdict(reply)
    out = {}
    for lang in (*LANGS, "all"):
        judged = [r for r in records if not r.abstained and (lang == "all" or r.lang == lang)]
        if judged:
            clear = [r.faithful for r in judged if r.faithful is not None]
            out[lang] = {"faithfulness": mean([float(v) for v in clear]), "judged": len(clear),
                         "unclear": len(judged) - len(clear)}
    return out

