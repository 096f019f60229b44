"""`qa db` and `qa feedback`: the database's schema version and upgrades, and feedback exported for evaluators."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..config import get_settings


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
def feedback() -> None:
    """Members' votes and comments on answers."""


@feedback.command("export")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-")
@click.option("--confirmed", is_flag=True, help="Positive feedback instead, with the passage it confirms: lines "
              "for `qa memory add`.")
def feedback_export(out: Path, confirmed: bool) -> None:
    """Write negative feedback that has a consented question to OUT (default stdout) as question-set
    JSON lines, for evaluators to complete with doc and evidence (--confirmed: positive feedback)."""
    from ..feedback import FeedbackError, FeedbackStore

    store = FeedbackStore.from_settings(get_settings())
    if store.path is not None and not store.path.exists():
        _fail(f"no feedback database at {store.path} (QA_DATA_DIR, QA_DATABASE_URL)")
    try:
        export = store.export_confirmed if confirmed else store.export_negative
        n = export(sys.stdout if str(out) == "-" else out)
    except FeedbackError as exc:
        _fail(str(exc))
    click.echo(f"{n} question(s) exported", err=True)


@click.group()
def db() -> None:
    """The database of feedback, answers and conversations (QA_DATABASE_URL)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations the database lacks (safe to run again, and from several hosts at once)."""
    from . import StoreError, open_store

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
    from . import SCHEMA_VERSION, StoreError, open_store

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
