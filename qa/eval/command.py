"""`qa eval`: score a question set (or a dialogue set) against an index, compare with a baseline, write a report.

The command only wires the steps of this package together: questions, scores, judge, baselines, report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..config import Settings, get_settings
from . import baselines as bl
from .answer_scores import evaluate_answers, format_answer_table, format_check_table
from .compare import compare, format_comparison
from .details import detail_lines, write_details
from .dialogues import (dialogue_detail_lines, format_dialogue_table, is_dialogue_set, load_dialogues, run_dialogues,
                        summarise_dialogues)
from .judge import judge_answers
from .questions import QuestionSetError, corpus_texts, index_texts, load_questions
from .retrieval_scores import format_table, run_retrieval


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _load_service(settings: Settings, index_dir: Path | None):
    from .. import open as open_service
    from ..embed import EmbedError
    from ..index import IndexUnavailable

    try:
        return open_service(index_dir, settings=settings)
    except (IndexUnavailable, EmbedError) as exc:
        _fail(str(exc))


@click.command("eval")
@click.option("--questions", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=Path("eval/questions.jsonl"), show_default=True, help="Question set (JSON Lines).")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (QA_INDEX_DIR).")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False),
              help="Check evidence quotes against this documents folder (cleaned as `qa ingest` cleans) "
                   "instead of the index's own document texts.")
@click.option("--generator", type=click.Choice(["extractive", "embedded", "ollama"]),
              help="Also score answers made with this generator.")
@click.option("--mode", type=click.Choice(["member", "helpdesk"]), default="member", show_default=True)
@click.option("--fusion", metavar="VARIANT",
              help="Score this retrieval variant (qa.retrieve.Fusion: hybrid, dense, lexical) instead of the "
                   "service's default.")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Compare with this saved run; exit 1 when a metric drops beyond its tolerance.")
@click.option("--save-baseline", "save_name", metavar="NAME",
              help="Save this run as eval/baselines/NAME.json (the baselines folder beside the question set).")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write report.md, PNG plots and details.jsonl into this folder.")
@click.option("--details", type=click.Path(path_type=Path, dir_okay=False),
              help="Write per-question detail (JSON Lines) here (default with --report: DIR/details.jsonl).")
@click.option("--judge", is_flag=True,
              help="Add an LLM judge's faithfulness score (needs --generator and the Ollama server of "
                   "QA_OLLAMA_URL with QA_OLLAMA_MODEL); never gated, never part of the other scores.")
@click.option("--dialogues", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Score a dialogue set (eval/dialogues.jsonl) turn by turn instead; a --questions file whose "
                   "lines have `turns` is scored the same way.")
@click.option("--condense", type=click.Choice(["rule", "model"]),
              help="How follow-ups are made whole (qa/conversation.py); default: the service's.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the DESIGN.md contract).")
def eval_(questions: Path, index_dir: Path | None, corpus: Path | None, generator: str | None, mode: str,
          fusion: str | None, baseline_file: Path | None, save_name: str | None, report_dir: Path | None,
          details: Path | None, judge: bool, dialogues: Path | None, condense: str | None, as_json: bool) -> None:
    """Score a question set: retrieval recall@k, MRR, nDCG@10 per language and document; answers with
    --generator; compare with a saved baseline (exit 1 on a regression); write a report with plots."""

    settings = get_settings()
    if judge and not generator:
        _fail("--judge scores answers: add --generator")
    base = None
    if baseline_file is not None:
        try:
            base = bl.load_baseline(baseline_file)
        except bl.BaselineError as exc:
            _fail(str(exc))
    service = _load_service(settings, index_dir)
    if service.retriever.memory is not None:  # a question kept in memory is not scored by its own answer
        service.retriever.memory.hold_out = True
    if condense:
        service.condense_method = condense
    if dialogues is not None or is_dialogue_set(questions):
        return _eval_dialogues(dialogues or questions, service, corpus, generator, mode, details, as_json)
    qs = _eval_questions(questions, service, corpus)
    judge_model = _eval_judge(settings) if judge else None
    if fusion:
        _eval_fusion(service, fusion)

    scores: dict = {}
    scores["retrieval"], retrieval_records = run_retrieval(qs, service,  # the service's own search path
                                                              progress=_eval_progress("retrieval"))
    answer_records: list = []
    if generator:
        from ..generate import GeneratorError

        try:
            scores["answers"], answer_records = evaluate_answers(qs, service, generator, mode,
                                                                    progress=_eval_progress(f"answers ({generator})"))
        except GeneratorError as exc:
            _fail(str(exc))
        if judge_model is not None:
            try:
                scores["judge"] = judge_answers(answer_records, qs, service.index, judge_model)
            except GeneratorError as exc:  # the judge is optional: the deterministic scores stand without it
                click.echo(f"warning: the judge failed, no faithfulness score: {exc}", err=True)

    config = bl.run_config(service, generator=generator, mode=mode, retrieval_settings=service.retriever.settings,
                           questions_path=questions, questions=qs)
    outcomes = bl.question_outcomes(qs, retrieval_records, answer_records)
    comparison = compare(base, scores, config, outcomes, str(baseline_file)) if base is not None else None
    lines = detail_lines(qs, retrieval_records, answer_records,
                            comparison.flipped if comparison is not None else None)
    details = details or (report_dir / "details.jsonl" if report_dir else None)
    if details:
        write_details(details, lines)
    report = None
    if report_dir:
        from .report import write_report

        report = write_report(report_dir, scores=scores, config=config, retrieval_records=retrieval_records,
                              answer_records=answer_records, details=lines, comparison=comparison, baseline=base,
                              details_file=details, command=" ".join(["qa", *sys.argv[1:]]))
    saved = None
    if save_name:
        saved = bl.baseline_path(save_name, questions.parent / "baselines")
        previous = _eval_tolerances(saved)
        bl.save_baseline(saved, bl.make_baseline(saved.stem, scores, config, outcomes, previous))

    if as_json:
        _echo_json({**scores, **({"baseline": comparison.to_json()} if comparison is not None else {})})
    else:
        click.echo(format_table(scores["retrieval"]))
        if generator:
            click.echo("")
            click.echo(format_answer_table(scores["answers"]))
            click.echo(format_check_table(scores["answers"]["checks"]))
            if "judge" in scores:
                click.echo("judge faithfulness: " + ", ".join(
                    f"{k} {v['faithfulness']}" for k, v in scores["judge"].items()))
        if comparison is not None:
            click.echo("")
            click.echo(format_comparison(comparison))
    for label, path in (("details", details), ("report", report), ("baseline saved", saved)):
        if path:
            click.echo(f"{label}: {path}", err=True)
    if comparison is not None and not comparison.passed:
        if as_json:  # the JSON on stdout says it too; stderr names the metrics for a CI log
            click.echo(format_comparison(comparison), err=True)
        sys.exit(1)


def _eval_dialogues(path: Path, service, corpus: Path | None, generator: str | None, mode: str,
                    details: Path | None, as_json: bool) -> None:
    """Each dialogue's turns asked in order; scores of first and later turns (docs/evaluation.md, "Dialogues")."""
    from ..generate import GeneratorError

    try:
        texts = corpus_texts(corpus) if corpus else index_texts(service.index)
        dialogues = load_dialogues(path, corpus_texts=texts)
    except (OSError, QuestionSetError) as exc:
        _fail(str(exc))
    try:
        records = run_dialogues(dialogues, service, generator, mode, progress=_eval_progress("dialogues"))
    except GeneratorError as exc:
        _fail(str(exc))
    summary = {"condense": service.condense_method, "generator": generator, **summarise_dialogues(records)}
    if details:
        write_details(details, dialogue_detail_lines(records))
        click.echo(f"details: {details}", err=True)
    if as_json:
        _echo_json({"dialogues": summary})
    else:
        click.echo(f"condense: {summary.pop('condense')}, generator: {summary.pop('generator') or '(retrieval only)'}")
        click.echo(format_dialogue_table(summary))


