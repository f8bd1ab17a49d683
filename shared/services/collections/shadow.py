"""Dry run's shadow: the collections state enforce would have, so a partner sees the real plan.

In `ENFORCEMENT_MODE=dry_run` every evaluation (the scan, a ledger change) reads and writes the
customer's `shadow` row instead of its real `state` row: the same `evaluate()` over the same
ledger, exemptions and calendar, with the shadow's own stage history and its would-be
`non_payment` hold. What enforce would do appears on the same dates, as `would.*` audit
entries, in the customer view and in the preview; nothing is sent and no hold row is written.

Rules that keep the shadow honest:
- it is kept apart: enforce never reads it, and nothing copies it into the real state (the
  shadow never silently becomes real). Switching to enforce starts from the real state, which
  dry run never advanced, so the first real warning comes before any hold, `min_notice_days`
  earlier (see `rollout.py`);
- a shadow belongs to one dry-run period (`epoch` of the mode row): one from an earlier period
  starts again from the real state (state, notices and hold as they are);
- a would-be warning counts as delivered when decided (dry run sends nothing to wait for);
- a ledger change leaves a due suspension to the next scan, as enforce does; the blast-radius
  cap is checked and said (`would be held back`), but the would-be hold is placed, since no
  person approves a dry-run batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.adapters.customers import CustomerAggregate, CustomerChange, ShadowNotice, ShadowRecord
from shared.adapters.layout import SHADOW_ROW
from shared.domain.collections import Action, ActionKind, Decision
from shared.domain.holds import NON_PAYMENT_HOLD_ID, Hold, HoldReason
from shared.domain.policy import Stage
from shared.services.collections.actions import CommitContext, audit_entry
from shared.services.collections.cap import CapGate
from shared.services.collections.decision import decide, notice_id_for

SHADOW_ACTOR = "dry-run"


def shadow_base(aggregate: CustomerAggregate, epoch: int) -> ShadowRecord:
    """The customer's shadow of this dry-run period, or a new one from the real state."""
    stored = aggregate.shadow
    if stored is not None and stored.value.epoch == epoch:
        return stored.value.model_copy(deep=True)
    real = aggregate.collections
    hold = aggregate.holds.get(NON_PAYMENT_HOLD_ID)
    notices = [
        ShadowNotice(
            notice_id=notice_id,
            stage=n.value.stage,
            kind="notify_staff" if n.value.audience == "staff" else "send_notice",
            decided_at=n.value.created_at,
            suspension_date=n.value.content.suspension_date,
        )
        for notice_id, n in aggregate.notices.items()
        if n.value.episode_id == real.state.episode_id
    ]
    return ShadowRecord(
        epoch=epoch,
        state=real.state.model_copy(deep=True),
        hold_placed_at=hold.value.placed_at if hold else None,
        notices=notices,
        next_review_at=real.next_review_at,
    )


def shadow_holds(aggregate: CustomerAggregate, shadow: ShadowRecord) -> list[Hold]:
    """The real holds but `non_payment`, plus the shadow's would-be `non_payment` hold."""
    holds = [s.value for s in aggregate.holds.values() if s.value.reason is not HoldReason.NON_PAYMENT]
    if shadow.hold_placed_at is not None:
        holds.append(
            Hold(
                hold_id=NON_PAYMENT_HOLD_ID,
                reason=HoldReason.NON_PAYMENT,
                placed_at=shadow.hold_placed_at,
                placed_by=SHADOW_ACTOR,
            )
        )
    return holds


def decide_shadow(aggregate: CustomerAggregate, ctx: CommitContext) -> tuple[Decision, ShadowRecord]:
    """The decision enforce would make now, over this period's shadow."""
    base = shadow_base(aggregate, ctx.mode_epoch)
    holds = shadow_holds(aggregate, base)
    return decide(aggregate, ctx.policy, ctx.now, holds=holds, state=base.state), base


@dataclass(frozen=True)
class ShadowOutcome:
    """What one dry-run evaluation decided, and whether the shadow row is staged for writing."""

    decision: Decision
    shadow: ShadowRecord
    applied: list[str]
    staged: bool
    episode_started: bool = False  # the shadow opened an overdue episode


