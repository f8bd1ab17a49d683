"""The README documents exactly the settings the code reads."""

from __future__ import annotations

from tools.azurite import REPO_ROOT
from tools.settings_doc import BEGIN, END, render_block


def test_readme_settings_table_matches_the_settings_model() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[start:end] == render_block(), (
        "README settings table is out of date: run `python -m tools.settings_doc` and paste it"
    )


def test_readme_shows_the_two_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
