"""Suspension records: which subscriptions this app suspended, when, why, and what they were before.

One row `sub:{subscription_id}` per subscription in the customer's partition. The executor writes
the record in state `suspending` (an intent) BEFORE it asks Partner Center to suspend, and turns
it into `suspended_by_us` after; so a crash between the call and the record still leaves proof
that the suspension was ours. Only subscriptions with such a record are ever reactivated: one that
someone else suspended has no record and is never touched (principle 2).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SuspensionState(StrEnum):
    SUSPENDING = "suspending"  # intent written, PATCH to `suspended` may or may not have happened
    SUSPENDED_BY_US = "suspended_by_us"  # Partner Center confirmed the suspension
    REACTIVATED = "reactivated"  # this app reactivated it again (history; no longer ours)
    # No longer ours, left as Partner Center shows it: our suspension was refused (nothing was
    # applied), or someone else suspended or changed the subscription since (history).
    RELEASED = "released"


class SuspensionRecord(BaseModel):
    """A subscription this app suspended (or is about to), in row `sub:{subscription_id}`."""

    model_config = ConfigDict(extra="ignore")

    subscription_id: str = Field(min_length=1, max_length=100)
    offer_name: str = Field(default="", max_length=400)
    friendly_name: str = Field(default="", max_length=400)
    parent_subscription_id: str | None = Field(default=None, max_length=100)
    status_before: str = Field(default="active", max_length=40)
    suspended_at: datetime
    suspended_under_holds: list[str] = Field(default_factory=list)
    correlation_id: str = Field(min_length=1, max_length=100)
    reactivated_at: datetime | None = None
    state: SuspensionState = SuspensionState.SUSPENDING
    # The etag Partner Center showed right after our suspension (base subscriptions). A different
    # etag on a still-suspended subscription means someone else changed it since (for example
    # reactivated it by hand and suspended it again for another reason): it is then not ours.
    etag_after: str | None = Field(default=None, max_length=200)

    @property
    def is_ours(self) -> bool:
        """True while this app holds the subscription suspended (or is in the act of it)."""
        return self.state in (SuspensionState.SUSPENDING, SuspensionState.SUSPENDED_BY_US)


class SubscriptionView(BaseModel):
    """What the planner needs to know of a subscription as Partner Center shows it."""

    model_config = ConfigDict(frozen=True)

    subscription_id: str
    status: str  # lower-case; unknown values (e.g. `disabled`) are kept and left alone
    parent_subscription_id: str | None = None
    offer_name: str = ""
    friendly_name: str = ""
    etag: str | None = None


class PlanStep(StrEnum):
    SUSPEND = "suspend"  # write the intent, PATCH the base to `suspended`, confirm
    CONFIRM_SUSPENDED = "confirm_suspended"  # our intent and PC shows suspended: record, no PATCH
    REACTIVATE = "reactivate"  # ours and suspended: PATCH the base to `active`, close the records
    CLOSE_RECORD = "close_record"  # ours but PC shows it active already: close the records, no PATCH
    RELEASE = "release"  # ours by record, but changed by someone else since: leave it, alert


class PlannedAction(BaseModel):
    """One step towards the desired state, on a base subscription and the add-ons that follow it."""

    model_config = ConfigDict(frozen=True)

    kind: PlanStep
    subscription: SubscriptionView
    add_ons: tuple[SubscriptionView, ...] = ()

    @property
    def calls_partner_center(self) -> bool:
        return self.kind in (PlanStep.SUSPEND, PlanStep.REACTIVATE)


def plan_reconcile(
    hold_ids: list[str],
    subscriptions: list[SubscriptionView],
    records: dict[str, SuspensionRecord],
) -> list[PlannedAction]:
    """The steps that bring Partner Center to the desired state (principles 1 and 2).

    With at least one hold every active base subscription is suspended (add-ons follow their
    base, so they are never patched themselves). With none, only subscriptions this app
    suspended, and still shown suspended, are reactivated. A suspended subscription without a
    record of ours was suspended by someone else: it is never touched; nor is one of ours whose
    etag changed since our suspension (someone else suspended it again in between).
    """
    ids = {s.subscription_id for s in subscriptions}
    add_ons: dict[str, list[SubscriptionView]] = {}
    bases: list[SubscriptionView] = []
    for sub in subscriptions:
        parent = sub.parent_subscription_id
        if parent and parent in ids:
            add_ons.setdefault(parent, []).append(sub)
        else:
            bases.append(sub)
    actions: list[PlannedAction] = []
    for base in bases:
        record = records.get(base.subscription_id)
        children = add_ons.get(base.subscription_id, [])
        if hold_ids:
            if base.status == "active":
                following = tuple(a for a in children if a.status == "active")
                actions.append(PlannedAction(kind=PlanStep.SUSPEND, subscription=base, add_ons=following))
            elif base.status == "suspended" and record and record.state is SuspensionState.SUSPENDING:
                following = tuple(a for a in children if _has_intent(records, a))
                actions.append(
                    PlannedAction(kind=PlanStep.CONFIRM_SUSPENDED, subscription=base, add_ons=following)
                )
            continue
        ours_children = [a for a in children if _is_ours(records, a)]
        if record is not None and record.is_ours and base.status == "suspended":
            kind = PlanStep.RELEASE if _changed_since_ours(record, base) else PlanStep.REACTIVATE
            actions.append(PlannedAction(kind=kind, subscription=base, add_ons=tuple(ours_children)))
            continue
        if record is not None and record.is_ours and base.status == "active":
            back = tuple(a for a in ours_children if a.status == "active")
            actions.append(PlannedAction(kind=PlanStep.CLOSE_RECORD, subscription=base, add_ons=back))
            ours_children = [a for a in ours_children if a.status != "active"]
        # Add-ons of ours whose base is not (or no longer) held suspended by us: whether Partner
        # Center brings add-ons back with their base is not confirmed, and one still suspended
        # may have been suspended by someone else since; so it is never patched on its own.
        for add_on in ours_children:
            if add_on.status == "active":
                actions.append(PlannedAction(kind=PlanStep.CLOSE_RECORD, subscription=add_on))
            elif add_on.status == "suspended":
                actions.append(PlannedAction(kind=PlanStep.RELEASE, subscription=add_on))
    return actions


def _changed_since_ours(record: SuspensionRecord, view: SubscriptionView) -> bool:
    return (
        record.state is SuspensionState.SUSPENDED_BY_US
        and bool(record.etag_after)
        and bool(view.etag)
        and record.etag_after != view.etag
    )


def _has_intent(records: dict[str, SuspensionRecord], sub: SubscriptionView) -> bool:
    record = records.get(sub.subscription_id)
    return record is not None and record.state is SuspensionState.SUSPENDING


def _is_ours(records: dict[str, SuspensionRecord], sub: SubscriptionView) -> bool:
    record = records.get(sub.subscription_id)
    return record is not None and record.is_ours
