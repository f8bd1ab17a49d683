"""Collections evaluation: (policy, profile, ledger, holds, exemptions, state, now) -> decision.

Pure: no I/O, no clock. The caller (the scan, a ledger change) persists `Decision.new_state`,
carries out `Decision.actions` and schedules `Decision.next_review_at`. The rules, and every
choice made where the policy leaves room, are described in docs/collections-policy.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared.domain.calendar import WorkCalendar
from shared.domain.collections_models import (
    Action,
    ActionKind,
    CollectionsState,
    Decision,
    InvoiceRef,
    LedgerSummary,
    NoticeContent,
)
from shared.domain.customer import CustomerProfile, Exemption, ExemptionKind
from shared.domain.holds import Hold, HoldReason
from shared.domain.policy import Policy, Rules, Stage

__all__ = [
    "Action",
    "ActionKind",
    "CollectionsState",
    "Decision",
    "InvoiceRef",
    "LedgerSummary",
    "NoticeContent",
    "Stage",
    "evaluate",
]


# Fields whose change alone is bookkeeping, not a change of state (no version bump).
_BOOKKEEPING = {"last_evaluated_at", "policy_version", "version"}


@dataclass(frozen=True)
class _Facts:
    """What does not change while one evaluation runs."""

    policy: Policy
    rules: Rules
    calendar: WorkCalendar
    profile: CustomerProfile
    ledger: LedgerSummary
    now: datetime
    today: date
    days_past_due: int
    protected: bool
    promise_until: date | None
    enforcement_off_until: date | None

    def day_start(self, days: int) -> datetime:
        """Local midnight of the day the earliest unpaid invoice is `days` days past due (UTC)."""
        earliest = self.ledger.earliest_unpaid_due_date
        assert earliest is not None
        return self.calendar.start_of_day(earliest + timedelta(days=days))


@dataclass
class _Plan:
    steps: list[Stage]  # stages whose action is due now, in order
    pending: list[datetime]  # moments when something else becomes due
    notes: list[str]


def evaluate(
    policy: Policy,
    profile: CustomerProfile,
    ledger: LedgerSummary,
    holds: list[Hold],
    exemptions: list[Exemption],
    state: CollectionsState,
    now: datetime,
    *,
    customer_id: str | None = None,
) -> Decision:
    """Decide the customer's stage, the actions due now and the next review time. Pure.

    `customer_id` (taken from a `StoredProfile` when not given) is matched against the policy's
    protected list.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    calendar = policy.calendar()
    today = calendar.local_date(now)
    rules = policy.rules_for(profile.segment)
    reasons: list[str] = []
    if profile.segment != "default" and profile.segment not in policy.segments:
        reasons.append(f"segment '{profile.segment}' is not in the policy: the defaults apply")
    elif profile.segment in policy.segments:
        reasons.append(f"segment '{profile.segment}': its overrides of the defaults apply")

    earliest = ledger.earliest_unpaid_due_date
    days_past_due = max(0, (today - earliest).days) if earliest else 0
    hold_present = any(hold.reason is HoldReason.NON_PAYMENT for hold in holds)
    new_state = state.model_copy(deep=True)
    actions: list[Action] = []

    minimum = rules.minimum_for(ledger.currency)
    overdue = ledger.overdue_balance.amount
    above = overdue > 0 and (minimum is None or overdue >= minimum) and days_past_due >= 1
    if not above:
        _below_threshold(ledger, minimum, days_past_due, reasons)
        if hold_present:
            actions.append(
                Action(
                    kind=ActionKind.LIFT_HOLD,
                    stage=Stage.CURRENT,
                    reason="the overdue balance is below the minimum: the non_payment hold is lifted",
                )
            )
        if state.episode_id is not None:
            reasons.append(f"overdue episode {state.episode_id} closed")
        new_state = CollectionsState(version=state.version)
        next_review = _next_review_not_overdue(calendar, ledger, today)
        return _finish(policy, state, new_state, Stage.CURRENT, actions, next_review, reasons, now, 0)

    customer_id = customer_id or getattr(profile, "customer_id", None)
    facts = _Facts(
        policy=policy,
        rules=rules,
        calendar=calendar,
        profile=profile,
        ledger=ledger,
        now=now,
        today=today,
        days_past_due=days_past_due,
        protected=profile.protected or policy.is_protected(customer_id),
        promise_until=_active_until(exemptions, ExemptionKind.PROMISE_TO_PAY, today),
        enforcement_off_until=_active_until(exemptions, ExemptionKind.ENFORCEMENT_OFF, today),
    )
    reasons.append(
        f"overdue {ledger.overdue_balance.to_text()} (minimum {_minimum_text(minimum, ledger.currency)}), "
        f"{days_past_due} days past due since {earliest}"
    )
    if new_state.episode_id is None:
        new_state.episode_id = f"ep{state.version + 1}-{today:%Y%m%d}"
        new_state.episode_started_on = today
        reasons.append(f"overdue episode {new_state.episode_id} started")
    reasons.extend(_exemption_reasons(facts, profile, customer_id, policy))

    # Exemptions and protection never leave a non_payment hold in place; lifting is allowed any time.
    if hold_present and (facts.protected or facts.promise_until or facts.enforcement_off_until):
        actions.append(
            Action(
                kind=ActionKind.LIFT_HOLD,
                stage=state.stage,
                reason="an exemption or protection applies: the non_payment hold is lifted",
            )
        )
        hold_present = False
        new_state.suspended_at = None
    elif hold_present and new_state.suspended_at is None:
        new_state.suspended_at = min(h.placed_at for h in holds if h.reason is HoldReason.NON_PAYMENT)

    plan = _plan(facts, new_state, hold_present)
    reasons.extend(plan.notes)
    if plan.steps and not calendar.is_open(now):
        opening = calendar.next_open(now)
        reasons.append(
            f"{', '.join(s.value for s in plan.steps)} due, but outside the enforcement window: "
            f"waiting until it opens at {_local_text(calendar, opening)}"
        )
        pending = [opening]
    else:
        for stage in plan.steps:
            actions.extend(_act(facts, new_state, stage))
            if stage is Stage.SUSPENSION:
                hold_present = True
        # Re-plan from the new state: what is left tells when to look again.
        pending = _plan(facts, new_state, hold_present).pending
    next_review = min((calendar.next_open(max(t, now)) for t in pending), default=None)
    stage = _stage_of(new_state, hold_present)
    return _finish(policy, state, new_state, stage, actions, next_review, reasons, now, days_past_due)


