"""Print the README's settings table from the settings model (`python -m tools.settings_doc`).

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


def main() -> int:
    print(render_block())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
