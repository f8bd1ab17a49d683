"""Ledger use cases: customer profiles, invoices and payments. Each change re-evaluates the
customer in the SAME transaction (see `customer_change`) and reschedules its next review.

This module is also the one entry point of the ledger API for the HTTP layer: it re-exports the
customer view and the hold and exemption use cases.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.customers import CustomerAggregate
from shared.adapters.layout import PROFILE_ROW, invoice_row, payment_row
from shared.adapters.tables import Stored
from shared.domain.customer import CustomerId, CustomerProfile, StoredProfile
from shared.domain.ledger import (
    Invoice,
    InvoiceIn,
    InvoiceStatus,
    LedgerError,
    Payment,
    PaymentIn,
    check_currency,
    ledger_currency,
)
from shared.domain.money import DEFAULT_CURRENCY
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.services.collections.controls import (
    ExemptionIn,
    ManualHoldIn,
    add_exemption,
    lift_manual_hold,
    place_manual_hold,
)
from shared.services.collections.customer_change import (
    Mutation,
    Result,
    mutate_customer,
    stage_in_memory,
    valid_customer_id,
)
from shared.services.collections.customer_view import CustomerView, audit_trail, customer_view

__all__ = [
    "CustomerView",
    "ExemptionIn",
    "InvoicePatch",
    "ManualHoldIn",
    "Mutation",
    "Result",
    "add_exemption",
    "audit_trail",
    "customer_view",
    "lift_manual_hold",
    "patch_invoice",
    "place_manual_hold",
    "post_invoice",
    "post_payment",
    "put_customer",
    "stage_invoice",
    "stage_payment",
]

# --- customers --------------------------------------------------------------------------------


def put_customer(customer_id: str, profile: CustomerProfile, actor: str, correlation_id: str) -> Result:
    """Create (201) or replace (200) a customer's profile; re-evaluates (protected, segment)."""
    customer_id = valid_customer_id(customer_id)
    created = [False]

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        existing = agg.profile
        created[0] = existing is None
        created_at = existing.value.created_at if existing else now
        stored = StoredProfile(
            **profile.model_dump(), customer_id=customer_id, created_at=created_at, updated_at=now
        )
        if profile.credit_limit is not None and (agg.invoices or agg.payments):
            currency = ledger_currency(
                [s.value for s in agg.invoices.values()], [s.value for s in agg.payments.values()], "CNY"
            )
            if profile.credit_limit.currency != currency:
                raise ValidationFailed(
                    f"credit_limit is in {profile.credit_limit.currency}; the ledger is {currency}"
                )
        if existing is not None and existing.value.model_dump(exclude={"created_at", "updated_at"}) == (
            stored.model_dump(exclude={"created_at", "updated_at"})
        ):
            return Mutation(replay=True)
        mutation = Mutation(
            rows=[(stored, PROFILE_ROW, existing.etag if existing else None)],
            entries=[
                ("customer.profile_saved", "profile created" if existing is None else "profile updated", {})
            ],
        )
        stage_in_memory(stored, agg)
        return mutation

    def respond(agg: CustomerAggregate, m: Mutation) -> Result:
        return Result(201 if created[0] else 200, customer_view(customer_id))

    return mutate_customer(
        customer_id, prepare, respond, actor=actor, correlation_id=correlation_id, require_customer=False
    )


# --- invoices and payments --------------------------------------------------------------------


def _ledger_currency(agg: CustomerAggregate, entry: InvoiceIn | PaymentIn) -> str:
    """The currency this customer's ledger is in: that of its entries; for an empty ledger, that
    of the profile's credit limit, else the first entry's own (so a USD customer needs no setup)."""
    default = entry.amount.currency or DEFAULT_CURRENCY
    if agg.profile is not None and agg.profile.value.credit_limit is not None:
        default = agg.profile.value.credit_limit.currency
    return ledger_currency(
        [s.value for s in agg.invoices.values()], [s.value for s in agg.payments.values()], default
    )


def stage_invoice(agg: CustomerAggregate, body: InvoiceIn, now: datetime) -> tuple[Invoice, bool]:
    """Validate one invoice against the customer; (stored invoice, is new). Raises Conflict/422."""
    existing = agg.invoices.get(body.invoice_id)
    if existing is not None:
        if not existing.value.same_content(body):
            raise Conflict(f"invoice {body.invoice_id} exists with different content")
        return existing.value, False
    try:
        check_currency(body, _ledger_currency(agg, body))
    except LedgerError as exc:
        raise ValidationFailed(str(exc), errors=[{"field": "amount.currency", "message": str(exc)}]) from None
    invoice = Invoice(**body.model_dump(), created_at=now, updated_at=now)
    stage_in_memory(invoice, agg)
    return invoice, True


