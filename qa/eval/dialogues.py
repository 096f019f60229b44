"""Dialogue sets (eval/dialogues.jsonl): each dialogue's turns asked in order, first and later turns scored
apart (evidence retrieval, citation, language, abstention)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..fold import fold
from .answer_scores import AnswerRecord, score_answer, scores_of
from .questions import KEYS, LANGS, Question, QuestionSetError, holds_evidence, json_lines, question_problem

DIALOGUE_KEYS = ("id", "turns")
DIALOGUE_RETRIEVAL = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr")


@dataclass(frozen=True)
class Dialogue:
    """Two or more turns asked one after the other; each turn is a question of the question-set schema."""

    id: str
    turns: list[Question]


def load_dialogues(path: Path, corpus_texts: dict[str, str] | None = None) -> list[Dialogue]:
    """Parse and validate a dialogue set: one `{"id", "turns": [question, …]}` a line, each turn checked as a
    question-set line (its evidence found verbatim in its document with `corpus_texts`)."""
    problems: list[str] = []
    dialogues: list[Dialogue] = []
    seen: set[str] = set()
    folded = {doc: fold(text) for doc, text in corpus_texts.items()} if corpus_texts is not None else None
    for number, obj in json_lines(path, problems):
        why = None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
            why = "a dialogue is an object with a non-empty id"
        elif not isinstance(obj.get("turns"), list) or len(obj["turns"]) < 2:
            why = "turns must be a list of at least two questions"
        elif obj["id"] in seen:
            why = f"duplicate id {obj['id']!r}"
        turns: list[Question] = []
        for i, turn in enumerate(obj["turns"] if why is None else []):
            why = question_problem(turn, seen, folded)
            if why:
                why = f"turn {i + 1}: {why}"
                break
            seen.add(turn["id"])
            turns.append(Question(**{k: turn[k] for k in KEYS}))
        if why:
            problems.append(f"{path}:{number}: {why}")
            continue
        seen.add(obj["id"])
        dialogues.append(Dialogue(obj["id"], turns))
    if problems:
        raise QuestionSetError(f"{len(problems)} invalid line(s) in {path}:\n" + "\n".join(problems))
    if not dialogues:
        raise QuestionSetError(f"{path} holds no dialogues")
    return dialogues


def is_dialogue_set(path: Path) -> bool:
    """Whether the first non-empty line of a JSON Lines file is a dialogue (has `turns`)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                return False
            return isinstance(obj, dict) and "turns" in obj
    return False


@dataclass
class TurnRecord:
    """One turn of a dialogue: the question made whole, where retrieval found its evidence with and without
    the earlier turns, and (with a generator) how its answer scored."""

    dialogue: str
    turn: int  # 1 for the first question
    question: Question
    standalone: str
    method: str  # how it was made whole: none | rule | model
    rank: int | None  # first evidence passage in the top k, searching the standalone question
    rank_alone: int | None  # the same, searching the turn's own words only
    answer: AnswerRecord | None = None

    @property
    def later(self) -> bool:
        return self.turn > 1


def _evidence_rank(hits, question: Question) -> int | None:
    return next((n + 1 for n, h in enumerate(hits) if holds_evidence(h.chunk.doc, h.chunk.text, question)), None)


def run_dialogues(dialogues: list[Dialogue], service, generator: str | None = None, mode: str = "member",
                  k: int = 10, progress=None) -> list[TurnRecord]:
    """Ask each dialogue's turns in order, as the service would: every turn after the first is read with the
    earlier ones (their questions, and the answers given when a generator answers)."""
    from ..conversation import Turn

    records: list[TurnRecord] = []
    total, done = sum(len(d.turns) for d in dialogues), 0
    for d in dialogues:
        history: list[Turn] = []
        for number, q in enumerate(d.turns, start=1):
            language = service.question_language(q.question, None)
            if history and language not in LANGS:
                language = history[-1].language or language
            condensed = service.condense(q.question, history, language, generator)
            hits = service.retriever.search(condensed.standalone, k, language)
            alone = service.retriever.search(q.question, k, language) if history else hits
            record = TurnRecord(d.id, number, q, condensed.standalone, condensed.method,
                                _evidence_rank(hits, q) if not q.unanswerable else None,
                                _evidence_rank(alone, q) if not q.unanswerable else None)
            answer_text = ""
            if generator:
                answer = service.ask(q.question, mode=mode, generator=generator, history=history)
                record.answer = score_answer(q, answer)
                answer_text, language = answer.answer, answer.language
            history.append(Turn(q.question, answer_text, language))
            records.append(record)
            done += 1
            if progress:
                progress(done, total)
    return records


