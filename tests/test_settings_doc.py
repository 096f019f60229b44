"""The settings table of docs/operations.md is generated from `qa.config.Settings` and must not drift from it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from qa.config import Settings
from qa.settings_doc import (END, SETTINGS_DOC, START, SettingsDocError, check_readme, readme_table,
                             settings_table, update_readme, with_table)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / SETTINGS_DOC


def test_the_operations_table_matches_the_settings_class():
    table = readme_table(DOC.read_text(encoding="utf-8"))
    assert table == settings_table(), (
        f"{SETTINGS_DOC}'s settings table differs from qa/config.py: run `qa settings-doc --write {SETTINGS_DOC}` "
        f"(or python -c 'from qa.settings_doc import update_readme; update_readme(\"{SETTINGS_DOC}\")')")


def test_the_table_lives_in_one_place():
    """The README links to the table; a second copy elsewhere would drift unchecked."""
    assert START not in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/operations.md#settings" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_variable_type_and_default():
    rows = {line.split(" | ")[0].strip("| `"): line for line in settings_table().splitlines()[2:]}
    assert set(rows) == {f"QA_{name.upper()}" for name in Settings.model_fields}
    assert "| `QA_GENERATOR` | `embedded` or `ollama` or `extractive` | `embedded` |" in rows["QA_GENERATOR"]
    assert "| `QA_LOG_QUESTIONS` | bool | `false` | Log question text" in rows["QA_LOG_QUESTIONS"]
    assert "| path (optional) | (none) |" in rows["QA_LLM_PATH"]
    assert "| JSON object | `{}` |" in rows["QA_API_KEYS"]
    # Machine-dependent defaults are shown as the rule, so the table is the same on every machine.
    assert "~/.cache/qa/models" in rows["QA_MODELS_DIR"] and str(Path.home()) not in rows["QA_MODELS_DIR"]
    assert "the number of CPUs" in rows["QA_LLM_THREADS"]
    for line in rows.values():  # one table row each: no raw pipes or line breaks from descriptions
        assert line.count(" | ") == 3 and "\n" not in line


def test_a_new_setting_makes_the_table_drift():
    class Extended(Settings):
        answer_colour: Literal["red", "green"] = Field("red", description="Colour | of the answer.")

    table = settings_table(Extended)
    assert table != settings_table()
    assert "| `QA_ANSWER_COLOUR` | `red` or `green` | `red` | Colour \\| of the answer. |" in table
    readme = f"intro\n{START}\n{settings_table()}\n{END}\nrest\n"
    assert readme_table(readme) != table  # what the drift test would report


def test_a_setting_without_description_is_refused():
    class Undocumented(Settings):
        secret_knob: int = 3

    with pytest.raises(SettingsDocError, match="secret_knob"):
        settings_table(Undocumented)


def test_update_readme_rewrites_only_the_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{START}\n| old | table |\n{END}\n\nafter\n", encoding="utf-8")
    assert not check_readme(readme)
    assert update_readme(readme) is True
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nbefore\n\n") and text.endswith(f"{END}\n\nafter\n")
    assert check_readme(readme) and "| old | table |" not in text
    assert update_readme(readme) is False  # idempotent
    assert with_table(text) == text


def test_missing_or_doubled_markers_are_reported(tmp_path):
    with pytest.raises(SettingsDocError, match="settings:start"):
        readme_table("no markers here")
    with pytest.raises(SettingsDocError):
        readme_table(f"{START}\n{END}\n{START}\n{END}\n")
