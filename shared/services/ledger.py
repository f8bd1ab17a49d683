"""Ledger use cases: customers, invoices, payments, holds, exemptions. Each change re-evaluates
the customer in the SAME transaction (see `enforcement`) and reschedules its next review."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared import clock, runtime
from shared.adapters.audit import AuditEntry
from shared.adapters.customers import CustomerAggregate, CustomerChange, CustomerRepository
from shared.adapters.layout import PROFILE_ROW, exemption_row, hold_row, invoice_row, payment_row
from shared.adapters.tables import ConcurrencyConflict, Stored
from shared.domain.customer import CustomerId, CustomerProfile, Exemption, ExemptionKind, StoredProfile
from shared.domain.holds import Hold, HoldReason
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
from shared.services.collections import current_policy
from shared.services.enforcement import Commit, commit_decision, move_schedule, publish_outbox

MAX_ATTEMPTS = 5


@dataclass
class Mutation:
    """What a use case wants written (rows + audit), or `replay` when nothing changes."""

    rows: list[tuple[BaseModel, str, str | None]] = field(default_factory=list)  # model, row, etag
    deletes: list[tuple[str, str]] = field(default_factory=list)  # row, etag
    entries: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # action, reason, details
    reconcile_reason: str | None = None
    replay: bool = False


@dataclass
class Result:
    status: int
    body: Any


def _customer_id(value: str) -> str:
    try:
        return _CustomerIdModel(customer_id=value).customer_id
    except ValueError:
        raise ValidationFailed(
            "customer_id must be a GUID", errors=[{"field": "customer_id", "message": "not a GUID"}]
        ) from None


class _CustomerIdModel(BaseModel):
    customer_id: CustomerId


def _mutate(
    customer_id: str,
    prepare: Callable[[CustomerAggregate, datetime], Mutation],
    respond: Callable[[CustomerAggregate, Mutation], Result],
    *,
    actor: str,
    correlation_id: str,
    require_customer: bool = True,
) -> Result:
    """Read, prepare, evaluate and commit in one transaction; retry from the read on a conflict."""
    policy = current_policy()
    repo = CustomerRepository.of(runtime.table_store())
    for _ in range(MAX_ATTEMPTS):
        now = clock.now()
        aggregate = repo.load(customer_id)
        if require_customer and not aggregate.exists:
            raise NotFound(f"customer {customer_id} is unknown: PUT /api/customers/{customer_id} first")
        old_review = aggregate.collections.next_review_at
        mutation = prepare(aggregate, now)
        if mutation.replay:
            return respond(aggregate, mutation)

        def stage(change: CustomerChange, m: Mutation = mutation) -> None:
            for model, row, etag in m.rows:
                change.put(model, row, etag)
            for row, etag in m.deletes:
                change.delete(row, etag)

        entries = [
            AuditEntry(
                at=now,
                actor=actor,
                action=action,
                reason=reason,
                correlation_id=correlation_id,
                policy_version=policy.version,
                details=details,
            )
            for action, reason, details in mutation.entries
        ]
        commit = Commit(
            policy=policy,
            now=now,
            actor=actor,
            correlation_id=correlation_id,
            stage_rows=stage,
            entries=entries,
            reconcile_reason=mutation.reconcile_reason,
            defer_suspension=True,
        )
        try:
            outcome = commit_decision(repo, aggregate, commit)
        except ConcurrencyConflict:
            continue
        publish_outbox(repo, customer_id, outcome.committed)
        move_schedule(customer_id, old_review, outcome.next_review_at, new_written=True)
        return respond(aggregate, mutation)
    raise Conflict("the customer changed repeatedly while this request was applied; retry it")


def _stored(model: BaseModel, aggregate: CustomerAggregate) -> None:
    """Put a staged row into the in-memory aggregate, so the evaluation sees it."""
    if isinstance(model, StoredProfile):
        aggregate.profile = Stored(model, aggregate.customer_id, PROFILE_ROW, "")
    elif isinstance(model, Invoice):
        aggregate.invoices[model.invoice_id] = Stored(model, aggregate.customer_id, "", "")
    elif isinstance(model, Payment):
        aggregate.payments[model.payment_id] = Stored(model, aggregate.customer_id, "", "")
    elif isinstance(model, Exemption):
        aggregate.exemptions[model.exemption_id] = Stored(model, aggregate.customer_id, "", "")
    elif isinstance(model, Hold):
        aggregate.holds[model.hold_id] = Stored(model, aggregate.customer_id, "", "")


# --- customers --------------------------------------------------------------------------------


def put_customer(customer_id: str, profile: CustomerProfile, actor: str, correlation_id: str) -> Result:
    """Create (201) or replace (200) a customer's profile; re-evaluates (protected, segment)."""
    customer_id = _customer_id(customer_id)

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
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
            return Mutation(replay=True)
        mutation = Mutation(
            rows=[(stored, PROFILE_ROW, existing.etag if existing else None)],
            entries=[
                ("customer.profile_saved", "profile created" if existing is None else "profile updated", {})
            ],
        )
        mutation.replay = False
        _stored(stored, agg)
        agg_created[0] = existing is None
        return mutation

    agg_created = [False]

    def respond(agg: CustomerAggregate, m: Mutation) -> Result:
        return Result(201 if agg_created[0] else 200, customer_view(customer_id))

    return _mutate(
        customer_id, prepare, respond, actor=actor, correlation_id=correlation_id, require_customer=False
    )


