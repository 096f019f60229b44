"""Prompt templates and fixed phrases, read from the `prompts/` folder so wording changes need no code change."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_USER_MARK = "=== user ==="


class PromptError(Exception):
    pass


@lru_cache(maxsize=None)
def _template(name: str, folder: Path) -> tuple[str, str]:
    path = folder / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise PromptError(f"prompt template {path} is missing") from None
    system, sep, user = text.partition(_USER_MARK)
    if not sep:
        raise PromptError(f"prompt template {path} has no '{_USER_MARK}' line")
    return system.strip(), user.strip()


def messages(name: str, folder: Path = PROMPTS_DIR, **values: str) -> list[dict[str, str]]:
    """Chat messages from template `name` (e.g. "member.fr"), its {placeholders} filled with `values`."""
    system, user = _template(name, folder)
    return [{"role": "system", "content": system}, {"role": "user", "content": user.format(**values)}]


@lru_cache(maxsize=None)
def _phrases(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "phrases.toml").open("rb") as f:
        return tomllib.load(f)


def phrase(language: str, key: str, folder: Path = PROMPTS_DIR, **values: object) -> str:
    table = _phrases(folder)
    text = table.get(language, table["nl"])[key]
    return text.format(**values) if values else text
