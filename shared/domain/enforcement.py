"""What Partner Center last confirmed about a customer's subscriptions, and what that means for
each of them (pure): suspended by us, refused (why), left alone (someone else's), unknown (waiting
for a confirming read), awaiting a person's decision, waiting ("try later"), active, or another
Partner Center status. The executor writes one snapshot per customer (row `enforcement`) at the
end of every run; the customer view and the fraud case read it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.domain.suspensions import SubscriptionView, SuspensionRecord, SuspensionState, Verb

ENFORCEMENT_ROW = "enforcement"
MAX_SNAPSHOT_SUBSCRIPTIONS = 100  # one JSON property of the row (Table storage: 32K characters)


class EnforcementState(StrEnum):
    ACTIVE = "active"
    SUSPENDED_BY_US = "suspended_by_us"
    LEFT_ALONE = "left_alone"  # suspended by someone else: this app never touches it
    REFUSED = "refused"
    UNKNOWN = "unknown"  # our PATCH went unanswered: waiting for a confirming read
    AWAITING_DECISION = "awaiting_decision"  # a person settles whose suspension it is
    WAITING = "waiting"  # Partner Center said "try later"
    OTHER = "other"  # expired, disabled, deleted, pending, none: Partner Center's own status


class RunOutcome(StrEnum):
    CONVERGED = "converged"
    RESCHEDULED = "rescheduled"
    CUSTOMER_UNKNOWN = "customer_unknown"  # Partner Center does not know this customer tenant
    GAVE_UP = "gave_up"
    DRY_RUN = "dry_run"


class SubscriptionEnforcement(BaseModel):
    subscription_id: str
    offer_name: str = ""
    friendly_name: str = ""
    parent_subscription_id: str | None = None
    pc_status: str
    state: EnforcementState
    detail: str = ""
    code: str | None = None
    since: datetime | None = None


class EnforcementSnapshot(BaseModel):
    """Row `enforcement` of the customer partition: the last run's view of Partner Center."""

    customer_id: str
    checked_at: datetime
    outcome: RunOutcome
    hold_ids: list[str] = Field(default_factory=list)
    subscriptions: list[SubscriptionEnforcement] = Field(default_factory=list)
    omitted: int = 0
    detail: str = Field(default="", max_length=500)

    @property
    def held(self) -> bool:
        return bool(self.hold_ids)


def label(view: SubscriptionView, record: SuspensionRecord | None) -> SubscriptionEnforcement:
    """One subscription's state from what Partner Center showed and our record of it."""
    state, detail, code, since = _state(view, record)
    return SubscriptionEnforcement(
        subscription_id=view.subscription_id,
        offer_name=view.offer_name,
        friendly_name=view.friendly_name,
        parent_subscription_id=view.parent_subscription_id,
        pc_status=view.status,
        state=state,
        detail=detail[:600],
        code=code,
        since=since,
    )


def _state(
    view: SubscriptionView, r: SuspensionRecord | None
) -> tuple[EnforcementState, str, str | None, datetime | None]:
    E, S = EnforcementState, SuspensionState
    if (
        r is not None
        and r.state is S.REFUSED
        and r.refusal is not None
        and not (r.refusal.verb is Verb.SUSPEND and view.is_suspended)
    ):
        refusal = r.refusal
        what = (
            f"{refusal.verb.value} refused" if refusal.kind != "gave_up" else f"{refusal.verb.value}: gave up"
        )
        return E.REFUSED, f"{what}: {refusal.description}", refusal.code, refusal.at
    if r is not None and r.state is S.UNDECIDED:
        why = r.evidence.why if r.evidence else "whose suspension it is cannot be told"
        return E.AWAITING_DECISION, why, None, r.evidence.seen_at if r.evidence else r.updated_at
    if r is not None and r.waiting is not None and r.state in (S.WAITING, S.SUSPENDED_BY_US):
        return E.WAITING, f"{r.waiting.verb.value}: {r.waiting.description}", r.waiting.code, r.waiting.since
    if r is not None and r.state in (S.SUSPENDING, S.UNKNOWN):
        verb = r.pending_verb.value if r.pending_verb else Verb.SUSPEND.value
        return E.UNKNOWN, f"our {verb} went unanswered: waiting for a confirming read", None, r.updated_at
    if view.is_suspended:
        if r is not None and r.state is S.SUSPENDED_BY_US:
            return E.SUSPENDED_BY_US, "", None, r.suspended_at
        return E.LEFT_ALONE, "suspended by someone else: never reactivated by this app", None, None
    if view.is_active:
        return E.ACTIVE, "", None, None
    return E.OTHER, f"Partner Center shows it {view.status}", None, None


