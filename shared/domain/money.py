"""Money: an exact decimal amount with its ISO 4217 currency. Never a float.

One canonical form in and out. An amount is read from text (or from a JSON number's literal
text, which `functions/http_support.read_json` keeps) by one rule: ASCII digits, an optional
leading `-`, at most one `.` followed by at most the currency's minor units (ISO 4217: CNY and
USD 2, JPY 0, KWD 3, ...); no exponent, underscore, sign `+`, spaces, leading zeros or other
digits (fullwidth, Arabic-Indic). It is kept at exactly the currency's minor units, so the same
amount always reads the same: `"0.00 CNY"`, `"100.00 CNY"`, `"100 JPY"`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_CURRENCY = "CNY"

# ISO 4217 minor units of the active codes whose minor unit is not 2 (every other active code
# below has 2). From the ISO 4217 list (SIX, amendment 178 and earlier).
_MINOR_UNITS_NOT_2 = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}
_ACTIVE_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP "
    "LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR "
    "NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR "
    "ZMW ZWG"
).split()
MINOR_UNITS: dict[str, int] = {**dict.fromkeys(_ACTIVE_2, 2), **_MINOR_UNITS_NOT_2}

# The one accepted spelling of an amount (before the minor-units check).
AMOUNT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


class NumberLiteral:
    """A JSON number with a fraction or exponent, as its literal text. Request bodies are parsed
    so (never into a float): a money amount reads the text by the one rule below ("100.50" yes,
    "1E+2" no), and any other field refuses it as the wrong type."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


def minor_units(currency: str) -> int:
    """The ISO 4217 minor units of `currency`; ValueError for a code that is not ISO 4217."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"{currency!r} is not an active ISO 4217 currency code") from None


def parse_amount(text: str, currency: str) -> Decimal:
    """The amount `text` spells, by the one rule above; ValueError saying what is wrong."""
    if not isinstance(text, str) or not AMOUNT_TEXT.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a plain decimal amount: ASCII digits with an optional '-' and at most "
            "one '.', no exponent, '+', '_', spaces or leading zeros (e.g. \"1234.50\")"
        )
    places = len(text.partition(".")[2])
    units = minor_units(currency)
    if places > units:
        raise ValueError(f"{currency} has {units} decimal places (ISO 4217); {text!r} has {places}")
    return Decimal(text)


def canonical(amount: Decimal, currency: str) -> Decimal:
    """`amount` at exactly the currency's minor units (no rounding: more places is an error)."""
    if not amount.is_finite():
        raise ValueError("amount must be a finite number")
    units = minor_units(currency)
    quantum = Decimal(1).scaleb(-units)
    fixed = amount.quantize(quantum)
    if fixed != amount:
        raise ValueError(f"{currency} has {units} decimal places (ISO 4217); {amount} has more")
    return fixed if fixed != 0 else abs(fixed)  # never "-0.00"


class Money(BaseModel):
    """An amount of money; stored in Table storage as the string `"123.45 CNY"`."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal = Field(max_digits=20, decimal_places=4)
    currency: str = Field(default=DEFAULT_CURRENCY, pattern=r"^[A-Z]{3}$")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return cls.parse_text(value)
        if isinstance(value, dict):
            amount = value.get("amount")
            currency = value.get("currency", DEFAULT_CURRENCY)
            if isinstance(amount, bool) or isinstance(amount, float):
                raise ValueError('amounts are decimal strings like "100.00" (never floats)')
            if isinstance(amount, int):
                amount = str(amount)  # a JSON integer: its digits, read by the same rule
            elif isinstance(amount, NumberLiteral):
                amount = amount.text  # a JSON number with a fraction: its text, the same rule
            if isinstance(amount, str) and isinstance(currency, str) and currency in MINOR_UNITS:
                return {**value, "amount": parse_amount(amount, currency)}
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("amounts must be given as decimal strings, never floats")
        return value

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str) -> str:
        minor_units(value)
        return value

    @model_validator(mode="after")
    def _canonical(self) -> Money:
        # frozen: set through the instance dict, once, at construction
        object.__setattr__(self, "amount", canonical(self.amount, self.currency))
        return self

    @staticmethod
    def parse_text(text: str) -> dict[str, Any]:
        """`"123.45 CNY"` (one space) -> its amount and currency, by the one rule above."""
        amount, sep, currency = text.partition(" ")
        if not sep or not re.fullmatch(r"[A-Z]{3}", currency):
            raise ValueError("money text must look like '123.45 CNY'")
        return {"amount": parse_amount(amount, currency), "currency": currency}

    def to_text(self) -> str:
        return f"{self.amount} {self.currency}"

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> Money:
        return cls(amount=Decimal(0), currency=currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return self.to_text()
