"""Credit control in a customer's transaction: the rows and audit entries a credit decision
(`shared/domain/credit.py`) stages, and the lift that a payment or a raised limit causes.

Two ways in:
- `stage_credit`: the exposure refresh (`shared/services/exposure/apply.py`) carries out the
  whole decision: finance told (an `alert.credit_*` audit entry, which raises the alert), the
  at-limit notice (a notice row and its outbox item), the `credit_limit` hold placed or lifted
  (with a reconcile in the outbox), the exposure and credit rows;
- `stage_credit_after_change`: a ledger or profile change, or an exemption (`commit._apply`),
  re-prices the stored exposure with the ledger as it now is and lifts the `credit_limit` hold at
  once when exposure fell under the limit, the limit was raised, or an exemption now applies.
  It never places a hold or sends a notice: those are the refresh's, under the enforcement
  window and the cap.
In dry run nothing is held, lifted or sent: the audit says what would have been, and the credit
row remembers since when a hold would stand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from shared.adapters.customers import (
    CollectionsRecord,
    CustomerAggregate,
    CustomerChange,
    NoticeRecord,
    OutboxItem,
)
from shared.adapters.layout import CREDIT_ROW, EXPOSURE_ROW, NOTICE_PREFIX, hold_row
from shared.domain.collections_models import CreditNotice, LedgerSummary, NoticeContent
from shared.domain.credit import CreditAction, CreditActionKind, CreditDecision, CreditState, evaluate_credit
from shared.domain.customer import ExemptionKind
from shared.domain.exposure import Exposure, to_minor
from shared.domain.holds import CREDIT_LIMIT_HOLD_ID, HoldReason
from shared.domain.messages import derived_message_id
from shared.domain.money import Money
from shared.domain.policy import Stage
from shared.services.collections.actions import CommitContext, audit_entry, new_hold
from shared.telemetry import metric

CREDIT_NOTICE_STAGE = "credit_limit"
_HOLD = {"hold_id": CREDIT_LIMIT_HOLD_ID, "hold_reason": HoldReason.CREDIT_LIMIT.value}


@dataclass
class CreditStaged:
    """What staging a credit decision added: action names, and why a reconcile must follow."""

    applied: list[str] = field(default_factory=list)
    reconcile_reasons: list[str] = field(default_factory=list)
    notices: list[OutboxItem] = field(default_factory=list)
    hold_placed: bool = False


def stage_credit(
    change: CustomerChange,
    aggregate: CustomerAggregate,
    decision: CreditDecision,
    exposure: Exposure,
    ledger: LedgerSummary,
    ctx: CommitContext,
    *,
    dry_run: bool,
    hold_allowed: bool = True,
) -> CreditStaged:
    """Stage every action of `decision` and the credit and exposure rows into `change`.
    `hold_allowed` False: the cap is reached, the hold waits (the decision is kept otherwise)."""
    staged = CreditStaged()
    state = decision.new_state
    for action in decision.actions:
        kind = action.kind
        if kind in (CreditActionKind.TELL_THRESHOLD, CreditActionKind.TELL_LIMIT):
            _tell(change, ctx, action, exposure, decision, dry_run)
            staged.applied.append(kind.value)
        elif kind is CreditActionKind.SEND_NOTICE:
            if dry_run:
                change.audit(audit_entry(ctx, "credit.notice_dry_run", f"dry run, not sent: {action.reason}"))
            else:
                staged.notices.append(_notice(change, aggregate, state, exposure, ledger, ctx, action))
            staged.applied.append(kind.value)
        elif kind is CreditActionKind.PLACE_HOLD:
            if not hold_allowed:
                reason = (
                    "the blast-radius cap of this refresh was reached: the credit_limit hold "
                    f"waits ({action.reason})"
                )
                change.audit(audit_entry(ctx, "credit.hold_capped", reason))
                continue
            if dry_run:
                if state.would_hold_since is None:
                    state.would_hold_since = ctx.now
                    change.audit(
                        audit_entry(ctx, "credit.hold_dry_run", f"dry run, no hold: {action.reason}")
                    )
                continue
            _place(change, aggregate, ctx, action)
            staged.applied.append(kind.value)
            staged.reconcile_reasons.append("credit_limit hold placed")
            staged.hold_placed = True
        elif kind is CreditActionKind.LIFT_HOLD and _lift(change, aggregate, ctx, action):
            staged.applied.append(kind.value)
            staged.reconcile_reasons.append("credit_limit hold lifted")
    known = aggregate.credit
    if known is None or known.value.model_dump(exclude={"updated_at"}) != state.model_dump(
        exclude={"updated_at"}
    ):
        change.put(state, CREDIT_ROW, known.etag if known else None)
    stored = aggregate.exposure
    if stored is None or not exposure.same_figures(stored.value):
        change.put(exposure, EXPOSURE_ROW, stored.etag if stored else None)
    return staged


def _tell(
    change: CustomerChange,
    ctx: CommitContext,
    action: CreditAction,
    exposure: Exposure,
    decision: CreditDecision,
    dry_run: bool,
) -> None:
    """Finance is told: an `alert.*` entry raises the alert (with the customer) as it commits."""
    name = "credit_threshold" if action.kind is CreditActionKind.TELL_THRESHOLD else "credit_limit_reached"
    limit = decision.new_state.limit
    change.audit(
        audit_entry(
            ctx,
            f"alert.{name}",
            action.reason + (" (dry run)" if dry_run else ""),
            exposure=exposure.total.to_text(),
            credit_limit=limit.to_text() if limit else None,
            used_percent=str(decision.new_state.used_percent) if decision.new_state.used_percent else None,
        )
    )
    metric("credit.finance_told", level=decision.level.value)


def _notice(
    change: CustomerChange,
    aggregate: CustomerAggregate,
    state: CreditState,
    exposure: Exposure,
    ledger: LedgerSummary,
    ctx: CommitContext,
    action: CreditAction,
) -> OutboxItem:
    notice_id = state.notice_id
    assert aggregate.profile is not None and notice_id is not None and state.limit is not None
    profile = aggregate.profile.value
    rules = ctx.policy.credit
    content = NoticeContent(
        stage=Stage.CURRENT,
        customer_name=profile.name,
        locale=profile.locale,
        amount_overdue=ledger.overdue_balance,
        invoices=list(ledger.overdue_invoices),
        earliest_due_date=ledger.earliest_unpaid_due_date,
        days_past_due=0,
        how_to_pay=ctx.policy.how_to_pay.text(profile.locale),
        time_zone=ctx.policy.time_zone,
        credit=CreditNotice(
            exposure=exposure.total,
            credit_limit=state.limit,
            unbilled=_money(exposure.unbilled.amount + exposure.seats_added.amount, exposure.currency),
            hold_follows=rules.holds_at_limit(profile.segment),
            hold_after_days=rules.hold_after_notice_days,
        ),
    )
    notice = NoticeRecord(
        notice_id=notice_id,
        stage=CREDIT_NOTICE_STAGE,
        episode_id=notice_id,
        content=content,
        created_at=ctx.now,
        correlation_id=ctx.correlation_id,
    )
    change.put(notice, NOTICE_PREFIX + notice_id, None)
    change.audit(audit_entry(ctx, "notice.send_notice", action.reason, notice_id=notice_id))
    metric("collections.notices_decided", stage=CREDIT_NOTICE_STAGE)
    return OutboxItem(
        kind="notice",
        message_id=derived_message_id(aggregate.customer_id, "notice", notice_id),
        reason=action.reason[:200],
        correlation_id=ctx.correlation_id,
        notice_id=notice_id,
        staged_at=ctx.now,
    )


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=to_minor(amount, currency), currency=currency)


def _place(
    change: CustomerChange, aggregate: CustomerAggregate, ctx: CommitContext, action: CreditAction
) -> None:
    if CREDIT_LIMIT_HOLD_ID in aggregate.holds:
        return
    hold = new_hold(ctx, CREDIT_LIMIT_HOLD_ID, HoldReason.CREDIT_LIMIT, action.reason)
    change.put(hold, hold_row(CREDIT_LIMIT_HOLD_ID), None)
    change.audit(audit_entry(ctx, "hold.placed", action.reason, **_HOLD))
    metric("collections.holds_placed", reason=HoldReason.CREDIT_LIMIT.value)


def _lift(
    change: CustomerChange, aggregate: CustomerAggregate, ctx: CommitContext, action: CreditAction
) -> bool:
    stored = aggregate.holds.get(CREDIT_LIMIT_HOLD_ID)
    if stored is None or stored.value.reason is not HoldReason.CREDIT_LIMIT:
        return False
    change.delete(hold_row(CREDIT_LIMIT_HOLD_ID), stored.etag)
    change.audit(audit_entry(ctx, "hold.lifted", action.reason, **_HOLD))
    metric("collections.holds_lifted", reason=HoldReason.CREDIT_LIMIT.value)
    return True


def repriced(exposure: Exposure, ledger: LedgerSummary, ctx: CommitContext) -> Exposure | None:
    """The stored exposure with the ledger as it is now (its unbilled and seat parts as read by
    the last refresh); None when the ledger is in another currency than the exposure."""
    if ledger.currency != exposure.currency:
        return None
    cur = exposure.currency
    overdue = ledger.overdue_balance.amount
    not_yet_due = ledger.open_balance.amount - overdue
    credit = ledger.credit_balance.amount
    total = overdue + not_yet_due - credit + exposure.unbilled.amount + exposure.seats_added.amount
    return exposure.model_copy(
        update={
            "overdue": _money(overdue, cur),
            "not_yet_due": _money(not_yet_due, cur),
            "credit": _money(credit, cur),
            "total": _money(total, cur),
            "as_of": ctx.now,
        }
    )


def hold_paused(aggregate: CustomerAggregate, today: date) -> str | None:
    """An exemption that keeps any hold off now (as it does the non_payment hold)."""
    for stored in aggregate.exemptions.values():
        ex = stored.value
        if ex.until >= today and ex.kind in (ExemptionKind.ENFORCEMENT_OFF, ExemptionKind.PROMISE_TO_PAY):
            return f"{ex.kind.value} until {ex.until.isoformat()}"
    return None


def stage_credit_after_change(
    change: CustomerChange, aggregate: CustomerAggregate, ledger: LedgerSummary, ctx: CommitContext
) -> str | None:
    """Lift the credit_limit hold when the change brought exposure under the limit (or raised
    the limit); the reason for the reconcile, or None when nothing was lifted."""
    stored_hold = aggregate.holds.get(CREDIT_LIMIT_HOLD_ID)
    if stored_hold is None or aggregate.profile is None:
        return None
    if stored_hold.value.reason is not HoldReason.CREDIT_LIMIT:
        return None
    state = aggregate.credit.value if aggregate.credit else None
    exposure = repriced(aggregate.exposure.value, ledger, ctx) if aggregate.exposure else None
    if exposure is None or state is None:
        return None
    profile = aggregate.profile.value
    decision = evaluate_credit(
        exposure=exposure,
        profile=profile,
        rules=ctx.policy.credit,
        protected=profile.protected or ctx.policy.is_protected(aggregate.customer_id),
        hold_present=True,
        notice_delivered_at=None,
        state=state,
        now=ctx.now,
        window_open=False,  # a change never places or notifies; lifting is allowed any time
        hold_paused=hold_paused(aggregate, ctx.policy.calendar().local_date(ctx.now)),
    )
    lift = next((a for a in decision.actions if a.kind is CreditActionKind.LIFT_HOLD), None)
    if lift is None:
        return None
    _lift(change, aggregate, ctx, lift)
    new_state = decision.new_state
    change.put(new_state, CREDIT_ROW, aggregate.credit.etag if aggregate.credit else None)
    assert aggregate.exposure is not None
    change.put(exposure, EXPOSURE_ROW, aggregate.exposure.etag)
    return "credit_limit hold lifted"


def outbox_after(record: CollectionsRecord, staged: CreditStaged) -> None:
    """Add the notices a credit decision staged to the state row's outbox."""
    record.outbox.extend(staged.notices)
