"""Exposure: what a customer is running up, in its ledger's currency (pure; no I/O).

exposure = unpaid ledger balance (overdue + not yet due) - unapplied credit
         + unbilled charges of the current period, priced with the policy's markup
         + seats added since the last invoice whose charge has not appeared yet, at the policy's
           seat price.
Every sum is exact (`Decimal`); a part is rounded once, half up, to the currency's minor units.
Charges in another currency than the ledger's are not added: they are listed in `excluded`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, Field

from shared.domain.collections_models import LedgerSummary
from shared.domain.credit_policy import CreditRules
from shared.domain.money import Money, minor_units

MAX_LINES = 40


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half up to the currency's minor units (the one rounding of exposure)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=to_minor(amount, currency), currency=currency)


@dataclass
class ChargeTally:
    """The current period's unbilled charges of one customer, as the refresh added them up
    (exact, at partner cost): per currency and offer, and the last charge day per subscription."""

    costs: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (currency, offer) -> cost
    charged_on: dict[str, date] = field(default_factory=dict)  # subscription -> latest charge day
    items: int = 0

    def add(
        self, currency: str, offer_id: str, amount: Decimal, subscription_id: str | None, day: date | None
    ) -> None:
        key = (currency, offer_id)
        self.costs[key] = self.costs.get(key, Decimal(0)) + amount
        self.items += 1
        if subscription_id and day is not None:
            known = self.charged_on.get(subscription_id)
            if known is None or day > known:
                self.charged_on[subscription_id] = day


class SeatChange(BaseModel):
    """Seats a listing showed added to a subscription (a new subscription: from zero)."""

    subscription_id: str
    offer_id: str
    added: int = Field(ge=1)
    on: date


class OfferLine(BaseModel):
    """One offer's unbilled charges: the cost, the markup applied and the priced amount."""

    offer_id: str
    cost: Money
    markup_percent: Decimal
    priced: Money


class SeatLine(BaseModel):
    subscription_id: str
    offer_id: str
    added: int
    on: date
    unit_price: Money | None  # None: the policy names no seat price for this offer
    value: Money
    covered: bool = False  # its charge appeared in the unbilled line items: counted there


class Exposure(BaseModel):
    """Row `exposure` of the customer partition: the parts, the total and when they were read."""

    currency: str
    overdue: Money
    not_yet_due: Money
    credit: Money  # unapplied payments (subtracted)
    unbilled_cost: Money
    unbilled: Money  # priced with the markup
    seats_added: Money
    total: Money
    offers: list[OfferLine] = Field(default_factory=list)
    seats: list[SeatLine] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list)
    as_of: datetime
    unbilled_as_of: datetime | None = None
    line_items: int = 0

    def same_figures(self, other: Exposure | None) -> bool:
        """Whether `other` says the same (only the times may differ)."""
        if other is None:
            return False
        skip = {"as_of", "unbilled_as_of"}
        return self.model_dump(exclude=skip) == other.model_dump(exclude=skip)


def compute_exposure(
    ledger: LedgerSummary,
    tally: ChargeTally,
    seat_changes: list[SeatChange],
    rules: CreditRules,
    segment: str,
    last_invoice_on: date | None,
    *,
    now: datetime,
    unbilled_as_of: datetime | None,
) -> Exposure:
    """The exposure of one customer. Pure."""
    currency = ledger.currency
    excluded: list[str] = []
    offers: list[OfferLine] = []
    cost_total = Decimal(0)
    priced_total = Decimal(0)
    other: dict[str, Decimal] = {}
    for (line_currency, offer_id), cost in sorted(tally.costs.items()):
        if line_currency != currency:
            other[line_currency] = other.get(line_currency, Decimal(0)) + cost
            continue
        percent = rules.markup_for(segment, offer_id)
        priced = cost * (Decimal(100) + percent) / Decimal(100)
        cost_total += cost
        priced_total += to_minor(priced, currency)
        offers.append(
            OfferLine(
                offer_id=offer_id,
                cost=_money(cost, currency),
                markup_percent=percent,
                priced=_money(priced, currency),
            )
        )
    for line_currency, cost in sorted(other.items()):
        excluded.append(
            f"unbilled charges of {cost.normalize():f} {line_currency} are not added: "
            f"this ledger is in {currency}"
        )
    seats: list[SeatLine] = []
    seat_total = Decimal(0)
    for change in seat_changes:
        if last_invoice_on is not None and change.on <= last_invoice_on:
            continue  # invoiced since: the ledger counts it
        unit = rules.seat_price(change.offer_id, currency)
        charged = tally.charged_on.get(change.subscription_id)
        covered = charged is not None and charged >= change.on
        value = Decimal(0) if unit is None or covered else unit * change.added
        seat_total += value
        seats.append(
            SeatLine(
                subscription_id=change.subscription_id,
                offer_id=change.offer_id,
                added=change.added,
                on=change.on,
                unit_price=_money(unit, currency) if unit is not None else None,
                value=_money(value, currency),
                covered=covered,
            )
        )
        if unit is None and not covered:
            excluded.append(f"{change.added} seats of {change.offer_id} added on {change.on}: no seat price")
    overdue = ledger.overdue_balance.amount
    not_yet_due = ledger.open_balance.amount - overdue
    credit = ledger.credit_balance.amount
    unbilled = to_minor(priced_total, currency)
    seats_value = to_minor(seat_total, currency)
    total = overdue + not_yet_due - credit + unbilled + seats_value
    offers.sort(key=lambda line: line.priced.amount, reverse=True)
    return Exposure(
        currency=currency,
        overdue=_money(overdue, currency),
        not_yet_due=_money(not_yet_due, currency),
        credit=_money(credit, currency),
        unbilled_cost=_money(cost_total, currency),
        unbilled=_money(unbilled, currency),
        seats_added=_money(seats_value, currency),
        total=_money(total, currency),
        offers=offers[:MAX_LINES],
        seats=seats[:MAX_LINES],
        excluded=excluded[:MAX_LINES],
        as_of=now,
        unbilled_as_of=unbilled_as_of,
        line_items=tally.items,
    )


def seat_changes_between(
    before: dict[str, int], after: dict[str, tuple[str, int]], on: date
) -> list[SeatChange]:
    """Seats added between two listings: `before` is subscription -> quantity, `after` is
    subscription -> (offer, quantity). A subscription not in `before` is new (from zero)."""
    changes = []
    for subscription_id, (offer_id, quantity) in sorted(after.items()):
        added = quantity - before.get(subscription_id, 0)
        if added > 0:
            changes.append(SeatChange(subscription_id=subscription_id, offer_id=offer_id, added=added, on=on))
    return changes
