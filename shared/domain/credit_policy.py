"""The credit and usage-anomaly sections of the collections policy (`[credit]`, `[usage_anomaly]`).

Per-customer credit is the partner's own decision (Partner Center's credit limit is the
partner's, not a customer's): a limit on the customer's profile, or its segment's default here.
Exposure is priced at partner cost plus the markup given here (per offer, per segment, or the
default). Every amount is a decimal string with its currency, as in the rest of the policy.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.domain.money import Money, parse_amount

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_OFFER = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _amount(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f'{where}: amounts are strings like "100.00" (never numbers)')
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"{where}: not a decimal amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{where}: amount must be a finite number >= 0")
    return amount


def amounts_by_currency(value: Any) -> dict[str, Decimal]:
    """`{CNY = "100.00", ...}`: ISO 4217 codes, each amount within the currency's minor units."""
    if not isinstance(value, dict):
        raise ValueError('give amounts per currency, like { CNY = "100.00" }')
    out: dict[str, Decimal] = {}
    for currency, raw in value.items():
        if not _CURRENCY.match(str(currency)):
            raise ValueError(f"{currency!r} is not an ISO 4217 currency code (three capital letters)")
        _amount(raw, str(currency))
        amount = parse_amount(raw, str(currency))  # the one money rule: its minor units
        out[str(currency)] = amount
    return out