_ORDER = {
    EnforcementState.REFUSED: 0,
    EnforcementState.AWAITING_DECISION: 1,
    EnforcementState.UNKNOWN: 2,
    EnforcementState.WAITING: 3,
    EnforcementState.ACTIVE: 4,
    EnforcementState.SUSPENDED_BY_US: 5,
    EnforcementState.LEFT_ALONE: 6,
    EnforcementState.OTHER: 7,
}


def build_snapshot(
    customer_id: str,
    *,
    checked_at: datetime,
    outcome: RunOutcome,
    hold_ids: list[str],
    subscriptions: list[SubscriptionView],
    records: dict[str, SuspensionRecord],
    detail: str = "",
) -> EnforcementSnapshot:
    """The snapshot of one run; beyond MAX_SNAPSHOT_SUBSCRIPTIONS the ones that need a look
    (refused, undecided, unknown) are kept first and the rest counted in `omitted`."""
    items = [label(view, records.get(view.subscription_id)) for view in subscriptions]
    if len(items) > MAX_SNAPSHOT_SUBSCRIPTIONS:
        items.sort(key=lambda item: _ORDER[item.state])
    kept = items[:MAX_SNAPSHOT_SUBSCRIPTIONS]
    return EnforcementSnapshot(
        customer_id=customer_id,
        checked_at=checked_at,
        outcome=outcome,
        hold_ids=list(hold_ids),
        subscriptions=kept,
        omitted=len(items) - len(kept),
        detail=detail[:500],
    )


def same_picture(a: EnforcementSnapshot | None, b: EnforcementSnapshot) -> bool:
    """Whether two snapshots say the same (the time of the check aside)."""
    if a is None:
        return False
    return a.model_dump(exclude={"checked_at"}) == b.model_dump(exclude={"checked_at"})


class HoldEnforcement(StrEnum):
    """How far a hold is enforced, as Partner Center last confirmed it."""

    NOT_HELD = "not_held"
    PENDING = "pending"  # no confirmation since the hold was placed (or some still active)
    ENFORCED = "enforced"  # every subscription that can be suspended shows suspended
    PARTIAL = "partial"  # some show suspended, others not (refused, unknown, waiting, active)
    REFUSED = "refused"  # Partner Center refused every suspension
    CUSTOMER_UNKNOWN = "customer_unknown"  # Partner Center does not know the customer tenant


def hold_enforcement(
    snapshot: EnforcementSnapshot | None, hold_placed_at: datetime | None
) -> HoldEnforcement:
    """The enforcement of a hold placed at `hold_placed_at` (None: no hold) by the snapshot."""
    if hold_placed_at is None:
        return HoldEnforcement.NOT_HELD
    if snapshot is None or snapshot.checked_at < hold_placed_at:
        return HoldEnforcement.PENDING
    if snapshot.outcome is RunOutcome.CUSTOMER_UNKNOWN:
        return HoldEnforcement.CUSTOMER_UNKNOWN
    considered = [s for s in snapshot.subscriptions if s.state is not EnforcementState.OTHER]
    blocked = [s for s in considered if s.pc_status == "suspended"]
    if len(blocked) == len(considered):
        return HoldEnforcement.ENFORCED
    if blocked:
        return HoldEnforcement.PARTIAL
    if all(s.state is EnforcementState.REFUSED for s in considered):
        return HoldEnforcement.REFUSED
    return HoldEnforcement.PENDING