def _plan(facts: _Facts, state: CollectionsState, hold_present: bool) -> _Plan:
    """Which stages' actions are due now, and when the others will be, for this state."""
    rules, dpd, sent = facts.rules, facts.days_past_due, state.notices_sent
    plan = _Plan(steps=[], pending=[], notes=[])
    if facts.promise_until is not None:
        plan.pending.append(facts.calendar.start_of_day(facts.promise_until + timedelta(days=1)))
        return plan
    reminder, warning = rules.day_of(Stage.REMINDER), rules.day_of(Stage.WARNING)
    suspension, escalation = rules.day_of(Stage.SUSPENSION), rules.day_of(Stage.ESCALATION)
    # A protected customer is reminded, never warned of a suspension that will not happen.
    warning_applies = warning is not None and not facts.protected
    warning_due = warning_applies and warning is not None and dpd >= warning

    if warning_applies and warning is not None and Stage.WARNING not in sent:
        if warning_due:
            plan.steps.append(Stage.WARNING)
        else:
            plan.pending.append(facts.day_start(warning))
    if reminder is not None and Stage.REMINDER not in sent and Stage.WARNING not in sent:
        if warning_due:
            plan.notes.append("reminder not sent: the warning is due as well and says everything it says")
        elif dpd >= reminder:
            plan.steps.append(Stage.REMINDER)
        else:
            plan.pending.append(facts.day_start(reminder))

    if suspension is not None and not facts.protected and not hold_present and Stage.WARNING in sent:
        if state.warning_delivered_at is None:
            # Fair notice counts from delivery: no suspension before the warning reached the
            # customer; the sender retries it, and each day looks again.
            # The earliest moment, had it been delivered when sent; once that has passed, daily.
            assumed = state.model_copy(update={"warning_delivered_at": state.warning_sent_at})
            earliest = _earliest_hold(facts, assumed, suspension)
            if facts.now >= earliest:
                plan.notes.append(
                    "no suspension yet: the warning has not been delivered (the notice period "
                    "counts from its delivery)"
                )
            plan.pending.append(earliest if earliest > facts.now else facts.now + timedelta(days=1))
        else:
            earliest_hold = _earliest_hold(facts, state, suspension)
            if facts.now >= earliest_hold:
                plan.steps.append(Stage.SUSPENSION)
                hold_present = True
            else:
                plan.pending.append(earliest_hold)

    if escalation is not None and not facts.protected and Stage.ESCALATION not in sent:
        if suspension is not None:
            ready = hold_present
        elif reminder is not None:
            ready = Stage.REMINDER in sent or Stage.REMINDER in plan.steps
        else:
            ready = True
        if ready and dpd >= escalation:
            plan.steps.append(Stage.ESCALATION)
        elif ready:
            plan.pending.append(facts.day_start(escalation))
    return plan