def _retrieval_of(ranks: list[int | None]) -> dict:
    n = len(ranks)
    out = {f"recall@{c}": round(sum(r is not None and r <= c for r in ranks) / n, 4) for c in (1, 3, 5, 10)}
    out["mrr"] = round(sum(1 / r for r in ranks if r) / n, 4)
    out["questions"] = n
    return out


def summarise_dialogues(records: list[TurnRecord]) -> dict:
    """Scores of first turns and of later turns (follow-ups), overall and per language: retrieval of the
    evidence with the earlier turns (and, for later turns, `alone`: without them) and, when answered, the
    answer scores of DESIGN.md (`evidence_citation_rate`, `language_match`, `abstain_unanswerable`, ...)."""
    out: dict = {}
    for group, chosen in (("first", lambda r: not r.later), ("later", lambda r: r.later)):
        for lang in ("all", *LANGS):
            rs = [r for r in records if chosen(r) and (lang == "all" or r.question.lang == lang)]
            if not rs:
                continue
            answerable = [r for r in rs if not r.question.unanswerable]
            scores: dict = {"turns": len(rs), "unanswerable": len(rs) - len(answerable)}
            if answerable:
                scores["retrieval"] = _retrieval_of([r.rank for r in answerable])
                if group == "later":
                    scores["retrieval_alone"] = _retrieval_of([r.rank_alone for r in answerable])
            answered = [r.answer for r in rs if r.answer is not None]
            if answered:
                scores["answers"] = scores_of(answered)
            out[group if lang == "all" else f"{group}/{lang}"] = scores
    return out


def dialogue_detail_lines(records: list[TurnRecord]) -> list[dict]:
    """One object per turn: the standalone question, evidence ranks, and the answer's checks."""
    out = []
    for r in records:
        line = {"dialogue": r.dialogue, "turn": r.turn, "id": r.question.id, "lang": r.question.lang,
                "question": r.question.question, "standalone": r.standalone, "method": r.method,
                "unanswerable": r.question.unanswerable, "rank": r.rank, "rank_alone": r.rank_alone}
        if r.answer is not None:
            a = r.answer
            line["answer"] = {"text": a.answer, "abstained": a.abstained, "abstain_reason": a.abstain_reason,
                              "abstain_check": a.abstain_check, "language": a.answer_language,
                              "cites_evidence": a.cites_evidence,
                              "key_fact_recall": a.key_fact_recall, "failed": a.failed}
        out.append(line)
    return out


def format_dialogue_table(summary: dict) -> str:
    head = (f"{'':10}{'turns':>6}{'recall@5':>10}{'mrr':>8}{'alone@5':>9}{'cites ev.':>11}{'lang':>7}"
            f"{'abst. unans.':>14}{'false abst.':>13}")
    rows = [head]
    for group, s in summary.items():
        ret, alone, ans = s.get("retrieval", {}), s.get("retrieval_alone", {}), s.get("answers", {})

        def cell(d: dict, key: str, width: int) -> str:
            v = d.get(key)
            return f"{'-' if v is None else format(v, '.3f'):>{width}}"
        rows.append(f"{group:10}{s['turns']:>6}" + cell(ret, "recall@5", 10) + cell(ret, "mrr", 8)
                    + cell(alone, "recall@5", 9) + cell(ans, "evidence_citation_rate", 11)
                    + cell(ans, "language_match", 7) + cell(ans, "abstain_unanswerable", 14)
                    + cell(ans, "false_abstain", 13))
    return "\n".join(rows)
