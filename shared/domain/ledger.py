"""The customer's ledger: invoices, payments, and how payments are applied to invoices (pure).

Allocation is recomputed from all of a customer's invoices and payments every time, never kept
as running totals, so a void, a dispute or a late-arriving invoice cannot leave the books out of
balance. The rules:
- payments are applied in the order they were received (then by payment id);
- a payment first pays the invoices it names (open or disputed, in the order named), then the
  oldest open invoices (by due date, issue date, invoice id);
- what is left of a payment is credit, and credit pays invoices that arrive later, because the
  next recomputation simply finds them open (an opening credit is treated like a payment received
  before everything else);
- void invoices are never paid; money applied to an invoice that is later voided goes back to
  the pool and pays other invoices or becomes credit.
One ledger has one currency: an invoice or payment in another currency is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.domain.collections import InvoiceRef, LedgerSummary
from shared.domain.customer import CustomerId
from shared.domain.money import Money
from shared.domain.text import SingleLineText, with_article

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
ZERO = Decimal(0)
# Calendar dates the ledger accepts: the evaluation adds stage days (up to ten years) and converts
# local midnights to UTC, which a date near year 1 or 9999 would overflow.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)


class InvoiceStatus(StrEnum):
    OPEN = "open"
    DISPUTED = "disputed"
    VOID = "void"


class LedgerError(ValueError):
    """A ledger entry that cannot be accepted (e.g. another currency than the ledger's)."""


def _positive(value: Money) -> Money:
    if value.amount <= 0:
        raise ValueError("amount must be greater than zero")
    return value


class InvoiceIn(BaseModel):
    """An invoice as the billing system sends it (`POST /api/invoices`, one CSV row)."""

    model_config = ConfigDict(extra="forbid")

    invoice_id: str = Field(pattern=EXTERNAL_ID_PATTERN, description="The billing system's id.")
    customer_id: CustomerId
    number: SingleLineText = Field(
        min_length=1, max_length=100, description="Invoice number printed for the customer."
    )
    amount: Money
    issued_on: date = Field(ge=EARLIEST_DATE, le=LATEST_DATE)
    due_date: date = Field(ge=EARLIEST_DATE, le=LATEST_DATE)
    status: InvoiceStatus = InvoiceStatus.OPEN

    _amount_positive = field_validator("amount")(_positive)

    @model_validator(mode="after")
    def _due_after_issue(self) -> InvoiceIn:
        if self.due_date < self.issued_on:
            raise ValueError("due_date is before issued_on")
        return self

    def same_content(self, other: InvoiceIn) -> bool:
        """Idempotency: equal apart from `status` (which `PATCH` changes after the first post)."""
        return not self.differing_fields(other)

    def differing_fields(self, other: InvoiceIn) -> list[str]:
        """The fields (apart from `status`) whose values differ from `other`'s, in field order."""
        keys = [k for k in InvoiceIn.model_fields if k != "status"]
        mine, theirs = self.model_dump(include=set(keys)), other.model_dump(include=set(keys))
        return [k for k in keys if mine[k] != theirs[k]]


class Invoice(InvoiceIn):
    """An invoice as stored in row `inv:{invoice_id}`."""

    model_config = ConfigDict(extra="ignore")

    created_at: datetime
    updated_at: datetime


class PaymentIn(BaseModel):
    """A payment as the billing system sends it (`POST /api/payments`, one CSV row)."""

    model_config = ConfigDict(extra="forbid")

    payment_id: str = Field(pattern=EXTERNAL_ID_PATTERN, description="The payment system's id.")
    customer_id: CustomerId
    amount: Money
    received_at: datetime
    invoice_ids: list[str] | None = Field(
        default=None, max_length=50, description="Invoices this payment is for; oldest first if absent."
    )
    reference: SingleLineText | None = Field(default=None, max_length=200)

    _amount_positive = field_validator("amount")(_positive)

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("received_at needs a time zone (e.g. 2026-01-31T10:00:00+08:00)")
        if not EARLIEST_DATE.year <= value.year <= LATEST_DATE.year:
            # Table storage keeps instants from 1601 only; no payment is that old or that far ahead.
            raise ValueError(f"received_at must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}")
        return value

    def same_content(self, other: PaymentIn) -> bool:
        """Idempotency: every field equal (instants compared as instants)."""
        return not self.differing_fields(other)

    def differing_fields(self, other: PaymentIn) -> list[str]:
        """The fields whose values differ from `other`'s, in field order."""
        keys = list(PaymentIn.model_fields)
        mine, theirs = self.model_dump(include=set(keys)), other.model_dump(include=set(keys))
        return [k for k in keys if mine[k] != theirs[k]]


class Payment(PaymentIn):
    """A payment as stored in row `pay:{payment_id}`."""

    model_config = ConfigDict(extra="ignore")

    created_at: datetime


@dataclass(frozen=True)
class Allocation:
    """How the ledger's money is applied: per invoice, per payment, and what is left as credit."""

    currency: str
    paid: dict[str, Decimal]  # invoice id -> amount applied (every non-void invoice listed)
    by_payment: dict[str, dict[str, Decimal]]  # payment id -> invoice id -> amount
    credit: Decimal  # money received and not applied to any invoice

    def due(self, invoice: Invoice) -> Decimal:
        """What is still owed on one invoice (zero for void)."""
        if invoice.status is InvoiceStatus.VOID:
            return ZERO
        return invoice.amount.amount - self.paid.get(invoice.invoice_id, ZERO)


def ledger_currency(invoices: Iterable[InvoiceIn], payments: Iterable[PaymentIn], default: str) -> str:
    """The one currency of a ledger: that of its entries, or `default` when it has none."""
    currencies = {i.amount.currency for i in invoices} | {p.amount.currency for p in payments}
    if len(currencies) > 1:
        raise LedgerError(f"a ledger holds one currency, found {sorted(currencies)}")
    return currencies.pop() if currencies else default


def check_currency(entry: InvoiceIn | PaymentIn, currency: str) -> None:
    """Refuse an entry in another currency than the ledger's."""
    if entry.amount.currency != currency:
        kind = "invoice" if isinstance(entry, InvoiceIn) else "payment"
        raise LedgerError(
            f"this customer's ledger is in {currency}; {with_article(kind)} in {entry.amount.currency} "
            "is refused"
        )


def _invoice_order(invoice: Invoice) -> tuple[date, date, str]:
    return (invoice.due_date, invoice.issued_on, invoice.invoice_id)


def allocate(
    invoices: Sequence[Invoice],
    payments: Sequence[Payment],
    opening_credit: Money | None = None,
    currency: str | None = None,
) -> Allocation:
    """Apply every payment (and the opening credit) to the invoices by the rules above."""
    cur = currency or ledger_currency(
        invoices, payments, opening_credit.currency if opening_credit else "CNY"
    )
    entries: list[InvoiceIn | PaymentIn] = [*invoices, *payments]
    for entry in entries:
        check_currency(entry, cur)
    if opening_credit is not None and opening_credit.currency != cur:
        raise LedgerError(f"opening credit in {opening_credit.currency}, ledger in {cur}")
    by_id = {i.invoice_id: i for i in invoices}
    payable = [i for i in sorted(invoices, key=_invoice_order) if i.status is not InvoiceStatus.VOID]
    remaining = {i.invoice_id: i.amount.amount for i in payable}
    by_payment: dict[str, dict[str, Decimal]] = {}
    credit = ZERO

    def apply(pool: Decimal, targets: Iterable[str], split: dict[str, Decimal]) -> Decimal:
        for invoice_id in targets:
            if pool <= 0:
                break
            owed = remaining.get(invoice_id, ZERO)
            if owed <= 0:
                continue
            part = min(pool, owed)
            remaining[invoice_id] = owed - part
            split[invoice_id] = split.get(invoice_id, ZERO) + part
            pool -= part
        return pool

    oldest_open = [i.invoice_id for i in payable if i.status is InvoiceStatus.OPEN]
    if opening_credit is not None and opening_credit.amount > 0:
        credit += apply(opening_credit.amount, oldest_open, {})
    for payment in sorted(payments, key=lambda p: (p.received_at, p.payment_id)):
        split: dict[str, Decimal] = {}
        named = [n for n in payment.invoice_ids or [] if n in by_id]
        pool = apply(payment.amount.amount, named, split)
        pool = apply(pool, oldest_open, split)
        by_payment[payment.payment_id] = split
        credit += pool
    paid = {i.invoice_id: i.amount.amount - remaining[i.invoice_id] for i in payable}
    return Allocation(currency=cur, paid=paid, by_payment=by_payment, credit=credit)


@dataclass(frozen=True)
class UnpaidInvoice:
    """One invoice with money still owed on it."""

    invoice: Invoice
    outstanding: Money
    overdue: bool  # open, and its due date has passed


@dataclass(frozen=True)
class LedgerTotals:
    """The figures a summary is made of (the policy's `LedgerSummary` is built from these)."""

    currency: str
    balance: Money  # owed on open invoices, minus nothing (credit is kept apart)
    overdue_balance: Money  # owed on open invoices past their due date
    disputed_balance: Money
    credit: Money
    oldest_unpaid_due_date: date | None  # earliest due date of an open invoice with money owed
    unpaid: list[UnpaidInvoice]


def totals(allocation: Allocation, invoices: Sequence[Invoice], today: date) -> LedgerTotals:
    """Balances as of `today` (the partner's local date). Disputed and void are never overdue."""
    cur = allocation.currency
    balance = overdue = disputed = ZERO
    unpaid: list[UnpaidInvoice] = []
    oldest: date | None = None
    for invoice in sorted(invoices, key=_invoice_order):
        owed = allocation.due(invoice)
        if owed <= 0:
            continue
        if invoice.status is InvoiceStatus.DISPUTED:
            disputed += owed
            unpaid.append(UnpaidInvoice(invoice, Money(amount=owed, currency=cur), overdue=False))
            continue
        is_overdue = invoice.due_date < today
        balance += owed
        if is_overdue:
            overdue += owed
        if oldest is None or invoice.due_date < oldest:
            oldest = invoice.due_date
        unpaid.append(UnpaidInvoice(invoice, Money(amount=owed, currency=cur), overdue=is_overdue))
    return LedgerTotals(
        currency=cur,
        balance=Money(amount=balance, currency=cur),
        overdue_balance=Money(amount=overdue, currency=cur),
        disputed_balance=Money(amount=disputed, currency=cur),
        credit=Money(amount=allocation.credit, currency=cur),
        oldest_unpaid_due_date=oldest,
        unpaid=unpaid,
    )


def summarise(
    invoices: Sequence[Invoice], payments: Sequence[Payment], credit: Money | None, today: date
) -> LedgerSummary:
    """The evaluation's view of the ledger on `today` (local date in the policy's time zone)."""
    allocation = allocate(invoices, payments, opening_credit=credit)
    figures = totals(allocation, invoices, today)
    cur = figures.currency
    overdue_refs = [
        InvoiceRef(
            invoice_id=u.invoice.invoice_id,
            number=u.invoice.number,
            amount_due=u.outstanding,
            due_date=u.invoice.due_date,
        )
        for u in figures.unpaid
        if u.overdue
    ]
    upcoming = [
        u.invoice.due_date
        for u in figures.unpaid
        if not u.overdue and u.invoice.status is InvoiceStatus.OPEN and u.invoice.due_date >= today
    ]
    return LedgerSummary(
        currency=cur,
        overdue_balance=figures.overdue_balance,
        open_balance=figures.balance,
        credit_balance=figures.credit,
        earliest_unpaid_due_date=figures.oldest_unpaid_due_date,
        overdue_invoices=overdue_refs,
        next_due_date=min(upcoming, default=None),
    )
