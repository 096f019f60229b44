"""Prompt templates and fixed phrases, read from the `prompts/` folder so wording changes need no code change."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_USER_MARK = "=== user ==="


class PromptError(Exception):
    pass


_TURN = re.compile(r"^=== (user|assistant) ===$", re.M)


@lru_cache(maxsize=None)
def _template(name: str, folder: Path) -> tuple[str, list[tuple[str, str]]]:
    """The system text and the turns after it. Turns before the last are worked examples (few-shot), which
    the small local model follows far better than instructions alone."""
    path = folder / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise PromptError(f"prompt template {path} is missing") from None
    parts = _TURN.split(text)
    system, turns = parts[0].strip(), [(role, body.strip()) for role, body in zip(parts[1::2], parts[2::2])]
    if not turns or turns[-1][0] != "user":
        raise PromptError(f"prompt template {path} must end with a '{_USER_MARK}' turn")
    return system, turns


def messages(name: str, folder: Path = PROMPTS_DIR, **values: str) -> list[dict[str, str]]:
    """Chat messages from template `name` (e.g. "member.fr"), the last turn's {placeholders} filled."""
    system, turns = _template(name, folder)
    examples = [{"role": role, "content": body} for role, body in turns[:-1]]
    return [{"role": "system", "content": system}, *examples,
            {"role": "user", "content": turns[-1][1].format(**values)}]


@lru_cache(maxsize=None)
def _phrases(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "phrases.toml").open("rb") as f:
        return tomllib.load(f)


def phrase(language: str, key: str, folder: Path = PROMPTS_DIR, **values: object) -> str:
    table = _phrases(folder)
    text = table.get(language, table["nl"])[key]
    return text.format(**values) if values else text
