"""The rows one decided action stages in a commit: the `non_payment` hold placed or lifted, or
a notice row with its outbox item (at most one notice per stage per overdue episode)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.adapters.audit import AuditEntry
from shared.adapters.customers import (
    CollectionsRecord,
    CustomerAggregate,
    CustomerChange,
    NoticeRecord,
    OutboxItem,
)
from shared.adapters.layout import NOTICE_PREFIX, hold_row
from shared.domain.collections import Action, ActionKind
from shared.domain.holds import NON_PAYMENT_HOLD_ID, Hold, HoldReason
from shared.domain.identity import Actor
from shared.domain.messages import derived_message_id
from shared.domain.policy import Policy
from shared.services.collections.decision import notice_id_for
from shared.telemetry import metric

_NON_PAYMENT = {"hold_id": NON_PAYMENT_HOLD_ID, "hold_reason": "non_payment"}


@dataclass(frozen=True)
class CommitContext:
    """Who commits, when, under which policy and correlation id."""

    policy: Policy
    now: datetime
    actor: Actor
    correlation_id: str
    mode_epoch: int = 0  # the dry-run period a shadow belongs to (`rollout.observe_mode`)


@dataclass(frozen=True)
class StagedAction:
    """What one action added to the commit: its name, and why a reconcile must follow (if so)."""

    applied: str
    reconcile_reason: str | None = None


def audit_entry(ctx: CommitContext, action: str, reason: str, **details: object) -> AuditEntry:
    """An audit entry of this commit (its actor, time, policy version and correlation id)."""
    return AuditEntry(
        at=ctx.now,
        actor=ctx.actor,
        action=action,
        reason=reason[:4000],
        correlation_id=ctx.correlation_id,
        policy_version=ctx.policy.version,
        details=dict(details),
    )


def new_hold(
    ctx: CommitContext, hold_id: str, reason: HoldReason, note: str, source_ref: str | None = None
) -> Hold:
    """A hold placed by this commit's actor, now, with its note and correlation id."""
    return Hold(
        hold_id=hold_id,
        reason=reason,
        placed_at=ctx.now,
        placed_by=ctx.actor.label,
        placed_by_id=ctx.actor.id,
        note=note[:2000],
        source_ref=source_ref,
        correlation_id=ctx.correlation_id,
    )


def stage_action(
    change: CustomerChange,
    aggregate: CustomerAggregate,
    record: CollectionsRecord,
    action: Action,
    ctx: CommitContext,
    approving_batch: str | None,
) -> StagedAction | None:
    """Stage the rows and audit entry of `action`; None when it is already in place."""
    if action.kind is ActionKind.PLACE_HOLD:
        if NON_PAYMENT_HOLD_ID in aggregate.holds:
            return None
        hold = new_hold(ctx, NON_PAYMENT_HOLD_ID, HoldReason.NON_PAYMENT, action.reason, approving_batch)
        change.put(hold, hold_row(NON_PAYMENT_HOLD_ID), None)
        change.audit(audit_entry(ctx, "hold.placed", action.reason, **_NON_PAYMENT))
        metric("collections.holds_placed")
        return StagedAction("place_hold", "non_payment hold placed")
    if action.kind is ActionKind.LIFT_HOLD:
        stored = aggregate.holds.get(NON_PAYMENT_HOLD_ID)
        if stored is None:
            return None
        change.delete(hold_row(NON_PAYMENT_HOLD_ID), stored.etag)
        change.audit(audit_entry(ctx, "hold.lifted", action.reason, **_NON_PAYMENT))
        metric("collections.holds_lifted")
        return StagedAction("lift_hold", "non_payment hold lifted")
    if action.notice is None:
        return None
    notice_id = notice_id_for(record.state.episode_id, action.stage)
    if notice_id in aggregate.notices:
        return None  # at most one notice per stage per episode
    notice = NoticeRecord(
        notice_id=notice_id,
        stage=action.stage.value,
        episode_id=record.state.episode_id or "none",
        content=action.notice,
        created_at=ctx.now,
        correlation_id=ctx.correlation_id,
        audience="staff" if action.kind is ActionKind.NOTIFY_STAFF else "customer",
    )
    change.put(notice, NOTICE_PREFIX + notice_id, None)
    change.audit(audit_entry(ctx, f"notice.{action.kind.value}", action.reason, notice_id=notice_id))
    record.outbox.append(
        OutboxItem(
            kind="notice",
            message_id=derived_message_id(aggregate.customer_id, "notice", notice_id),
            reason=action.reason[:200],
            correlation_id=ctx.correlation_id,
            notice_id=notice_id,
            staged_at=ctx.now,
        )
    )
    metric("collections.notices_decided", stage=action.stage.value)
    return StagedAction(f"{action.kind.value}:{action.stage.value}")