def stage_payment(agg: CustomerAggregate, body: PaymentIn, now: datetime) -> tuple[Payment, bool]:
    """Validate one payment against the customer; (stored payment, is new). Raises Conflict/422."""
    existing = agg.payments.get(body.payment_id)
    if existing is not None:
        if not existing.value.same_content(body):
            raise Conflict(f"payment {body.payment_id} exists with different content")
        return existing.value, False
    try:
        check_currency(body, _ledger_currency(agg, body))
    except LedgerError as exc:
        raise Conflict(str(exc), errors=[{"field": "amount.currency", "message": str(exc)}]) from None
    for invoice_id in body.invoice_ids or []:
        invoice = agg.invoices.get(invoice_id)
        if invoice is None:
            raise ValidationFailed(
                f"payment names invoice {invoice_id}, which this customer does not have",
                errors=[{"field": "invoice_ids", "message": f"unknown invoice {invoice_id}"}],
            )
        if invoice.value.amount.currency != body.amount.currency:
            message = (
                f"invoice {invoice_id} is in {invoice.value.amount.currency}; "
                f"a payment in {body.amount.currency} cannot pay it"
            )
            raise Conflict(message, errors=[{"field": "amount.currency", "message": message}])
    payment = Payment(**body.model_dump(), created_at=now)
    stage_in_memory(payment, agg)
    return payment, True


def post_invoice(body: InvoiceIn, actor: str, correlation_id: str) -> Result:
    """201 new, 200 same content as stored, 409 different content."""
    holder: list[Invoice] = []

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        invoice, new = stage_invoice(agg, body, now)
        holder[:] = [invoice]
        if not new:
            return Mutation(replay=True)
        return Mutation(
            rows=[(invoice, invoice_row(invoice.invoice_id), None)],
            entries=[
                (
                    "ledger.invoice_added",
                    f"invoice {invoice.number} {invoice.amount}",
                    {"id": invoice.invoice_id},
                )
            ],
        )

    return mutate_customer(
        body.customer_id,
        prepare,
        lambda agg, m: Result(200 if m.replay else 201, holder[0]),
        actor=actor,
        correlation_id=correlation_id,
    )


class InvoicePatch(BaseModel):
    """`PATCH /api/invoices/{invoice_id}`: the customer id is in the body (the partition key)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId
    status: InvoiceStatus
    reason: str = Field(default="", max_length=2000)


def patch_invoice(invoice_id: str, body: InvoicePatch, actor: str, correlation_id: str) -> Result:
    """Set an invoice's status (open, disputed, void); a void or dispute may reinstate at once."""
    holder: list[Invoice] = []

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        stored = agg.invoices.get(invoice_id)
        if stored is None:
            raise NotFound(f"customer {body.customer_id} has no invoice {invoice_id}")
        if stored.value.status is body.status:
            holder[:] = [stored.value]
            return Mutation(replay=True)
        invoice = stored.value.model_copy(update={"status": body.status, "updated_at": now})
        holder[:] = [invoice]
        agg.invoices[invoice_id] = Stored(invoice, agg.customer_id, stored.row_key, stored.etag)
        reason = f"invoice {invoice.number}: {stored.value.status.value} -> {body.status.value}"
        return Mutation(
            rows=[(invoice, invoice_row(invoice_id), stored.etag)],
            entries=[("ledger.invoice_status", (reason + ". " + body.reason).strip(), {"id": invoice_id})],
        )

    return mutate_customer(
        body.customer_id,
        prepare,
        lambda agg, m: Result(200, holder[0]),
        actor=actor,
        correlation_id=correlation_id,
    )


def post_payment(body: PaymentIn, actor: str, correlation_id: str) -> Result:
    """201 new, 200 same content as stored, 409 different content or another currency."""
    holder: list[Payment] = []

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        payment, new = stage_payment(agg, body, now)
        holder[:] = [payment]
        if not new:
            return Mutation(replay=True)
        return Mutation(
            rows=[(payment, payment_row(payment.payment_id), None)],
            entries=[("ledger.payment_added", f"payment {payment.amount}", {"id": payment.payment_id})],
        )

    return mutate_customer(
        body.customer_id,
        prepare,
        lambda agg, m: Result(200 if m.replay else 201, holder[0]),
        actor=actor,
        correlation_id=correlation_id,
    )
