"""Question sets and the regression benchmark's scores.

- `load_questions`: parse and validate a question set (schema, languages, evidence quotes found verbatim in
  their cleaned documents); every bad line is reported with its number.
- `run_retrieval` / `evaluate_retrieval`: recall@1/3/5/10, MRR, nDCG@10 (ranx) per language and per document,
  and per question what was retrieved.
- `evaluate_answers` / `score_answer` / `summarise_answers`: the answer scores of DESIGN.md, per language,
  and per question which check failed.
- `judge_answers`: an optional faithfulness score from an LLM judge (Ollama); never part of the deterministic
  scores and never gated by a baseline.
- `detail_lines`: one JSON object per question (retrieved, cited, answered, failed checks) for `--details`.

Baselines live in `qa.baseline`, reports in `qa.report`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .datatypes import Chunk
from .fold import fold

KEYS = ("id", "lang", "question", "doc", "evidence", "answer", "key_facts", "unanswerable")
LANGS = ("nl", "fr")
RETRIEVAL_METRICS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10")


class QuestionSetError(Exception):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    doc: str | None
    evidence: list[str]
    answer: str | None
    key_facts: list[str]
    unanswerable: bool
    style: str | None = None  # optional: "colloquial" (avoids the words of the text that answers) or "plain"
    kind: str | None = None  # optional: the kind of answer asked (amount, count, date, duration, yesno, ...)

    @property
    def groups(self) -> list[str]:
        """The report groups the question counts in besides its language ("colloquial", "colloquial/fr",
        "kind:count"), from its optional fields."""
        out = [self.style, f"{self.style}/{self.lang}"] if self.style else []
        return out + ([f"kind:{self.kind}"] if self.kind else [])


def _check_line(obj) -> str | None:
    """Why a parsed line breaks the schema, or None."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    missing = [k for k in KEYS if k not in obj]
    if missing:
        return f"missing keys {missing}"
    if not isinstance(obj["id"], str) or not obj["id"]:
        return "id must be a non-empty string"
    if obj["lang"] not in LANGS:
        return f"lang must be one of {LANGS}"
    if not isinstance(obj["question"], str) or not obj["question"].strip():
        return "question must be a non-empty string"
    if not isinstance(obj["unanswerable"], bool):
        return "unanswerable must be true or false"
    for key in ("evidence", "key_facts"):
        if not isinstance(obj[key], list) or not all(isinstance(x, str) and x.strip() for x in obj[key]):
            return f"{key} must be a list of non-empty strings"
    if obj["unanswerable"] and (obj["doc"] is not None or obj["evidence"]):
        return "an unanswerable question has doc null and no evidence"
    if not obj["unanswerable"] and (not isinstance(obj["doc"], str) or not obj["evidence"]):
        return "an answerable question needs doc and at least one evidence quote"
    return None


def load_questions(path: Path, corpus_texts: dict[str, str] | None = None) -> list[Question]:
    """Parse and validate a question set; every bad line is reported with its number, none is skipped.

    With `corpus_texts` (doc -> text), each evidence quote must occur in its document (folded)."""
    problems: list[str] = []
    questions: list[Question] = []
    seen: set[str] = set()
    folded = {doc: fold(text) for doc, text in (corpus_texts or {}).items()}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON ({exc.msg})")
            continue
        why = _check_line(obj)
        if why is None and obj["id"] in seen:
            why = f"duplicate id {obj['id']!r}"
        if why is None and corpus_texts is not None and not obj["unanswerable"]:
            why = _check_evidence(obj, folded)
        if why:
            problems.append(f"{path}:{number}: {why}")
            continue
        seen.add(obj["id"])
        questions.append(Question(**{k: obj[k] for k in KEYS}, style=obj.get("style"), kind=obj.get("kind")))
    if problems:
        raise QuestionSetError(f"{len(problems)} invalid line(s) in {path}:\n" + "\n".join(problems))
    if not questions:
        raise QuestionSetError(f"{path} holds no questions")
    return questions


def _check_evidence(obj: dict, folded: dict[str, str]) -> str | None:
    if obj["doc"] not in folded:
        return f"doc {obj['doc']!r} is not in the corpus"
    for quote in obj["evidence"]:
        if fold(quote) not in folded[obj["doc"]]:
            return f"evidence not found verbatim in {obj['doc']}: {quote[:60]!r}"
    return None


