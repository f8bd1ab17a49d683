"""What `GET /api/customers/{id}` and `GET .../audit` show (reads only, never writes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.adapters.layout import PROFILE_ROW
from shared.domain.customer import CustomerId, CustomerProfile, Exemption
from shared.domain.enforcement import ENFORCEMENT_ROW, EnforcementSnapshot, SubscriptionEnforcement
from shared.errors import NotFound, ValidationFailed
from shared.services.collections.decision import decide, ledger_summary
from shared.services.collections.deps import CollectionsDeps


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
    # Each subscription as Partner Center last confirmed it (suspended by us, refused and why,
    # left alone, unknown, awaiting a decision, ...): the reconcile executor's last snapshot.
    subscriptions: list[SubscriptionEnforcement]
    subscriptions_checked_at: datetime | None
    next_action: str | None
    next_action_at: datetime | None
    next_review_at: datetime | None
    held_back_batch: str | None
    reasons: list[str]


def valid_customer_id(value: str) -> str:
    """The customer id as stored (a GUID in lower case); ValidationFailed otherwise."""
    try:
        return _CustomerIdModel(customer_id=value).customer_id
    except ValueError:
        raise ValidationFailed(
            "customer_id must be a GUID", errors=[{"field": "customer_id", "message": "not a GUID"}]
        ) from None


class _CustomerIdModel(BaseModel):
    customer_id: CustomerId


def customer_view(deps: CollectionsDeps, customer_id: str) -> CustomerView:
    """Profile, balances, stage, holds, exemptions, our suspensions and the next action (no writes)."""
    customer_id = valid_customer_id(customer_id)
    policy = deps.policy_for_request()
    now = deps.clock.now()
    aggregate = deps.customers.load(customer_id)
    if aggregate.profile is None:
        raise NotFound(f"customer {customer_id} is unknown")
    summary = ledger_summary(aggregate, policy, now)
    decision = decide(aggregate, policy, now)
    record = aggregate.collections
    next_action: str | None = None
    next_at: datetime | None = None
    if decision.actions:
        next_action, next_at = ", ".join(f"{a.kind.value}:{a.stage.value}" for a in decision.actions), now
    elif decision.next_review_at is not None:
        next_action, next_at = "review", decision.next_review_at
    stored_snapshot = deps.customers.table.get(EnforcementSnapshot, customer_id, ENFORCEMENT_ROW)
    snapshot = stored_snapshot.value if stored_snapshot else None
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
        subscriptions=snapshot.subscriptions if snapshot else [],
        subscriptions_checked_at=snapshot.checked_at if snapshot else None,
        next_action=next_action,
        next_action_at=next_at,
        # Live, not the state row's: a scan review that decides nothing leaves the row as it was.
        next_review_at=decision.next_review_at,
        held_back_batch=record.held_back_batch,
        reasons=decision.reasons,
    )


_HEAD_AHEAD = "the newest entry does not match the chain head"


def audit_trail(deps: CollectionsDeps, customer_id: str, limit: int | None = None) -> dict[str, Any]:
    """The customer's audit entries, newest first, and whether the chain verifies."""
    customer_id = valid_customer_id(customer_id)
    repo = deps.customers
    trail = repo.audit_log.read(customer_id, limit=limit)
    for _ in range(3):
        # The entries and the head are two reads: an entry appended between them makes the head
        # run ahead of the entries read. That is a race, not tampering: read again.
        if trail.verified or trail.problem != _HEAD_AHEAD:
            break
        trail = repo.audit_log.read(customer_id, limit=limit)
    if not trail.records and repo.table.get_raw(customer_id, PROFILE_ROW) is None:
        raise NotFound(f"customer {customer_id} is unknown")
    return {
        "customer_id": customer_id,
        "verified": trail.verified,
        "problem": trail.problem,
        "entries": [r.model_dump(mode="json") for r in trail.records],
    }
