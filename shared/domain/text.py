"""Text a person or a feed sends (names, invoice numbers, references, reasons): what it may hold.

Refused everywhere: C0 and C1 control characters (NUL, ESC and so ANSI escape sequences, DEL),
Unicode format characters (bidi embeddings, overrides and isolates, LRM/RLM/ALM, zero-width
space, joiners, word joiner, BOM, soft hyphen), line and paragraph separators, and lone
surrogates: they hide or reorder what a reader sees (an invoice number that displays as another,
a reason that rewrites a terminal). `MultiLineText` (reasons, notes) also allows tab, CR and LF.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_MULTI_LINE_ALLOWED = {"\t", "\n", "\r"}


def first_refused(value: str, *, multi_line: bool) -> str | None:
    """The first character `value` may not hold, as `U+XXXX (name)`, or None."""
    for char in value:
        if multi_line and char in _MULTI_LINE_ALLOWED:
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            name = unicodedata.name(char, "control character")
            return f"U+{ord(char):04X} ({name})"
    return None


def _check(value: str, *, multi_line: bool) -> str:
    refused = first_refused(value, multi_line=multi_line)
    if refused is not None:
        allowed = " (tab and line breaks are allowed here)" if multi_line else ""
        raise ValueError(f"holds {refused}: control, bidi and zero-width characters are refused{allowed}")
    return value


def single_line(value: str) -> str:
    """`value` if it holds none of the refused characters; ValueError naming the first."""
    return _check(value, multi_line=False)


def multi_line(value: str) -> str:
    """As `single_line`, with tab, CR and LF allowed."""
    return _check(value, multi_line=True)


SingleLineText = Annotated[str, AfterValidator(single_line)]
MultiLineText = Annotated[str, AfterValidator(multi_line)]


def with_article(word: str) -> str:
    """`word` with its English indefinite article: "an invoice", "a payment", "an enforcement_off"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
