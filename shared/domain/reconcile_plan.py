"""The reconcile plan (pure): per subscription, the step that brings Partner Center to what the
holds say (principles 1 and 2), from the listing, our records and the holds.

With at least one hold every active base subscription is suspended (add-ons follow their base,
so a suspension never patches them). With none, only subscriptions whose suspension is known to
be ours are reactivated; a suspension the app cannot tell is ours is never reactivated: it
becomes an item a person settles. The rules, case by case, are in docs/partner-center-client.md
("Whose suspension is it"); tests/unit/test_pc_plan.py checks each.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from shared.domain.suspensions import SubscriptionView, SuspensionRecord, SuspensionState, Verb

S = SuspensionState


class PlanStep(StrEnum):
    SUSPEND = "suspend"  # write the intent, PATCH the base to `suspended` (add-ons follow)
    REACTIVATE = "reactivate"  # ours and suspended: PATCH to `active`
    RESTORE_AUTO_RENEW = "restore_auto_renew"  # ours, reactivated, auto-renew was on: turn it on
    CONFIRM = "confirm"  # a read shows our suspension applied: record it, no PATCH
    CLOSE = "close"  # ours, and Partner Center shows it active already: record it, no PATCH
    RELEASE = "release"  # ours by record, but someone else suspended it since: leave it, alert
    UNDECIDED = "undecided"  # suspended and whose it is cannot be told: leave it, alert, a person settles
    FORGET = "forget"  # a record that no longer matters (refusal, wait, never applied): close it
    AWAIT = "await"  # our PATCH may still be applied late: look again once it has settled


class PlannedAction(BaseModel):
    """One step on one subscription; a suspension carries the add-ons that follow its base."""

    model_config = ConfigDict(frozen=True)

    kind: PlanStep
    subscription: SubscriptionView
    add_ons: tuple[SubscriptionView, ...] = ()
    request_id: str | None = None  # resend our earlier request (same MS-RequestId)
    why: str = ""
    recheck_at: datetime | None = None  # AWAIT: when the outcome counts as settled

    @property
    def calls_partner_center(self) -> bool:
        return self.kind in (PlanStep.SUSPEND, PlanStep.REACTIVATE, PlanStep.RESTORE_AUTO_RENEW)


def plan_reconcile(
    hold_ids: list[str],
    subscriptions: list[SubscriptionView],
    records: dict[str, SuspensionRecord],
    *,
    now: datetime,
    settle: timedelta = timedelta(minutes=60),
) -> list[PlannedAction]:
    """The steps towards the desired state; `settle` is how long an unanswered PATCH of ours may
    still be applied late (after it, a read showing no change settles it as not applied)."""
    by_id = {s.subscription_id: s for s in subscriptions}
    plan = _Planner(bool(hold_ids), records, now, settle)
    actions: list[PlannedAction] = []
    for sub in subscriptions:
        base = by_id.get(sub.parent_subscription_id or "")
        if base is None:
            children = [s for s in subscriptions if s.parent_subscription_id == sub.subscription_id]
            step = plan.base(sub, children)
        else:
            step = plan.add_on(sub, base)
        if step is not None:
            actions.append(step)
    return actions


class _Planner:
    def __init__(self, held: bool, records: dict[str, SuspensionRecord], now: datetime, settle: timedelta):
        self.held = held
        self.records = records
        self.now = now
        self.settle = settle

    def _step(self, kind: PlanStep, sub: SubscriptionView, why: str, **extra: object) -> PlannedAction:
        return PlannedAction(kind=kind, subscription=sub, why=why, **extra)

    def _suspend(
        self, sub: SubscriptionView, children: list[SubscriptionView], why: str, resend: bool
    ) -> PlannedAction:
        record = self.records.get(sub.subscription_id)
        following = tuple(c for c in children if c.is_active)
        request_id = record.request_id if resend and record else None
        return PlannedAction(
            kind=PlanStep.SUSPEND, subscription=sub, add_ons=following, request_id=request_id, why=why
        )

    # --- a base subscription ---
    def base(self, sub: SubscriptionView, children: list[SubscriptionView]) -> PlannedAction | None:
        record = self.records.get(sub.subscription_id)
        return self._held(sub, children, record) if self.held else self._not_held(sub, record)

    def _held(
        self, sub: SubscriptionView, children: list[SubscriptionView], r: SuspensionRecord | None
    ) -> PlannedAction | None:
        state = r.state if r else None
        if sub.is_active:
            if state is S.REFUSED and r and r.refusal and r.refusal.verb is Verb.SUSPEND:
                return None  # refused under these holds: not retried
            if state is S.SUSPENDING or (state is S.UNKNOWN and r and r.pending_verb is Verb.SUSPEND):
                return self._suspend(
                    sub, children, "our suspension did not show: the same request again", True
                )
            return self._suspend(sub, children, "held, and active at Partner Center", False)
        if not sub.is_suspended or r is None:
            return None  # someone else's suspension, or a status that cannot be changed
        if state is S.SUSPENDING:
            return self._undecided(
                sub, r, "an intent of ours that may never have been sent, and it is suspended"
            )
        if state is S.UNKNOWN and r.pending_verb is Verb.SUSPEND:
            return self._step(PlanStep.CONFIRM, sub, "our unanswered suspension shows applied")
        if state is S.UNKNOWN or (state is S.REFUSED and r.refusal and r.refusal.verb is Verb.REACTIVATE):
            return self._step(PlanStep.CONFIRM, sub, "held again: our suspension stands")
        if state is S.WAITING:
            return self._step(PlanStep.RELEASE, sub, "suspended by someone else while ours waited")
        if state is S.SUSPENDED_BY_US and r.reasons_after is None and sub.suspension_reasons is not None:
            return self._step(PlanStep.CONFIRM, sub, "our suspension: recording its reasons")
        return None

    def _not_held(self, sub: SubscriptionView, r: SuspensionRecord | None) -> PlannedAction | None:
        if r is None:
            return None
        state = r.state
        if state in (S.REFUSED, S.WAITING) and (r.refusal or r.waiting):
            verb = r.refusal.verb if r.refusal else r.waiting.verb if r.waiting else None
            if verb is Verb.SUSPEND:
                return self._step(PlanStep.FORGET, sub, "the hold is gone: the refusal no longer applies")
            if sub.is_active:
                return self._step(PlanStep.CLOSE, sub, "active again (reactivated elsewhere)")
            return None
        if state is S.UNDECIDED:
            return (
                self._step(PlanStep.FORGET, sub, "active again: nothing left to decide")
                if sub.is_active
                else None
            )
        if state in (S.SUSPENDING, S.UNKNOWN) and (state is S.SUSPENDING or r.pending_verb is Verb.SUSPEND):
            if sub.is_suspended and state is S.SUSPENDING:
                return self._undecided(
                    sub, r, "an intent of ours that may never have been sent, and it is suspended"
                )
            if sub.is_suspended:
                return self._reactivate(sub, r, "our suspension was applied late; the hold is gone")
            return self._settling(sub, r) if sub.is_active else None
        if state is S.UNKNOWN:  # our reactivation went unanswered
            if sub.is_active:
                return self._step(PlanStep.CLOSE, sub, "our unanswered reactivation shows applied")
            if sub.is_suspended:
                request = r.pending.request_id if r.pending else None
                return self._reactivate(
                    sub, r, "our reactivation did not show: the same request again", request
                )
            return None
        if state is S.SUSPENDED_BY_US:
            if sub.is_active:
                return self._step(PlanStep.CLOSE, sub, "active already (reactivated elsewhere)")
            if sub.is_suspended:
                return self._reactivate(sub, r, "ours, and the holds are gone")
            return None
        if state is S.REACTIVATED and self._auto_renew_due(sub, r):
            return self._step(PlanStep.RESTORE_AUTO_RENEW, sub, "auto-renew was on before our suspension")
        return None

    def _reactivate(
        self, sub: SubscriptionView, r: SuspensionRecord, why: str, request_id: str | None = None
    ) -> PlannedAction:
        seen = set(sub.suspension_reasons) if sub.suspension_reasons is not None else None
        if r.reasons_after is not None and seen is not None and seen != set(r.reasons_after):
            return self._step(PlanStep.RELEASE, sub, "suspended again for another reason since ours")
        return self._step(PlanStep.REACTIVATE, sub, why, request_id=request_id)

    def _settling(self, sub: SubscriptionView, r: SuspensionRecord) -> PlannedAction:
        sent = r.pending.sent_at if r.pending else r.suspended_at
        settled_at = sent + self.settle
        if self.now >= settled_at:
            return self._step(PlanStep.FORGET, sub, "our suspension never applied (settled)")
        return self._step(
            PlanStep.AWAIT, sub, "our suspension may still be applied late", recheck_at=settled_at
        )

    def _undecided(self, sub: SubscriptionView, r: SuspensionRecord, why: str) -> PlannedAction:
        return self._step(PlanStep.UNDECIDED, sub, why)

    @staticmethod
    def _auto_renew_due(sub: SubscriptionView, r: SuspensionRecord) -> bool:
        return (
            sub.is_active
            and r.auto_renew_before is True
            and not r.auto_renew_restored
            and r.auto_renew_problem is None
            and sub.auto_renew_enabled is False
        )

    # --- an add-on (its base is in the listing) ---
    def add_on(self, sub: SubscriptionView, base: SubscriptionView) -> PlannedAction | None:
        r = self.records.get(sub.subscription_id)
        if r is None:
            return None
        owner = self.records.get(base.subscription_id)
        follows_ours = owner is not None and owner.state in (S.SUSPENDED_BY_US, S.REACTIVATED, S.UNKNOWN)
        base_undecided = (
            owner is not None and owner.state in (S.UNDECIDED, S.SUSPENDING) and base.is_suspended
        )
        if r.state in (S.SUSPENDING, S.UNKNOWN) and sub.is_suspended:
            if base_undecided:
                return self._undecided(sub, r, "its base's suspension cannot be told ours")
            if follows_ours:
                return self._step(PlanStep.CONFIRM, sub, "suspended with our suspension of its base")
            return (
                self._step(PlanStep.FORGET, sub, "its base was not suspended by us")
                if not self.held
                else None
            )
        if self.held:
            if (
                r.state is S.SUSPENDED_BY_US
                and r.reasons_after is None
                and sub.suspension_reasons is not None
            ):
                return self._step(PlanStep.CONFIRM, sub, "our suspension: recording its reasons")
            return None
        if not base.is_active:
            return None  # the base first (its reactivation may bring the add-on back)
        if r.is_ours and sub.is_active:
            return self._step(PlanStep.CLOSE, sub, "came back with its base")
        if r.state is S.SUSPENDED_BY_US and sub.is_suspended:
            return self._reactivate(sub, r, "its base is active again and the add-on did not follow")
        if r.state is S.UNDECIDED and sub.is_active:
            return self._step(PlanStep.FORGET, sub, "active again: nothing left to decide")
        if r.state is S.REACTIVATED and self._auto_renew_due(sub, r):
            return self._step(PlanStep.RESTORE_AUTO_RENEW, sub, "auto-renew was on before our suspension")
        return None