def _earliest_hold(facts: _Facts, state: CollectionsState, suspension_days: int) -> datetime:
    """The first moment the hold may be placed: the named date, the notice period since the
    warning was delivered, the stage day."""
    assert state.warning_delivered_at is not None and state.suspension_due_on is not None
    moments = [
        facts.calendar.start_of_day(state.suspension_due_on),
        state.warning_delivered_at + timedelta(days=facts.rules.min_notice_days),
        facts.day_start(suspension_days),
    ]
    if facts.enforcement_off_until is not None:
        moments.append(facts.calendar.start_of_day(facts.enforcement_off_until + timedelta(days=1)))
    return max(moments)


def _suspension_date(facts: _Facts) -> date:
    """The date a warning names: the policy's suspension day, at least min_notice_days from today,
    after any enforcement_off exemption, moved to the next working day."""
    earliest = facts.ledger.earliest_unpaid_due_date
    suspension = facts.rules.day_of(Stage.SUSPENSION)
    assert earliest is not None and suspension is not None
    candidates = [
        earliest + timedelta(days=suspension),
        facts.today + timedelta(days=facts.rules.min_notice_days),
    ]
    if facts.enforcement_off_until is not None:
        candidates.append(facts.enforcement_off_until + timedelta(days=1))
    return facts.calendar.working_day_on_or_after(max(candidates))


def _act(facts: _Facts, state: CollectionsState, stage: Stage) -> list[Action]:
    """Carry out one due stage on the new state and return its actions."""
    now, sent = facts.now, state.notices_sent
    if stage is Stage.WARNING:
        due_on = _suspension_date(facts)
        policy_day = facts.rules.day_of(Stage.SUSPENSION)
        state.warning_sent_at = now
        state.warning_delivered_at = None
        state.suspension_due_on = due_on
        sent[stage.value] = now
        late = policy_day is not None and facts.days_past_due >= policy_day
        why = f"warning: {facts.days_past_due} days past due; suspension on or after {due_on}" + (
            " (catch-up: the suspension day had passed without a warning, so it moves)" if late else ""
        )
        return [_notice(facts, stage, ActionKind.SEND_NOTICE, why, suspension_date=due_on)]
    if stage is Stage.REMINDER:
        sent[stage.value] = now
        why = f"reminder: {facts.days_past_due} days past due"
        return [_notice(facts, stage, ActionKind.SEND_NOTICE, why)]
    if stage is Stage.SUSPENSION:
        state.suspended_at = now
        why = (
            f"suspension: warning delivered {state.warning_delivered_at:%Y-%m-%d %H:%M} UTC named "
            f"{state.suspension_due_on}; {facts.days_past_due} days past due"
        )
        actions = [Action(kind=ActionKind.PLACE_HOLD, stage=stage, reason=why)]
        if stage.value not in sent:
            sent[stage.value] = now
            actions.append(_notice(facts, stage, ActionKind.SEND_NOTICE, why, suspension_date=facts.today))
        return actions
    # Escalation: the partner's staff are told; the customer is not. The notice's date is the day
    # the subscriptions were suspended (None when this policy escalates without suspending).
    state.escalated_at = now
    sent[stage.value] = now
    why = f"escalation: {facts.days_past_due} days past due; recommend cancellation"
    since = facts.calendar.local_date(state.suspended_at) if state.suspended_at else None
    return [_notice(facts, stage, ActionKind.NOTIFY_STAFF, why, suspension_date=since)]


