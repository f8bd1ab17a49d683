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


def test_readme_links_every_document_in_docs() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    documents = sorted(p.name for p in (REPO_ROOT / "docs").iterdir() if p.suffix in (".md", ".yaml"))
    assert documents, "docs/ is empty"
    missing = [name for name in documents if f"](docs/{name})" not in readme]
    assert missing == [], "link these from the README's Documents table"


def test_readme_layout_names_only_paths_that_exist() -> None:
    import re

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") : readme.index("## Storage and queues")]
    paths = re.findall(r"^\| `([^`]+)`", layout, flags=re.MULTILINE)
    assert paths, "the layout table is empty"
    for entry in paths:
        for path in entry.split("`, `"):
            assert (REPO_ROOT / path.rstrip("/")).exists(), path
