"""The settings table of docs/operations.md, generated from `qa.config.Settings` (`qa settings-doc`).

The table lives in `SETTINGS_DOC` (docs/operations.md) between `<!-- settings:start -->` and
`<!-- settings:end -->`; a test fails when it and the class drift apart; `qa settings-doc --write
docs/operations.md` brings it up to date. Any Markdown file with the two markers can hold it.
"""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .config import Settings

START, END = "<!-- settings:start -->", "<!-- settings:end -->"
SETTINGS_DOC = Path("docs/operations.md")  # relative to the repository root

# Defaults computed from the machine (home folder, CPU count): shown as the rule, not this machine's value.
FACTORY_DEFAULTS = {
    "models_dir": "`$XDG_CACHE_HOME/qa/models` (`~/.cache/qa/models`)",
    "llm_threads": "the number of CPUs",
}


class SettingsDocError(Exception):
    """The document has no settings section (or a broken one)."""


def env_name(field: str, settings_class: type[Settings] = Settings) -> str:
    prefix = settings_class.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def type_text(annotation: Any) -> str:
    """A short, reader-facing name of a field's type."""
    origin = get_origin(annotation)
    if origin is Literal:
        return " or ".join(f"`{v}`" for v in get_args(annotation))
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        inner = " or ".join(type_text(a) for a in args)
        return f"{inner} (optional)" if len(args) < len(get_args(annotation)) else inner
    if origin is dict:
        return "JSON object"
    if origin in (list, tuple, set):
        return "JSON list"
    if annotation is Path or (isinstance(annotation, type) and issubclass(annotation, Path)):
        return "path"
    names = {bool: "bool", int: "int", float: "float", str: "string"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def default_text(name: str, info: FieldInfo) -> str:
    if name in FACTORY_DEFAULTS:
        return FACTORY_DEFAULTS[name]
    if info.default_factory is not None:
        value = info.default_factory()
    elif info.default is PydanticUndefined:
        return "(required)"
    else:
        value = info.default
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (dict, list)):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    """Markdown table cells: one line, pipes escaped."""
    return re.sub(r"\s+", " ", text).strip().replace("|", "\\|")


def settings_rows(settings_class: type[Settings] = Settings) -> list[tuple[str, str, str, str]]:
    """(variable, type, default, description) for every field, in declaration order."""
    rows = []
    for name, info in settings_class.model_fields.items():
        if not info.description:
            raise SettingsDocError(f"setting {name!r} has no description; add one in qa/config.py")
        rows.append((f"`{env_name(name, settings_class)}`", type_text(info.annotation), default_text(name, info),
                     info.description))
    return rows


def settings_table(settings_class: type[Settings] = Settings) -> str:
    """The Markdown table (no trailing newline)."""
    lines = ["| variable | type | default | description |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in settings_rows(settings_class)]
    return "\n".join(lines)


def _bounds(text: str) -> tuple[int, int]:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start or text.count(START) != 1 or text.count(END) != 1:
        raise SettingsDocError(f"the settings document needs exactly one {START} ... {END} section")
    return start + len(START), end


def readme_table(text: str) -> str:
    """The table currently between the markers."""
    a, b = _bounds(text)
    return text[a:b].strip()


def with_table(text: str, table: str | None = None) -> str:
    """`text` with the section between the markers replaced by the generated table."""
    a, b = _bounds(text)
    return text[:a] + "\n" + (table if table is not None else settings_table()) + "\n" + text[b:]


def update_readme(path: Path) -> bool:
    """Rewrite the table in `path`; True when it changed."""
    text = Path(path).read_text(encoding="utf-8")
    new = with_table(text)
    if new != text:
        Path(path).write_text(new, encoding="utf-8")
    return new != text


def check_readme(path: Path) -> bool:
    """True when the document's table matches the settings class."""
    return readme_table(Path(path).read_text(encoding="utf-8")) == settings_table()