class HoldView(BaseModel):
    hold_id: str
    reason: str
    placed_at: datetime
    placed_by: str
    note: str


class CustomerView(BaseModel):
    """`GET /api/customers/{id}`."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str
    profile: CustomerProfile
    currency: str
    balance: str
    overdue_balance: str
    credit_balance: str
    oldest_unpaid_due_date: date | None
    stage: str
    days_past_due: int
    holds: list[HoldView]
    exemptions: list[Exemption]
    suspended_subscriptions: list[dict[str, Any]]
    next_action: str | None
    next_action_at: datetime | None
    next_review_at: datetime | None
    held_back_batch: str | None
    reasons: list[str]


def customer_view(customer_id: str) -> CustomerView:
    """Profile, balances, stage, holds, exemptions, our suspensions and the next action (no writes)."""
    from shared.services.enforcement import decide, ledger_summary

    customer_id = _customer_id(customer_id)
    policy = current_policy()
    now = clock.now()
    aggregate = CustomerRepository.of(runtime.table_store()).load(customer_id)
    if aggregate.profile is None:
        raise NotFound(f"customer {customer_id} is unknown")
    summary = ledger_summary(aggregate, policy, now)
    decision = decide(aggregate, policy, now)
    record = aggregate.collections
    if decision.actions:
        next_action, next_at = ", ".join(f"{a.kind.value}:{a.stage.value}" for a in decision.actions), now
    else:
        next_action, next_at = (
            ("review", decision.next_review_at) if decision.next_review_at else (None, None)
        )
    profile = CustomerProfile.model_validate(
        aggregate.profile.value.model_dump(exclude={"customer_id", "created_at", "updated_at"})
    )
    return CustomerView(
        customer_id=customer_id,
        profile=profile,
        currency=summary.currency,
        balance=summary.open_balance.to_text(),
        overdue_balance=summary.overdue_balance.to_text(),
        credit_balance=summary.credit_balance.to_text(),
        oldest_unpaid_due_date=summary.earliest_unpaid_due_date,
        stage=decision.stage.value if decision.actions else record.state.stage.value,
        days_past_due=decision.days_past_due,
        holds=[
            HoldView(**s.value.model_dump(include=set(HoldView.model_fields)))
            for s in aggregate.holds.values()
        ],
        exemptions=[s.value for s in aggregate.exemptions.values()],
        suspended_subscriptions=[
            s.value.model_dump(mode="json") for s in aggregate.subscriptions.values() if s.value.is_ours
        ],
        next_action=next_action,
        next_action_at=next_at,
        next_review_at=record.next_review_at,
        held_back_batch=record.held_back_batch,
        reasons=decision.reasons,
    )


# --- invoices and payments --------------------------------------------------------------------


def _ledger_currency(agg: CustomerAggregate) -> str:
    default = DEFAULT_CURRENCY
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
        check_currency(body, _ledger_currency(agg))
    except LedgerError as exc:
        raise ValidationFailed(str(exc), errors=[{"field": "amount.currency", "message": str(exc)}]) from None
    invoice = Invoice(**body.model_dump(), created_at=now, updated_at=now)
    _stored(invoice, agg)
    return invoice, True


def stage_payment(agg: CustomerAggregate, body: PaymentIn, now: datetime) -> tuple[Payment, bool]:
    """Validate one payment against the customer; (stored payment, is new). Raises Conflict/422."""
    existing = agg.payments.get(body.payment_id)
    if existing is not None:
        if not existing.value.same_content(body):
            raise Conflict(f"payment {body.payment_id} exists with different content")
        return existing.value, False
    try:
        check_currency(body, _ledger_currency(agg))
    except LedgerError as exc:
        raise Conflict(str(exc)) from None
    for invoice_id in body.invoice_ids or []:
        invoice = agg.invoices.get(invoice_id)
        if invoice is None:
            raise ValidationFailed(
                f"payment names invoice {invoice_id}, which this customer does not have",
                errors=[{"field": "invoice_ids", "message": f"unknown invoice {invoice_id}"}],
            )
        if invoice.value.amount.currency != body.amount.currency:
            raise Conflict(
                f"invoice {invoice_id} is in {invoice.value.amount.currency}; "
                f"a payment in {body.amount.currency} cannot pay it"
            )
    payment = Payment(**body.model_dump(), created_at=now)
    _stored(payment, agg)
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

    return _mutate(
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

    return _mutate(
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

    return _mutate(
        body.customer_id,
        prepare,
        lambda agg, m: Result(200 if m.replay else 201, holder[0]),
        actor=actor,
        correlation_id=correlation_id,
    )


# --- holds and exemptions ---------------------------------------------------------------------


class ManualHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HoldReason = HoldReason.MANUAL
    reason: str = Field(min_length=1, max_length=2000)


def place_manual_hold(customer_id: str, body: ManualHoldIn, actor: str, correlation_id: str) -> Result:
    """A manual hold (201); only `manual` can be placed here. A reconcile message follows."""
    if body.kind is not HoldReason.MANUAL:
        raise ValidationFailed(
            "only manual holds are placed here (non_payment comes from the policy, fraud from a case)",
            errors=[{"field": "kind", "message": "must be manual"}],
        )
    customer_id = _customer_id(customer_id)
    holder: list[Hold] = []

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        hold = Hold(
            hold_id=f"manual-{uuid.uuid4().hex[:12]}",
            reason=HoldReason.MANUAL,
            placed_at=now,
            placed_by=actor,
            note=body.reason,
            correlation_id=correlation_id,
        )
        holder[:] = [hold]
        _stored(hold, agg)
        return Mutation(
            rows=[(hold, hold_row(hold.hold_id), None)],
            entries=[("hold.placed", body.reason, {"hold_id": hold.hold_id, "reason": "manual"})],
            reconcile_reason="manual hold placed",
        )

    return _mutate(
        customer_id, prepare, lambda a, m: Result(201, holder[0]), actor=actor, correlation_id=correlation_id
    )


def lift_manual_hold(customer_id: str, hold_id: str, actor: str, correlation_id: str) -> Result:
    """Lift a manual hold (204); other holds are lifted by payment or by resolving their case."""
    customer_id = _customer_id(customer_id)

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        stored = agg.holds.get(hold_id)
        if stored is None:
            raise NotFound(f"customer {customer_id} has no hold {hold_id}")
        if stored.value.reason is not HoldReason.MANUAL:
            raise Conflict(
                f"hold {hold_id} is a {stored.value.reason.value} hold; only manual holds are lifted here"
            )
        del agg.holds[hold_id]
        return Mutation(
            deletes=[(hold_row(hold_id), stored.etag)],
            entries=[
                ("hold.lifted", f"manual hold {hold_id} lifted", {"hold_id": hold_id, "reason": "manual"})
            ],
            reconcile_reason="manual hold lifted",
        )

    return _mutate(
        customer_id, prepare, lambda a, m: Result(204, None), actor=actor, correlation_id=correlation_id
    )


class ExemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ExemptionKind
    until: date
    reason: str = Field(min_length=1, max_length=2000)


def add_exemption(customer_id: str, body: ExemptionIn, actor: str, correlation_id: str) -> Result:
    """Promise to pay / enforcement off until a date (201); may lift the non_payment hold at once."""
    customer_id = _customer_id(customer_id)
    holder: list[Exemption] = []

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        if body.until < now.date():
            raise ValidationFailed(
                "until is in the past", errors=[{"field": "until", "message": "must be today or later"}]
            )
        exemption = Exemption(
            exemption_id=uuid.uuid4().hex[:12],
            kind=body.kind,
            until=body.until,
            reason=body.reason,
            created_at=now,
            created_by=actor,
        )
        holder[:] = [exemption]
        _stored(exemption, agg)
        return Mutation(
            rows=[(exemption, exemption_row(exemption.exemption_id), None)],
            entries=[
                ("exemption.added", body.reason, {"kind": body.kind.value, "until": body.until.isoformat()})
            ],
        )

    return _mutate(
        customer_id, prepare, lambda a, m: Result(201, holder[0]), actor=actor, correlation_id=correlation_id
    )


def audit_trail(customer_id: str, limit: int | None = None) -> dict[str, Any]:
    """The customer's audit entries, newest first, and whether the chain verifies."""
    customer_id = _customer_id(customer_id)
    repo = CustomerRepository.of(runtime.table_store())
    trail = repo.audit_log.read(customer_id, limit=limit)
    if not trail.records and repo.table.get_raw(customer_id, PROFILE_ROW) is None:
        raise NotFound(f"customer {customer_id} is unknown")
    return {
        "customer_id": customer_id,
        "verified": trail.verified,
        "problem": trail.problem,
        "entries": [r.model_dump(mode="json") for r in trail.records],
    }