def is_evidence(chunk: Chunk, question: Question) -> bool:
    """The DESIGN rule, tolerant of chunk boundaries: the passage comes from the question's document and
    holds one of its evidence quotes, or the first or the second half of one (a quote cut by a chunk
    boundary is found in two overlapping passages, each holding a half)."""
    return holds_evidence(chunk.doc, chunk.text, question)


def relevant_chunks(chunks: list[Chunk], question: Question) -> set[str]:
    return {c.chunk_id for c in chunks if is_evidence(c, question)}


RANX_METRICS = ("hit_rate@1", "hit_rate@3", "hit_rate@5", "hit_rate@10", "mrr", "ndcg@10")
DETAIL_TOP = 5  # retrieved passages listed per question in the details file
RETRIEVAL_PASS_K = 5  # a question "passes" retrieval when an evidence passage is in the top 5


@dataclass
class RetrievalRecord:
    """What retrieval did for one answerable question."""

    id: str
    lang: str
    doc: str
    rank: int | None  # rank of the first passage holding evidence in the top k; None: not found
    reachable: bool  # some passage of the index holds an evidence quote (or half of one)
    top: list[dict]  # the first DETAIL_TOP hits: {"rank", "chunk_id", "doc", "evidence"}

    @property
    def passed(self) -> bool:
        return self.rank is not None and self.rank <= RETRIEVAL_PASS_K

    def failed(self) -> list[str]:
        if self.passed:
            return []
        if not self.reachable:
            return ["no passage of the index holds the evidence (quotes split across chunks)"]
        where = f"found at rank {self.rank}" if self.rank else "not in the top 10"
        return [f"no evidence passage in the top {RETRIEVAL_PASS_K} ({where})"]


