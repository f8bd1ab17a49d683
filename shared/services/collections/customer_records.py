"""What the console's customer page lists beside the customer view: the invoices with what is
paid on each, the payments with what they paid, and the notices with their delivery."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from shared.domain.ledger import allocate
from shared.errors import NotFound
from shared.services.collections.customer_view import valid_customer_id
from shared.services.collections.deps import CollectionsDeps


class InvoiceLine(BaseModel):
    invoice_id: str
    number: str
    amount: str
    paid: str
    due_date: date
    status: str


class PaymentLine(BaseModel):
    payment_id: str
    amount: str
    received_at: datetime
    paid: dict[str, str]  # invoice number -> amount applied


class NoticeLine(BaseModel):
    stage: str
    created_at: datetime
    delivered: bool
    delivered_at: datetime | None
    attempts: int
    last_error: str | None


class CustomerRecords(BaseModel):
    invoices: list[InvoiceLine]
    payments: list[PaymentLine]
    notices: list[NoticeLine]


def customer_records(deps: CollectionsDeps, customer_id: str) -> CustomerRecords:
    """The customer's invoices, payments and notices (one partition read, no writes)."""
    customer_id = valid_customer_id(customer_id)
    aggregate = deps.customers.load(customer_id)
    if aggregate.profile is None:
        raise NotFound(f"customer {customer_id} is unknown")
    invoices = sorted(
        (s.value for s in aggregate.invoices.values()), key=lambda i: (i.due_date, i.invoice_id)
    )
    payments = sorted((s.value for s in aggregate.payments.values()), key=lambda p: p.received_at)
    currency = (
        invoices[0].amount.currency if invoices else (payments[0].amount.currency if payments else "CNY")
    )
    paid: dict[str, object] = {}
    by_payment: dict[str, dict[str, object]] = {}
    if len({i.amount.currency for i in invoices} | {p.amount.currency for p in payments}) <= 1:
        allocation = allocate(invoices, payments)
        paid, by_payment = dict(allocation.paid), {k: dict(v) for k, v in allocation.by_payment.items()}
    numbers = {i.invoice_id: i.number for i in invoices}
    return CustomerRecords(
        invoices=[
            InvoiceLine(
                invoice_id=i.invoice_id,
                number=i.number,
                amount=f"{i.amount.amount:.2f} {i.amount.currency}",
                paid=f"{paid.get(i.invoice_id, 0):.2f} {i.amount.currency}",
                due_date=i.due_date,
                status=i.status.value,
            )
            for i in invoices
        ],
        payments=[
            PaymentLine(
                payment_id=p.payment_id,
                amount=f"{p.amount.amount:.2f} {p.amount.currency}",
                received_at=p.received_at,
                paid={
                    numbers.get(k, k): f"{v:.2f} {currency}"
                    for k, v in by_payment.get(p.payment_id, {}).items()
                    if v
                },
            )
            for p in payments
        ],
        notices=[
            NoticeLine(
                stage=n.value.stage,
                created_at=n.value.created_at,
                delivered=n.value.delivered,
                delivered_at=n.value.delivered_at,
                attempts=n.value.attempts,
                last_error=n.value.last_error,
            )
            for n in sorted(aggregate.notices.values(), key=lambda s: s.value.created_at)
        ],
    )
