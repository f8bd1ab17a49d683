"""Money in one canonical form, text without hidden characters, CSV cells a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.domain.csv_export import csv_text, safe_cell
from shared.domain.money import Money, minor_units
from shared.domain.text import first_refused


@pytest.mark.parametrize(
    ("given", "text"),
    [
        ("0 CNY", "0.00 CNY"),
        ("0.00 CNY", "0.00 CNY"),
        ("-0 CNY", "0.00 CNY"),
        ("100 CNY", "100.00 CNY"),
        ("100.5 USD", "100.50 USD"),
        ("100 JPY", "100 JPY"),
        ("1.234 KWD", "1.234 KWD"),
        ({"amount": 100, "currency": "CNY"}, "100.00 CNY"),
        ({"amount": "12.3"}, "12.30 CNY"),
    ],
)
def test_money_is_kept_at_the_currency_minor_units(given: object, text: str) -> None:
    assert Money.model_validate(given).to_text() == text


@pytest.mark.parametrize(
    "given",
    [
        "1E+2 CNY",
        "1e2 CNY",
        "１００ CNY",
        "١٠٠ CNY",
        "1_000 CNY",
        "10.123 CNY",
        "1.5 JPY",
        "+1 CNY",
        " 1 CNY",
        "1  CNY",
        "01 CNY",
        ".5 CNY",
        "5. CNY",
        "NaN CNY",
        "Infinity CNY",
        "1 XYZ",
        "1 cny",
        {"amount": 1.5, "currency": "CNY"},
        {"amount": True, "currency": "CNY"},
    ],
)
def test_non_canonical_money_is_refused(given: object) -> None:
    with pytest.raises(ValidationError):
        Money.model_validate(given)


def test_money_from_code_keeps_exact_amounts_and_refuses_rounding() -> None:
    assert Money(amount=Decimal("12.5")).amount == Decimal("12.50")
    with pytest.raises(ValidationError):
        Money(amount=Decimal("12.345"))
    assert minor_units("JPY") == 0 and minor_units("CNY") == 2 and minor_units("BHD") == 3


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x1b", "\x7f", "\x85", "\u200b", "\u200d", "\u200e", "\u202e", "\u2066", "\ufeff", "\u2028"],
)
def test_hidden_characters_are_found_in_single_and_multi_line_text(char: str) -> None:
    assert first_refused(f"a{char}b", multi_line=False) is not None
    assert first_refused(f"a{char}b", multi_line=True) is not None


def test_line_breaks_and_tabs_only_in_multi_line_text() -> None:
    assert first_refused("a\nb\tc\r\n", multi_line=True) is None
    assert first_refused("a\nb", multi_line=False) == "U+000A (control character)"
    assert first_refused("上海示例科技有限公司 Ünïcode – fine", multi_line=False) is None


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_csv_cell_never_starts_a_formula(value: str) -> None:
    assert safe_cell(value) == "'" + value
    (row,) = list(csv.reader(io.StringIO(csv_text(["h"], [[value]]))))[1:]
    assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_plain_cells_are_written_as_they_are() -> None:
    text = csv_text(["customer", "overdue"], [["Contoso, Ltd", "100.00 CNY"], [None, 0]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["customer", "overdue"],
        ["Contoso, Ltd", "100.00 CNY"],
        ["", "0"],
    ]