def commit_shadow(
    aggregate: CustomerAggregate,
    ctx: CommitContext,
    change: CustomerChange,
    *,
    defer_suspension: bool,
    cap: CapGate | None,
) -> ShadowOutcome:
    """Stage the shadow's new row and its `would.*` audit entries on `change` (nothing is
    staged when the shadow would not change and nothing else is written)."""
    decision, base = decide_shadow(aggregate, ctx)
    new = base.model_copy(deep=True)
    new.updated_at = ctx.now
    new.next_review_at = decision.next_review_at
    places = any(a.kind is ActionKind.PLACE_HOLD for a in decision.actions)
    applied: list[str] = []
    if places and defer_suspension:
        # As enforce: a change leaves the suspension to the next scan (and nothing of this
        # decision is applied; the scan decides again at once).
        new.next_review_at = ctx.now
        reason = "a suspension would be due: the next scan would place it, under the blast-radius cap"
        change.audit(audit_entry(ctx, "would.suspension_deferred", reason))
        applied.append("would defer suspension")
    else:
        if places and cap is not None and not cap.admit(aggregate.customer_id):
            reason = "the blast-radius cap of this scan would hold this suspension back for approval"
            change.audit(audit_entry(ctx, "would.suspension_held_back", reason))
        new.state = decision.new_state
        for action in decision.actions:
            if _apply(new, action, ctx, change):
                applied.append(f"would {action.kind.value} ({action.stage.value})")
    episode = new.state.episode_id
    new.notices = [n for n in new.notices if n.notice_id.split(":")[0] == (episode or "none")]
    new.review_on_switch = bool(
        episode or aggregate.collections.state.episode_id or new.hold_placed_at or places
    )
    started = episode is not None and episode != base.state.episode_id
    stored = aggregate.shadow
    if not applied and not change.entries and stored is not None and _same(stored.value, new):
        return ShadowOutcome(decision, new, applied, staged=False, episode_started=started)
    change.put(new, SHADOW_ROW, stored.etag if stored else None)
    return ShadowOutcome(decision, new, applied, staged=True, episode_started=started)


def _apply(shadow: ShadowRecord, action: Action, ctx: CommitContext, change: CustomerChange) -> bool:
    """Apply one would-be action to the shadow (False when already in place)."""
    if action.kind is ActionKind.PLACE_HOLD:
        if shadow.hold_placed_at is not None:
            return False
        shadow.hold_placed_at = ctx.now
        shadow.state.suspended_at = ctx.now
    elif action.kind is ActionKind.LIFT_HOLD:
        if shadow.hold_placed_at is None:
            return False
        shadow.hold_placed_at = None
    else:
        notice_id = notice_id_for(shadow.state.episode_id, action.stage)
        if any(n.notice_id == notice_id for n in shadow.notices):
            return False
        content = action.notice
        shadow.notices.append(
            ShadowNotice(
                notice_id=notice_id,
                stage=action.stage.value,
                kind=action.kind.value,
                decided_at=ctx.now,
                suspension_date=content.suspension_date if content else None,
            )
        )
        if action.stage is Stage.WARNING:
            shadow.state.warning_delivered_at = ctx.now  # nothing is sent: taken as delivered
    details: dict[str, object] = {"stage": action.stage.value}
    if action.notice is not None and action.notice.suspension_date is not None:
        details["suspension_date"] = action.notice.suspension_date.isoformat()
    change.audit(audit_entry(ctx, f"would.{action.kind.value}", action.reason, **details))
    return True


_BOOKKEEPING = {"updated_at", "next_review_at"}


def _same(old: ShadowRecord, new: ShadowRecord) -> bool:
    skip_state = {"last_evaluated_at", "policy_version"}
    if old.model_dump(exclude=_BOOKKEEPING | {"state"}) != new.model_dump(exclude=_BOOKKEEPING | {"state"}):
        return False
    return old.state.model_dump(exclude=skip_state) == new.state.model_dump(exclude=skip_state)


def decide_for_mode(
    deps_dry_run: bool, aggregate: CustomerAggregate, ctx: CommitContext
) -> tuple[Decision, list[Hold], ShadowRecord | None]:
    """For reads (view, preview, forecast): the decision, holds and shadow of the current mode."""
    if not deps_dry_run:
        holds = [s.value for s in aggregate.holds.values()]
        return decide(aggregate, ctx.policy, ctx.now), holds, None
    decision, base = decide_shadow(aggregate, ctx)
    return decision, shadow_holds(aggregate, base), base
