"""Ledger use cases: customer profiles, invoices and payments. Each change re-evaluates the
customer in the SAME transaction (see `customer_change`) and reschedules its next review."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.customers import CustomerAggregate
from shared.adapters.layout import PROFILE_ROW, invoice_row, payment_row
from shared.adapters.tables import Stored
from shared.domain.changes import PROTECTED_TEXTS, ChangeKind, PendingChange, credit_limit_texts
from shared.domain.customer import CustomerId, CustomerProfile, StoredProfile
from shared.domain.identity import Actor
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
from shared.domain.money import DEFAULT_CURRENCY, Money
from shared.domain.text import MultiLineText
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.services.collections import feed
from shared.services.collections.customer_change import (
    AuditNote,
    Mutation,
    RowWrite,
    mutate_customer,
    stage_in_memory,
)
from shared.services.collections.customer_view import CustomerView, customer_view, valid_customer_id
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.pending import ask
from shared.services.outcomes import Effect, Written

# A payment dated later than now by more than this is refused: clocks differ a little, but money
# not yet received must not clear a balance (and lift a hold) today.
PAYMENT_CLOCK_SKEW = timedelta(minutes=5)

# --- customers --------------------------------------------------------------------------------


class ProfileAccepted(BaseModel):
    """The answer to a profile that asked for the protected flag, or a credit limit above the
    policy's amount, under four-eyes: the rest of the profile as saved (those unchanged), and the
    change waiting for a second person (`pending_changes`: each, when both were asked)."""

    customer: CustomerView
    pending_change: PendingChange
    pending_changes: list[PendingChange] = []


def put_customer(
    deps: CollectionsDeps, customer_id: str, profile: CustomerProfile, *, actor: Actor, correlation_id: str
) -> Written[CustomerView] | Written[ProfileAccepted]:
    """Create or replace a customer's profile; re-evaluates (protected, segment). Marking a
    customer protected waits for a second person when the policy says so (pending): the rest of
    the profile is saved at once."""
    customer_id = valid_customer_id(customer_id)
    policy = deps.policy_for_request()
    asks_protection = profile.protected and policy.four_eyes.mark_protected
    kept_flag: dict[str, bool] = {}
    kept_limit: dict[str, str | None] = {}

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[None]:
        existing = agg.profile
        wanted = profile
        kept_flag.clear()
        kept_limit.clear()
        if asks_protection and not (existing is not None and existing.value.protected):
            wanted = wanted.model_copy(update={"protected": False})
            kept_flag["asked"] = True
        old_limit = existing.value.credit_limit if existing is not None else None
        if old_limit != profile.credit_limit and policy.credit.needs_second_person(
            old_limit, profile.credit_limit
        ):
            wanted = wanted.model_copy(update={"credit_limit": old_limit})
            kept_limit["old"] = old_limit.to_text() if old_limit else None
            kept_limit["new"] = profile.credit_limit.to_text() if profile.credit_limit else None
        return _profile_mutation(agg, customer_id, wanted, now)

    written = mutate_customer(
        deps, customer_id, prepare, actor=actor, correlation_id=correlation_id, require_customer=False
    )
    view = customer_view(deps, customer_id)
    if not kept_flag and not kept_limit:
        return Written(view, written.effect)
    asked: list[PendingChange] = []
    if kept_flag:
        summary, why = PROTECTED_TEXTS
        asked.append(
            ask(
                deps,
                ChangeKind.MARK_PROTECTED,
                actor=actor,
                policy=policy,
                summary=summary,
                why=why,
                correlation_id=correlation_id,
                customer_id=customer_id,
                payload={"protected": True},
            )
        )
    if kept_limit:
        summary, why = credit_limit_texts(kept_limit["old"], kept_limit["new"])
        asked.append(
            ask(
                deps,
                ChangeKind.RAISE_CREDIT_LIMIT,
                actor=actor,
                policy=policy,
                summary=summary,
                why=why,
                correlation_id=correlation_id,
                customer_id=customer_id,
                payload={"credit_limit": kept_limit["new"]},
            )
        )
    accepted = ProfileAccepted(
        customer=customer_view(deps, customer_id), pending_change=asked[0], pending_changes=asked
    )
    return Written(accepted, Effect.PENDING)


def _profile_mutation(
    agg: CustomerAggregate, customer_id: str, profile: CustomerProfile, now: datetime
) -> Mutation[None]:
    existing = agg.profile
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
        return Mutation(None, Effect.UNCHANGED)
    stage_in_memory(stored, agg)
    return Mutation(
        None,
        Effect.CREATED if existing is None else Effect.UPDATED,
        rows=[RowWrite(stored, PROFILE_ROW, existing.etag if existing else None)],
        notes=[
            AuditNote("customer.profile_saved", "profile created" if existing is None else "profile updated")
        ],
    )


def mark_protected(
    deps: CollectionsDeps, change: PendingChange, *, actor: Actor, correlation_id: str
) -> Written[None]:
    """Carry out an approved `mark_protected` change (unchanged when the customer is already)."""
    assert change.customer_id is not None

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[None]:
        if agg.profile is None:
            raise NotFound(f"customer {change.customer_id} is unknown")
        if agg.profile.value.protected:
            return Mutation(None, Effect.UNCHANGED)
        etag = agg.profile.etag
        profile = agg.profile.value.model_copy(update={"protected": True, "updated_at": now})
        stage_in_memory(profile, agg)
        details = {"change_id": change.change_id, "requested_by": change.requested_by.model_dump(mode="json")}
        return Mutation(
            None,
            Effect.UPDATED,
            rows=[RowWrite(profile, PROFILE_ROW, etag)],
            notes=[AuditNote("customer.protected", f"marked protected (change {change.change_id})", details)],
        )

    return mutate_customer(deps, change.customer_id, prepare, actor=actor, correlation_id=correlation_id)


def set_credit_limit(
    deps: CollectionsDeps, change: PendingChange, *, actor: Actor, correlation_id: str
) -> Written[None]:
    """Carry out an approved `raise_credit_limit` change: the profile's limit becomes the one
    asked for (a held customer under the new limit is released in the same transaction)."""
    assert change.customer_id is not None
    raw = change.payload.get("credit_limit")
    limit = Money.model_validate(raw) if raw is not None else None

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[None]:
        if agg.profile is None:
            raise NotFound(f"customer {change.customer_id} is unknown")
        if agg.profile.value.credit_limit == limit:
            return Mutation(None, Effect.UNCHANGED)
        current = agg.profile.value.model_dump(exclude={"customer_id", "created_at", "updated_at"})
        wanted = CustomerProfile.model_validate({**current, "credit_limit": limit})
        mutation = _profile_mutation(agg, change.customer_id or "", wanted, now)
        details = {"change_id": change.change_id, "credit_limit": raw}
        mutation.notes.append(
            AuditNote("customer.credit_limit_set", f"credit limit set (change {change.change_id})", details)
        )
        return mutation

    return mutate_customer(deps, change.customer_id, prepare, actor=actor, correlation_id=correlation_id)


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


def _different(kind: str, entry_id: str, fields: list[str]) -> Conflict:
    """A second post of an id with other content: which fields differ, in both languages."""
    names = ", ".join(fields)
    kind_zh = {"invoice": "账单", "payment": "付款"}[kind]
    return Conflict(
        f"{kind} {entry_id} was already posted with a different {names}: send the same values to "
        f"repeat the post, or a new {kind}_id for another {kind}",
        errors=[{"field": f, "message": "differs from the stored value"} for f in fields],
        localized={
            "en": f"{kind} {entry_id} was already posted with a different {names}",
            "zh-CN": f"{kind_zh} {entry_id} 已提交过，但以下字段不同：{names}。重复提交请发送相同的值，"
            f"另一笔{kind_zh}请使用新的 {kind}_id",
        },
        members={"differing_fields": fields},
    )


def stage_invoice(agg: CustomerAggregate, body: InvoiceIn, now: datetime) -> tuple[Invoice, bool]:
    """Validate one invoice against the customer; (stored invoice, is new); Conflict or
    ValidationFailed otherwise."""
    existing = agg.invoices.get(body.invoice_id)
    if existing is not None:
        if not existing.value.same_content(body):
            raise _different("invoice", body.invoice_id, existing.value.differing_fields(body))
        return existing.value, False
    try:
        check_currency(body, _ledger_currency(agg, body))
    except LedgerError as exc:
        raise ValidationFailed(str(exc), errors=[{"field": "amount.currency", "message": str(exc)}]) from None
    invoice = Invoice(**body.model_dump(), created_at=now, updated_at=now)
    stage_in_memory(invoice, agg)
    return invoice, True


def stage_payment(agg: CustomerAggregate, body: PaymentIn, now: datetime) -> tuple[Payment, bool]:
    """Validate one payment against the customer; (stored payment, is new); Conflict or
    ValidationFailed otherwise."""
    existing = agg.payments.get(body.payment_id)
    if existing is not None:
        if not existing.value.same_content(body):
            raise _different("payment", body.payment_id, existing.value.differing_fields(body))
        return existing.value, False
    if body.received_at > now + PAYMENT_CLOCK_SKEW:
        message = (
            f"received_at {body.received_at.isoformat()} is in the future: a payment counts once it "
            f"is received (at most {int(PAYMENT_CLOCK_SKEW.total_seconds() // 60)} minutes of clock "
            "skew are tolerated)"
        )
        raise ValidationFailed(message, errors=[{"field": "received_at", "message": "in the future"}])
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


def post_invoice(
    deps: CollectionsDeps, body: InvoiceIn, *, actor: Actor, correlation_id: str
) -> Written[Invoice]:
    """Created, or unchanged (same content as stored); Conflict for different content."""

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[Invoice]:
        invoice, new = stage_invoice(agg, body, now)
        if not new:
            return Mutation(invoice, Effect.UNCHANGED)
        note = AuditNote(
            "ledger.invoice_added", f"invoice {invoice.number} {invoice.amount}", {"id": invoice.invoice_id}
        )
        return Mutation(
            invoice, Effect.CREATED, rows=[RowWrite(invoice, invoice_row(invoice.invoice_id))], notes=[note]
        )

    written = mutate_customer(deps, body.customer_id, prepare, actor=actor, correlation_id=correlation_id)
    if written.effect is Effect.CREATED:
        feed.mark(deps, "invoice", deps.clock.now())
    return written


class InvoicePatch(BaseModel):
    """`PATCH /api/invoices/{invoice_id}`: the customer id is in the body (the partition key)."""

    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId
    status: InvoiceStatus
    reason: MultiLineText = Field(default="", max_length=2000)


def patch_invoice(
    deps: CollectionsDeps, invoice_id: str, body: InvoicePatch, *, actor: Actor, correlation_id: str
) -> Written[Invoice]:
    """Set an invoice's status (open, disputed, void); a void or dispute may reinstate at once."""

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[Invoice]:
        stored = agg.invoices.get(invoice_id)
        if stored is None:
            raise NotFound(f"customer {body.customer_id} has no invoice {invoice_id}")
        if stored.value.status is body.status:
            return Mutation(stored.value, Effect.UNCHANGED)
        invoice = stored.value.model_copy(update={"status": body.status, "updated_at": now})
        agg.invoices[invoice_id] = Stored(invoice, agg.customer_id, stored.row_key, stored.etag)
        reason = f"invoice {invoice.number}: {stored.value.status.value} -> {body.status.value}"
        note = AuditNote("ledger.invoice_status", (reason + ". " + body.reason).strip(), {"id": invoice_id})
        return Mutation(
            invoice,
            Effect.UPDATED,
            rows=[RowWrite(invoice, invoice_row(invoice_id), stored.etag)],
            notes=[note],
        )

    return mutate_customer(deps, body.customer_id, prepare, actor=actor, correlation_id=correlation_id)


def post_payment(
    deps: CollectionsDeps, body: PaymentIn, *, actor: Actor, correlation_id: str
) -> Written[Payment]:
    """Created, or unchanged (same content as stored); Conflict for different content or another
    currency."""

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[Payment]:
        payment, new = stage_payment(agg, body, now)
        if not new:
            return Mutation(payment, Effect.UNCHANGED)
        note = AuditNote("ledger.payment_added", f"payment {payment.amount}", {"id": payment.payment_id})
        return Mutation(
            payment, Effect.CREATED, rows=[RowWrite(payment, payment_row(payment.payment_id))], notes=[note]
        )

    written = mutate_customer(deps, body.customer_id, prepare, actor=actor, correlation_id=correlation_id)
    if written.effect is Effect.CREATED:
        feed.mark(deps, "payment", deps.clock.now())
    return written