def _holds_folded(doc: str, folded_text: str, question: Question) -> bool:
    if question.unanswerable or doc != question.doc:
        return False
    for quote in question.evidence:
        words = fold(quote).split()
        half = max(4, len(words) // 2)
        if " ".join(words) in folded_text or " ".join(words[:half]) in folded_text \
                or " ".join(words[-half:]) in folded_text:
            return True
    return False


def run_retrieval(questions: list[Question], retriever, k: int = 10,
                  progress=None) -> tuple[dict, list[RetrievalRecord]]:
    """Scores (per language, per document) and one record per answerable question.

    `retriever`: anything with `.index` and `.search(question, k, language)`: a `Retriever`, or the
    `QAService` (then the service's own search path is what gets measured)."""
    by_doc: dict[str, list[tuple[str, str]]] = {}
    for c in retriever.index.chunks:  # fold each passage once, not once per question
        by_doc.setdefault(c.doc, []).append((c.chunk_id, fold(c.text)))
    answerable = [q for q in questions if not q.unanswerable]
    runs, qrels, records = {}, {}, []
    for i, q in enumerate(answerable):
        relevant = {cid for cid, text in by_doc.get(q.doc, []) if _holds_folded(q.doc, text, q)}
        hits = retriever.search(q.question, k, q.lang)
        runs[q.id] = {h.chunk.chunk_id: float(k - n) for n, h in enumerate(hits)} or {"-": 0.0}
        qrels[q.id] = {cid: 1 for cid in relevant} or {"<unreachable>": 1}  # unreachable: counted as a miss
        rank = next((n + 1 for n, h in enumerate(hits) if h.chunk.chunk_id in relevant), None)
        top = [{"rank": n + 1, "chunk_id": h.chunk.chunk_id, "doc": h.chunk.doc,
                "evidence": h.chunk.chunk_id in relevant} for n, h in enumerate(hits[:DETAIL_TOP])]
        records.append(RetrievalRecord(q.id, q.lang, q.doc, rank, bool(relevant), top))
        if progress:
            progress(i + 1, len(answerable))
    return retrieval_scores(answerable, runs, qrels, records), records


def evaluate_retrieval(questions: list[Question], retriever, k: int = 10) -> dict:
    """recall@k (share of questions with an evidence passage in the top k), MRR, nDCG@10, per language
    (`nl`, `fr`, `all`) and per document (`by_doc`); `unreachable` lists questions no passage can answer."""
    return run_retrieval(questions, retriever, k)[0]


def _ranx_scores(ids: list[str], runs: dict, qrels: dict) -> dict:
    from ranx import Qrels, Run, evaluate

    scores = evaluate(Qrels({i: qrels[i] for i in ids}), Run({i: runs[i] for i in ids}), list(RANX_METRICS),
                      make_comparable=False)  # same ids on both sides: skip its slow JIT
    out = {name: round(float(scores[m]), 4) for name, m in zip(RETRIEVAL_METRICS, RANX_METRICS)}
    out["questions"] = len(ids)
    return out


def retrieval_scores(questions: list[Question], runs: dict, qrels: dict, records: list[RetrievalRecord]) -> dict:
    out: dict = {}
    for lang in (*LANGS, "all"):
        ids = [q.id for q in questions if q.id in runs and (lang == "all" or q.lang == lang)]
        if ids:
            out[lang] = _ranx_scores(ids, runs, qrels)
    out["by_doc"] = {}
    for doc in sorted({q.doc for q in questions if q.id in runs}):
        ids = [q.id for q in questions if q.id in runs and q.doc == doc]
        out["by_doc"][doc] = _ranx_scores(ids, runs, qrels)
    groups = sorted({g for q in questions for g in q.groups})
    if groups:
        out["by_group"] = {g: _ranx_scores([q.id for q in questions if q.id in runs and g in q.groups], runs, qrels)
                           for g in groups}
    out["unreachable"] = [r.id for r in records if not r.reachable]
    return out


def format_table(retrieval: dict) -> str:
    rows = [f"{'':5}" + "".join(f"{m:>11}" for m in RETRIEVAL_METRICS) + f"{'n':>6}"]
    for lang in (*LANGS, "all"):
        if lang in retrieval:
            r = retrieval[lang]
            rows.append(f"{lang:5}" + "".join(f"{r[m]:>11.3f}" for m in RETRIEVAL_METRICS) + f"{r['questions']:>6}")
    if retrieval.get("by_doc"):
        rows.append("")
        rows.append(f"{'per document':52}" + "".join(f"{m:>10}" for m in ("recall@1", "recall@5", "mrr"))
                    + f"{'n':>5}")
        for doc, r in retrieval["by_doc"].items():
            name = doc if len(doc) <= 50 else doc[:49] + "…"
            rows.append(f"{name:52}" + "".join(f"{r[m]:>10.3f}" for m in ("recall@1", "recall@5", "mrr"))
                        + f"{r['questions']:>5}")
    if retrieval.get("unreachable"):
        rows.append(f"evidence split across chunks (counted as misses): {', '.join(retrieval['unreachable'])}")
    return "\n".join(rows)


# ---------------------------------------------------------------- answers

ANSWER_METRICS = ("evidence_citation_rate", "citation_precision", "key_fact_recall", "abstain_unanswerable",
                  "false_abstain", "language_match", "p50_ms", "p95_ms")


def holds_evidence(chunk_doc: str, chunk_text: str, question: Question) -> bool:
    """A cited passage holds evidence when it is from the question's document and has an evidence quote, or
    the first or second half of one (a quote may straddle two overlapping chunks)."""
    if question.unanswerable or chunk_doc != question.doc:
        return False
    return _holds_folded(chunk_doc, fold(chunk_text), question)


def fact_present(fact: str, answer: str) -> bool:
    """Folded substring match; a fact that starts or ends with a digit must not be part of a longer number."""
    import re

    pattern = re.escape(fold(fact))
    if fact[:1].isdigit():
        pattern = r"(?<![\d.,])" + pattern
    if fact[-1:].isdigit():
        pattern += r"(?![\d]|[.,]\d)"
    return re.search(pattern, fold(answer)) is not None


@dataclass
class AnswerRecord:
    id: str
    lang: str
    unanswerable: bool
    abstained: bool
    answer_language: str
    cites_evidence: bool
    citation_precision: float | None
    key_fact_recall: float | None
    ms: float
    answer: str
    citations: list[str]
    failed: list[str]
    citation_evidence: list[bool] = field(default_factory=list)  # per citation: its passage holds evidence
    citation_docs: list[str] = field(default_factory=list)
    key_facts_missing: list[str] = field(default_factory=list)
    faithful: bool | None = None  # the LLM judge's verdict (--judge), never part of the deterministic scores
    abstain_reason: str | None = None  # why the service abstained
    abstain_check: str | None = None  # which check made it abstain (qa/answer/checks/)

    @property
    def passed(self) -> bool:
        return not self.failed


def score_answer(q: Question, answer) -> AnswerRecord:
    from .language import detect_language

    import re

    cites = [holds_evidence(c.chunk.doc, c.chunk.text, q) for c in answer.citations]
    plain = re.sub(r"\[\d+\]", "", answer.answer)
    lang = detect_language(plain)
    answered = not answer.abstained and not q.unanswerable
    facts = [fact_present(f, answer.answer) for f in q.key_facts] if answered and q.key_facts else []
    rec = AnswerRecord(
        id=q.id, lang=q.lang, unanswerable=q.unanswerable, abstained=answer.abstained, answer_language=lang,
        cites_evidence=any(cites), citation_precision=(sum(cites) / len(cites)) if answered and cites else None,
        key_fact_recall=(sum(facts) / len(facts)) if facts else None,
        ms=answer.timings_ms.get("total_ms", 0.0), answer=answer.answer,
        citations=[c.chunk.chunk_id for c in answer.citations], failed=[], citation_evidence=cites,
        citation_docs=[c.chunk.doc for c in answer.citations],
        key_facts_missing=[f for f, ok in zip(q.key_facts, facts) if not ok],
        abstain_reason=getattr(answer, "abstain_reason", None), abstain_check=getattr(answer, "abstain_check", None))
    rec.failed = _failures(q, rec, facts)
    return rec


def _failures(q: Question, r: AnswerRecord, facts: list[bool]) -> list[str]:
    failed = []
    if q.unanswerable and not r.abstained:
        failed.append("answered an unanswerable question")
    if not q.unanswerable and r.abstained:
        failed.append("abstained on an answerable question"
                      + (f" ({r.abstain_check}: {r.abstain_reason})" if r.abstain_reason else ""))
    if not q.unanswerable and not r.abstained and not r.cites_evidence:
        failed.append("cites no passage holding the evidence")
    if r.answer_language != q.lang:
        failed.append(f"answer language {r.answer_language}")
    if facts and not all(facts):
        failed.append("missing key facts: " + ", ".join(f for f, ok in zip(q.key_facts, facts) if not ok))
    return failed


def summarise_answers(records: list[AnswerRecord], questions: list[Question] = ()) -> dict:
    """Scores per language and, when `questions` carry styles or kinds, per group (`by_group`)."""
    out = {}
    for lang in (*LANGS, "all"):
        rs = [r for r in records if lang == "all" or r.lang == lang]
        if rs:
            out[lang] = _answer_scores(rs)
    out["checks"] = check_report(records)
    in_group = {q.id: q.groups for q in questions}
    groups = sorted({g for gs in in_group.values() for g in gs})
    if groups:
        out["by_group"] = {g: _answer_scores([r for r in records if g in in_group.get(r.id, ())]) for g in groups}
    return out


def check_report(records: list[AnswerRecord]) -> dict:
    """Per check: how often it refused, rightly (an unanswerable question) or wrongly (the answerable questions
    it refused, by id)."""
    out: dict = {}
    for r in records:
        if r.abstained:
            entry = out.setdefault(r.abstain_check or "unnamed", {"fired": 0, "rightly": 0, "wrongly": []})
            entry["fired"] += 1
            if r.unanswerable:
                entry["rightly"] += 1
            else:
                entry["wrongly"].append(r.id)
    return out


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _answer_scores(rs: list[AnswerRecord]) -> dict:
    import numpy as np

    answerable = [r for r in rs if not r.unanswerable]
    answered = [r for r in answerable if not r.abstained]
    unanswerable = [r for r in rs if r.unanswerable]
    ms = [r.ms for r in rs]
    return {
        "evidence_citation_rate": _mean([float(r.cites_evidence) for r in answered]),
        # over all answerable questions, an abstention counting as a miss (what a member gets)
        "evidence_citation_all": _mean([float(r.cites_evidence and not r.abstained) for r in answerable]),
        "key_fact_recall_all": _mean([(r.key_fact_recall or 0.0) if not r.abstained else 0.0
                                      for r in answerable if r.key_fact_recall is not None or r.abstained]),
        "citation_precision": _mean([r.citation_precision for r in answered if r.citation_precision is not None]),
        "key_fact_recall": _mean([r.key_fact_recall for r in answered if r.key_fact_recall is not None]),
        "abstain_unanswerable": _mean([float(r.abstained) for r in unanswerable]),
        "false_abstain": _mean([float(r.abstained) for r in answerable]),
        "language_match": _mean([float(r.answer_language == r.lang) for r in rs]),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "questions": len(rs),
    }


def evaluate_answers(questions: list[Question], service, generator: str, mode: str = "member",
                     progress=None) -> tuple[dict, list[AnswerRecord]]:
    records = []
    for i, q in enumerate(questions):
        answer = service.ask(q.question, mode=mode, language=None, generator=generator)
        records.append(score_answer(q, answer))
        if progress:
            progress(i + 1, len(questions))
    return summarise_answers(records, questions), records


def format_answer_table(answers: dict) -> str:
    rows = [f"{'':5}" + "".join(f"{m:>23}" for m in ANSWER_METRICS[:6]) + f"{'p50 ms':>9}{'p95 ms':>9}"]
    for lang in (*LANGS, "all"):
        if lang in answers:
            a = answers[lang]
            cells = "".join(f"{'-' if a[m] is None else format(a[m], '.3f'):>23}" for m in ANSWER_METRICS[:6])
            rows.append(f"{lang:5}{cells}{a['p50_ms']:>9.0f}{a['p95_ms']:>9.0f}")
    return "\n".join(rows)


# ---------------------------------------------------------------- texts to validate evidence against


def index_texts(index) -> dict[str, str]:
    """doc -> the cleaned text the index was built from (what the chunks, and so the evidence, come from)."""
    out = {}
    for doc in index.documents:
        found = index.document_text(doc)
        if found is not None:
            out[doc] = found[0]
    return out


def corpus_texts(folder: Path) -> dict[str, str]:
    """doc -> cleaned text of every document in a corpus folder, cleaned exactly as `qa ingest` cleans it."""
    from .documents import load_folder

    return {d.doc: d.text for d in load_folder(folder).documents}


# ---------------------------------------------------------------- optional LLM judge

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
            out[lang] = {"faithfulness": _mean([float(v) for v in clear]), "judged": len(clear),
                         "unclear": len(judged) - len(clear)}
    return out


# ---------------------------------------------------------------- per-question detail


def detail_lines(questions: list[Question], retrieval: list[RetrievalRecord],
                 answers: list[AnswerRecord] | None = None, flipped: dict[str, list[str]] | None = None) -> list[dict]:
    """One object per question: what was retrieved (top passages, whether each holds evidence), what the
    answer cited and said, which checks failed, and (with a baseline) which metrics it flipped on."""
    ret = {r.id: r for r in retrieval}
    ans = {r.id: r for r in answers or []}
    out = []
    for q in questions:
        line = {"id": q.id, "lang": q.lang, "question": q.question, "doc": q.doc, "unanswerable": q.unanswerable}
        failed: list[str] = []
        r = ret.get(q.id)
        if r is not None:
            line["retrieval"] = {"rank": r.rank, "passed": r.passed, "reachable": r.reachable, "top": r.top}
            failed += [f"retrieval: {why}" for why in r.failed()]
        a = ans.get(q.id)
        if a is not None:
            line["answer"] = {
                "text": a.answer, "abstained": a.abstained, "abstain_reason": a.abstain_reason,
                "language": a.answer_language,
                "citations": [{"chunk_id": cid, "doc": doc, "evidence": ev}
                              for cid, doc, ev in zip(a.citations, a.citation_docs, a.citation_evidence)],
                "cites_evidence": a.cites_evidence, "citation_precision": a.citation_precision,
                "key_fact_recall": a.key_fact_recall, "key_facts_missing": a.key_facts_missing,
                "ms": round(a.ms, 1), "passed": a.passed}
            if a.faithful is not None:
                line["answer"]["faithful"] = a.faithful
            failed += [f"answer: {why}" for why in a.failed]
        line["passed"] = not failed
        line["failed"] = failed
        if flipped is not None:
            line["flipped"] = flipped.get(q.id, [])
        out.append(line)
    return out


def write_details(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")


# ---------------------------------------------------------------- dialogues (follow-up questions)

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
    folded = {doc: fold(text) for doc, text in (corpus_texts or {}).items()}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON ({exc.msg})")
            continue
        why = None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
            why = "a dialogue is an object with a non-empty id"
        elif not isinstance(obj.get("turns"), list) or len(obj["turns"]) < 2:
            why = "turns must be a list of at least two questions"
        elif obj["id"] in seen:
            why = f"duplicate id {obj['id']!r}"
        turns: list[Question] = []
        for i, turn in enumerate(obj["turns"] if why is None else []):
            why = _check_line(turn)
            if why is None and turn["id"] in seen:
                why = f"duplicate id {turn['id']!r}"
            if why is None and corpus_texts is not None and not turn["unanswerable"]:
                why = _check_evidence(turn, folded)
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
    from .conversation import Turn

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
                scores["answers"] = _answer_scores(answered)
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
                              "language": a.answer_language, "cites_evidence": a.cites_evidence,
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