def _percent(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('give a percent as an integer or a string like "12.5"')
    return value


class CreditSegment(_Strict):
    """A segment's own credit terms; what it leaves out is the `[credit]` default."""

    limit: dict[str, Decimal] | None = None
    hold_at_limit: bool | None = None
    markup_percent: Decimal | None = Field(default=None, ge=0, le=1000)

    @field_validator("limit", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        return amounts_by_currency(value) if value is not None else value

    @field_validator("markup_percent", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _percent(value)


class CreditRules(_Strict):
    """`[credit]`: limits, when finance is told, when a customer is held, and pricing."""

    # Finance is told (an alert) once exposure reaches this share of the limit.
    alert_percent: Decimal = Field(default=Decimal(80), gt=0, le=100)
    # At the limit the customer gets a notice; with hold_at_limit, a `credit_limit` hold follows
    # `hold_after_notice_days` days after that notice was delivered (fair notice), if exposure
    # is still at or over the limit then.
    hold_at_limit: bool = True
    hold_after_notice_days: int = Field(default=1, ge=0, le=30)
    # The limit of a customer whose profile sets none, per currency (absent: no limit).
    default_limit: dict[str, Decimal] = Field(default_factory=dict)
    segments: dict[str, CreditSegment] = Field(default_factory=dict)
    # Raising a customer's limit to more than this needs a second person (four-eyes).
    four_eyes_above: dict[str, Decimal] = Field(default_factory=dict)
    # Unbilled charges are at partner cost; the markup prices them as the customer will be
    # billed: per offer (`productId:skuId` or `productId`) first, then the segment's, then this.
    markup_percent: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    offer_markup: dict[str, Decimal] = Field(default_factory=dict)
    # Monthly unit price per offer, per currency: seats added since the last invoice count at
    # this price until their own charge appears in the unbilled line items.
    seat_prices: dict[str, dict[str, Decimal]] = Field(default_factory=dict)

    @field_validator("default_limit", "four_eyes_above", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        return amounts_by_currency(value)

    @field_validator("alert_percent", "markup_percent", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _percent(value)

    @field_validator("offer_markup", mode="before")
    @classmethod
    def _offer_percents(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for offer, percent in value.items():
            if not _OFFER.match(str(offer)):
                raise ValueError(f"{offer!r} is not an offer id like CFQ7TTC0LF8S:0001")
            _percent(percent)
        return value

    @field_validator("offer_markup")
    @classmethod
    def _offer_range(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for offer, percent in value.items():
            if not Decimal(0) <= percent <= Decimal(1000):
                raise ValueError(f"offer_markup.{offer}: a percent from 0 to 1000")
        return value

    @field_validator("seat_prices", mode="before")
    @classmethod
    def _prices(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for offer, prices in value.items():
            if not _OFFER.match(str(offer)):
                raise ValueError(f"{offer!r} is not an offer id like CFQ7TTC0LF8S:0001")
            out[str(offer)] = amounts_by_currency(prices)
        return out

    @field_validator("segments")
    @classmethod
    def _segment_names(cls, value: dict[str, CreditSegment]) -> dict[str, CreditSegment]:
        for name in value:
            if not re.match(r"^[a-z0-9_-]{1,50}$", name):
                raise ValueError(f"segment name {name!r} must be lower-case letters, digits, _ or -")
        return value

    def segment_limit(self, segment: str, currency: str) -> Money | None:
        """The segment's default limit in `currency` (the `[credit]` default otherwise)."""
        own = self.segments.get(segment)
        limits = own.limit if own is not None and own.limit is not None else self.default_limit
        amount = limits.get(currency)
        return None if amount is None else Money(amount=amount, currency=currency)

    def holds_at_limit(self, segment: str) -> bool:
        own = self.segments.get(segment)
        return own.hold_at_limit if own is not None and own.hold_at_limit is not None else self.hold_at_limit

    def markup_for(self, segment: str, offer_id: str) -> Decimal:
        """The markup percent of one offer for a customer of `segment`."""
        if offer_id in self.offer_markup:
            return self.offer_markup[offer_id]
        product = offer_id.partition(":")[0]
        if product in self.offer_markup:
            return self.offer_markup[product]
        own = self.segments.get(segment)
        if own is not None and own.markup_percent is not None:
            return own.markup_percent
        return self.markup_percent

    def seat_price(self, offer_id: str, currency: str) -> Decimal | None:
        prices = self.seat_prices.get(offer_id) or self.seat_prices.get(offer_id.partition(":")[0]) or {}
        return prices.get(currency)

    def needs_second_person(self, old: Money | None, new: Money | None) -> bool:
        """Raising a limit (or removing it, which is unlimited credit) above `four_eyes_above`."""
        if new is None:
            return old is not None and bool(self.four_eyes_above)
        bar = self.four_eyes_above.get(new.currency)
        if bar is None or new.amount <= bar:
            return False
        return old is None or old.currency != new.currency or new.amount > old.amount


class UsageAnomalyRules(_Strict):
    """`[usage_anomaly]`: when a day's charges or seats open a fraud case (source `usage_anomaly`).

    A day's charges are an anomaly when they are at least `minimum_amount` AND either more than
    `factor` times the customer's median day over the `baseline_days` before (judged once
    `baseline_min_days` of them are known), or on a watched meter the customer never used before.
    Nothing below `minimum_amount` (or in a currency it does not list) ever opens a case. At
    `critical_factor` times the median the case is critical (triage suspends while investigating);
    otherwise it is `severity`.
    """

    enabled: bool = True
    factor: Decimal = Field(default=Decimal(5), ge=Decimal("1.5"), le=Decimal(1000))
    critical_factor: Decimal = Field(default=Decimal(20), ge=Decimal("1.5"), le=Decimal(100000))
    baseline_days: int = Field(default=30, ge=7, le=90)
    baseline_min_days: int = Field(default=7, ge=1, le=90)
    minimum_amount: dict[str, Decimal] = Field(default_factory=dict)
    severity: str = Field(default="high", pattern=r"^(low|medium|high|critical)$")
    # Meter categories or sub-categories (matched without case, as a part of the name) whose
    # first use is an anomaly by itself, above the minimum amount: GPU virtual machines.
    watched_meters: list[str] = Field(default_factory=lambda: ["GPU"], max_length=50)
    # Seats: `seat_minimum` or more seats added in a day, to at least `seat_factor` times the
    # count before (a new subscription counts from zero).
    seat_factor: Decimal = Field(default=Decimal(3), ge=Decimal("1.1"), le=Decimal(1000))
    seat_minimum: int = Field(default=50, ge=1, le=1_000_000)

    @field_validator("minimum_amount", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        return amounts_by_currency(value)

    @field_validator("factor", "critical_factor", "seat_factor", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('give a factor as an integer or a string like "2.5"')
        return value

    @model_validator(mode="after")
    def _consistent(self) -> UsageAnomalyRules:
        if self.baseline_min_days > self.baseline_days:
            raise ValueError("baseline_min_days cannot exceed baseline_days")
        if self.critical_factor < self.factor:
            raise ValueError("critical_factor cannot be below factor")
        return self
