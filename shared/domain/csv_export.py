"""CSV that is safe to open in a spreadsheet: no cell starts with `=`, `+`, `-` or `@` (nor tab
or CR), which Excel, LibreOffice and Sheets would run as a formula (CSV injection). Such a cell
is written with a leading apostrophe, which spreadsheets show as text and do not run. Every CSV
this app exports goes through `csv_text`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, defused when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (CRLF line ends, RFC 4180 quoting) with every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