def _eval_tolerances(path: Path) -> dict | None:
    """The tolerances of the baseline about to be refreshed: hand-tuned ones survive a refresh."""
    if not path.exists():
        return None
    try:
        return bl.load_baseline(path)["tolerances"]
    except bl.BaselineError as exc:
        click.echo(f"warning: {exc}; overwriting it with default tolerances", err=True)
        return None


def _eval_questions(path: Path, service, corpus: Path | None) -> list:
    """The question set, each evidence quote checked against the cleaned text it must be found in."""
    try:
        texts = corpus_texts(corpus) if corpus else index_texts(service.index)
    except (OSError, NotADirectoryError) as exc:
        _fail(f"cannot read the corpus folder: {exc}")
    try:
        return load_questions(path, corpus_texts=texts)
    except QuestionSetError as exc:
        _fail(str(exc))


def _eval_fusion(service, fusion: str) -> None:
    import dataclasses
    import typing

    from ..retrieve import Fusion, Retriever

    variants = typing.get_args(Fusion)
    if fusion not in variants:
        _fail(f"--fusion must be one of {', '.join(variants)}")
    settings = dataclasses.replace(service.retriever.settings, fusion=fusion)
    service.retriever = Retriever(service.index, service.embedder, settings)


def _eval_judge(settings: Settings):
    from ..generate import GeneratorError, make_generator

    try:
        model = make_generator("ollama", settings)
        model.check()
    except GeneratorError as exc:
        _fail(f"--judge needs the Ollama server at {settings.ollama_url} with {settings.ollama_model}: {exc}")
    return model


def _eval_progress(label: str):
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit="q", file=sys.stderr, leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update
