"""The README's settings table from the settings model (`python -m tools.settings_doc [--write]`).

A test compares the README with this output, so the documented settings cannot drift from
the ones the code reads.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic.fields import FieldInfo

from shared.settings import AppSettings, _alias_of

BEGIN = "<!-- settings-table:begin -->"
END = "<!-- settings-table:end -->"


def _default(field: FieldInfo) -> str:
    default = field.default
    if default is None:
        return "(none)"
    if isinstance(default, Enum):
        default = default.value
    if isinstance(default, Path):
        default = default.as_posix()
    text = str(default)
    return f"`{text}`" if text else '`""`'


def settings_table() -> str:
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for name, field in AppSettings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{_alias_of(name)}` | {_default(field)} | {description} |")
    return "\n".join(rows)


def render_block() -> str:
    return f"{BEGIN}\n{settings_table()}\n{END}"


def write_readme(readme: Path) -> None:
    """Replace the settings block of the README in place."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    readme.write_text(text[:start] + render_block() + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args == ["--write"]:
        write_readme(Path(__file__).resolve().parent.parent / "README.md")
    else:
        print(render_block())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
