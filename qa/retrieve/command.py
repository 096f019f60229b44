"""`qa memory add`: questions confirmed against a passage remembered for the current build (`memory`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..config import get_settings


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
def memory() -> None:
    """Questions confirmed against a passage, searched beside the passages (QA_MEMORY_WEIGHT)."""


@memory.command("add")
@click.argument("lines", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--index", "index_dir", type=click.Path(path_type=Path, file_okay=False), default=None)
def memory_add(lines: Path, index_dir: Path | None) -> None:
    """Remember the answerable questions of LINES (a question set, or `qa feedback export --confirmed`) whose
    passage the current index holds; lines it does not hold are named and left out."""
    from ..index import IndexUnavailable, load_index
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
