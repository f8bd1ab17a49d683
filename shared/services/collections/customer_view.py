"""What `GET /api/customers/{id}` and `GET .../audit` show (reads only, never writes)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.customers import CustomerAggregate, ShadowNotice
from shared.adapters.layout import PROFILE_ROW
from shared.domain.changes import PendingChange
from shared.domain.collections import CollectionsState
from shared.domain.customer import CustomerId, CustomerProfile, Exemption
from shared.domain.enforcement import ENFORCEMENT_ROW, EnforcementSnapshot, SubscriptionEnforcement
from shared.domain.forecast import ForecastAction, forecast, planned_suspension
from shared.domain.holds import Hold
from shared.domain.identity import Actor
from shared.domain.policy import Policy
from shared.errors import NotFound, ValidationFailed
from shared.services.collections import rollout
from shared.services.collections.actions import CommitContext
from shared.services.collections.credit_view import ExposureView, exposure_view
from shared.services.collections.decision import ledger_summary, with_delivery
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.pending import open_changes_of
from shared.services.collections.shadow import decide_for_mode


class HoldView(BaseModel):
    hold_id: str
    reason: str
    placed_at: datetime
    placed_by: str
    note: str


class PlannedView(BaseModel):
    """One action the policy would take if nothing changes (`forecast`)."""

    at: datetime
    action: str  # <kind>:<stage>, as in the preview
    suspension_date: date | None = None  # what a warning names


class DryRunView(BaseModel):
    """In dry run: the would-be state enforce would have (the shadow), apart from the real one."""

    stage: str
    would_be_hold_placed_at: datetime | None
    notices: list[ShadowNotice]
    next_review_at: datetime | None


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
    pending_changes: list[PendingChange] = Field(default_factory=list)  # four-eyes, waiting
    enforcement_mode: str
    # When the non_payment hold would be placed if nothing changes (local date), and the actions
    # of the next FORECAST_DAYS days: the same evaluation as the scan, run forward.
    planned_suspension_on: date | None = None
    planned: list[PlannedView] = Field(default_factory=list)
    dry_run: DryRunView | None = None
    # What the customer is running up (the last exposure refresh's reading, its ledger parts as
    # of now) against its credit limit; None until the first refresh has read it.
    exposure: ExposureView | None = None


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
    epoch = rollout.current_epoch(deps) if deps.dry_run else 0
    ctx = CommitContext(
        policy=policy, now=now, actor=Actor.system("view"), correlation_id="view", mode_epoch=epoch
    )
    decision, holds, shadow = decide_for_mode(deps.dry_run, aggregate, ctx)
    planned = plan_ahead(
        aggregate, policy, now, holds, shadow.state if shadow else None, SUSPENSION_HORIZON_DAYS
    )
    record = aggregate.collections
    next_action: str | None = None
    next_at: datetime | None = None
    if decision.actions:
        next_action, next_at = ", ".join(f"{a.kind.value}:{a.stage.value}" for a in decision.actions), now
    elif planned:
        next_action, next_at = f"{planned[0].kind.value}:{planned[0].stage.value}", planned[0].at
    elif decision.next_review_at is not None:
        next_action, next_at = "review", decision.next_review_at
    stored_snapshot = deps.customers.table.get(EnforcementSnapshot, customer_id, ENFORCEMENT_ROW)
    snapshot = stored_snapshot.value if stored_snapshot else None
    hold_at = planned_suspension(planned)
    horizon = now + timedelta(days=FORECAST_DAYS)
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
        stage=decision.stage.value if decision.actions or shadow else record.state.stage.value,
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
        pending_changes=open_changes_of(deps, customer_id),
        enforcement_mode=deps.settings.enforcement_mode.value,
        planned_suspension_on=policy.calendar().local_date(hold_at) if hold_at else None,
        planned=[
            PlannedView(at=a.at, action=f"{a.kind.value}:{a.stage.value}", suspension_date=a.suspension_date)
            for a in planned
            if a.at <= horizon
        ],
        exposure=exposure_view(aggregate, summary, policy, now),
        dry_run=None
        if shadow is None
        else DryRunView(
            stage=shadow.state.stage.value if not decision.actions else decision.stage.value,
            would_be_hold_placed_at=shadow.hold_placed_at,
            notices=shadow.notices,
            next_review_at=decision.next_review_at,
        ),
    )


FORECAST_DAYS = 90  # the actions `planned` lists
SUSPENSION_HORIZON_DAYS = 400  # how far ahead `planned_suspension_on` looks


def plan_ahead(
    aggregate: CustomerAggregate,
    policy: Policy,
    now: datetime,
    holds: list[Hold],
    state: CollectionsState | None,
    days: int,
) -> list[ForecastAction]:
    """The forecast of one stored customer (its shadow's state and holds in dry run)."""
    assert aggregate.profile is not None
    base = state if state is not None else aggregate.collections.state
    return forecast(
        policy,
        aggregate.profile.value,
        [s.value for s in aggregate.invoices.values()],
        [s.value for s in aggregate.payments.values()],
        holds,
        [s.value for s in aggregate.exemptions.values()],
        with_delivery(aggregate, base),
        now,
        now + timedelta(days=days),
        customer_id=aggregate.customer_id,
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