def _notice(
    facts: _Facts, stage: Stage, kind: ActionKind, reason: str, suspension_date: date | None = None
) -> Action:
    content = NoticeContent(
        stage=stage,
        customer_name=facts.profile.name,
        locale=facts.profile.locale,
        amount_overdue=facts.ledger.overdue_balance,
        invoices=list(facts.ledger.overdue_invoices),
        earliest_due_date=facts.ledger.earliest_unpaid_due_date,
        days_past_due=facts.days_past_due,
        suspension_date=suspension_date,
        how_to_pay=facts.policy.how_to_pay.text(facts.profile.locale),
        time_zone=facts.policy.time_zone,
    )
    return Action(kind=kind, stage=stage, notice=content, reason=reason)


def _stage_of(state: CollectionsState, hold_present: bool) -> Stage:
    if state.escalated_at is not None:
        return Stage.ESCALATION
    if hold_present:
        return Stage.SUSPENSION
    if Stage.WARNING in state.notices_sent:
        return Stage.WARNING
    if Stage.REMINDER in state.notices_sent:
        return Stage.REMINDER
    return Stage.CURRENT


def _finish(
    policy: Policy,
    old: CollectionsState,
    new: CollectionsState,
    stage: Stage,
    actions: list[Action],
    next_review: datetime | None,
    reasons: list[str],
    now: datetime,
    days_past_due: int,
) -> Decision:
    new.stage = stage
    changed = old.model_dump(exclude=_BOOKKEEPING) != new.model_dump(exclude=_BOOKKEEPING)
    new.version = old.version + 1 if changed else old.version
    new.last_evaluated_at = now
    new.policy_version = policy.version
    if not actions:
        reasons.append("no action due")
    return Decision(
        stage=stage,
        actions=actions,
        new_state=new,
        next_review_at=next_review,
        reasons=reasons,
        policy_version=policy.version,
        days_past_due=days_past_due,
    )


def _below_threshold(
    ledger: LedgerSummary, minimum: Decimal | None, days_past_due: int, reasons: list[str]
) -> None:
    if ledger.overdue_balance.amount <= 0 or days_past_due < 1:
        reasons.append("nothing overdue")
    else:
        reasons.append(
            f"overdue {ledger.overdue_balance.to_text()} is below the minimum "
            f"{minimum} {ledger.currency}: nothing happens"
        )


def _next_review_not_overdue(calendar: WorkCalendar, ledger: LedgerSummary, today: date) -> datetime | None:
    """With nothing overdue above the minimum, only an invoice falling due can change things."""
    upcoming = ledger.next_due_date
    earliest = ledger.earliest_unpaid_due_date
    if upcoming is None and earliest is not None and earliest >= today:
        upcoming = earliest
    if upcoming is not None:
        moment = calendar.start_of_day(max(upcoming, today) + timedelta(days=1))
    elif ledger.open_balance.amount > ledger.overdue_balance.amount:
        # Something unpaid is not yet due but its date is unknown here: look again tomorrow.
        moment = calendar.start_of_day(today + timedelta(days=1))
    else:
        return None
    return calendar.next_open(moment)


def _active_until(exemptions: list[Exemption], kind: ExemptionKind, today: date) -> date | None:
    """The last day of the active exemptions of this kind (until is inclusive), or None."""
    ends = [e.until for e in exemptions if e.kind is kind and e.until >= today]
    return max(ends, default=None)


def _exemption_reasons(
    facts: _Facts, profile: CustomerProfile, customer_id: str | None, policy: Policy
) -> list[str]:
    reasons = []
    if profile.protected:
        reasons.append("protected customer (profile): reminders only, never a warning, hold or escalation")
    elif policy.is_protected(customer_id):
        reasons.append(
            "protected customer (policy list): reminders only, never a warning, hold or escalation"
        )
    if facts.promise_until is not None:
        reasons.append(f"promise to pay until {facts.promise_until}: no notice and no hold until then")
    if facts.enforcement_off_until is not None:
        reasons.append(f"enforcement off until {facts.enforcement_off_until}: no hold until then")
    return reasons


def _minimum_text(minimum: Decimal | None, currency: str) -> str:
    return f"{minimum} {currency}" if minimum is not None else f"none configured for {currency}"


def _local_text(calendar: WorkCalendar, moment: datetime) -> str:
    return f"{moment.astimezone(calendar.time_zone):%Y-%m-%d %H:%M} {calendar.time_zone.key}"
