"""Four-eyes: a second person approves or rejects a pending change, and the release of a
batch held back by the cap is asked for here first.

Approval, in order, so that a crash anywhere leaves nothing half-done:
1. the change is claimed (`approving`, with the approver) under its ETag: a rejection racing it
   loses, and a second approver sees who is at it;
2. the change is carried out by the ordinary use case, as the approver, idempotently (the
   exemption takes the change's id; protecting a protected customer changes nothing; releasing
   a released batch returns it), so approving again after a crash finishes the job;
3. the change is marked `approved` with what was done, and audited. A refusal in step 2 (the
   customer is gone, the date has passed, the window is closed) puts it back to `pending` and
   answers the reason.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.changes import is_expired
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.tables import Stored
from shared.domain.changes import (
    ChangeKind,
    ChangeStatus,
    PendingChange,
    SelfApproval,
    batch_texts,
    check_approver,
)
from shared.domain.fraud import Text
from shared.domain.identity import Actor
from shared.domain.policy import Policy
from shared.errors import AppError, Conflict, Forbidden, NotFound
from shared.services.collections import approvals, controls, ledger
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.pending import ask, audit_change, valid_change_id
from shared.services.outcomes import Effect, Written


class ApprovalNote(BaseModel):
    """Body of `POST /api/changes/{id}/approval` (optional; a note)."""

    model_config = ConfigDict(extra="forbid")

    note: Text = Field(default="", max_length=2000)


class Rejection(ApprovalNote):
    """Body of `POST /api/changes/{id}/rejection`: why (required)."""

    note: Text = Field(min_length=1, max_length=2000)


def request_batch_release(
    deps: CollectionsDeps, batch_id: str, *, actor: Actor, policy: Policy, correlation_id: str
) -> Written[approvals.SuspensionBatch] | Written[PendingChange]:
    """Release a held-back batch (updated), or, under four-eyes, ask a second person to
    (pending). A released batch is returned as it is (unchanged)."""
    batch = approvals.get_batch(deps, approvals.valid_batch_id(batch_id))
    if batch.status is approvals.BatchStatus.RELEASED:
        return Written(batch, Effect.UNCHANGED)
    if not policy.four_eyes.release_cap_batch:
        released = approvals.release_batch(deps, batch.batch_id, actor=actor, policy=policy)
        return Written(released, Effect.UPDATED)
    summary, why = batch_texts(batch.batch_id, len(batch.customer_ids))
    change = ask(
        deps,
        ChangeKind.RELEASE_CAP_BATCH,
        actor=actor,
        policy=policy,
        summary=summary,
        why=why,
        correlation_id=correlation_id,
        batch_id=batch.batch_id,
        payload={"batch_id": batch.batch_id},
    )
    return Written(change, Effect.PENDING)


def _load(deps: CollectionsDeps, change_id: str) -> Stored[PendingChange]:
    stored = deps.changes.get(valid_change_id(change_id))
    if stored is None:
        raise NotFound(f"no change {change_id!r}")
    return stored


def _refuse_own(change: PendingChange, actor: Actor, approving: bool) -> None:
    try:
        check_approver(change, actor.ref)
    except SelfApproval as exc:
        verb_zh, verb_en = ("批准", "approve") if approving else ("驳回", "reject")
        raise Forbidden(
            str(exc),
            members={
                "change_id": change.change_id,
                "requested_by": change.requested_by.model_dump(mode="json"),
            },
            localized={
                "zh-CN": (
                    f"变更 {change.change_id} 由您本人提出：须由另一位拥有 Collections.Approve "
                    f"的人员{verb_zh}（双人复核）。"
                ),
                "en": (
                    f"You asked for change {change.change_id}: another person with "
                    f"Collections.Approve must {verb_en} it (four-eyes)."
                ),
            },
        ) from None


def _expire(deps: CollectionsDeps, stored: Stored[PendingChange]) -> Conflict:
    change = stored.value
    expired = change.model_copy(update={"status": ChangeStatus.EXPIRED})
    deps.changes.save(stored, expired)
    return Conflict(f"change {change.change_id} expired at {change.expires_at.isoformat()}: ask for it again")


def approve_change(
    deps: CollectionsDeps, change_id: str, decision: ApprovalNote, *, actor: Actor, correlation_id: str
) -> PendingChange:
    """Approve a change another person asked for, and carry it out (see the module docstring)."""
    policy = deps.policy_for_request()

    def claim() -> PendingChange:
        stored = _load(deps, change_id)
        change = stored.value
        _refuse_own(change, actor, approving=True)
        if change.status is ChangeStatus.APPROVED:
            return change  # approved before: answered as it is
        if not change.status.open:
            raise Conflict(f"change {change.change_id} is {change.status.value}")
        now = deps.clock.now()
        if is_expired(change, now):
            raise _expire(deps, stored)
        claimed = change.model_copy(
            update={
                "status": ChangeStatus.APPROVING,
                "decided_by": actor.ref,
                "decided_at": now,
                "decision_note": decision.note or None,
            }
        )
        return deps.changes.save(stored, claimed)

    claimed = retry_on_conflict(claim, what=f"change {change_id}")
    if claimed.status is ChangeStatus.APPROVED:
        return claimed
    try:
        result = _carry_out(deps, claimed, actor, policy, correlation_id)
    except AppError:
        retry_on_conflict(lambda: _reopen(deps, claimed.change_id), what=f"change {change_id}")
        raise

    def finish() -> PendingChange:
        stored = _load(deps, claimed.change_id)
        done = stored.value.model_copy(update={"status": ChangeStatus.APPROVED, "result": result[:2000]})
        return deps.changes.save(stored, done)

    approved = retry_on_conflict(finish, what=f"change {change_id}")
    audit_change(
        deps,
        approved,
        actor,
        "change.approved",
        f"{approved.summary['en']}: {result}",
        correlation_id,
        deps.clock.now(),
    )
    return approved


def _reopen(deps: CollectionsDeps, change_id: str) -> None:
    stored = _load(deps, change_id)
    if stored.value.status is ChangeStatus.APPROVING:
        back = stored.value.model_copy(
            update={
                "status": ChangeStatus.PENDING,
                "decided_by": None,
                "decided_at": None,
                "decision_note": None,
            }
        )
        deps.changes.save(stored, back)


def _carry_out(
    deps: CollectionsDeps, change: PendingChange, actor: Actor, policy: Policy, correlation_id: str
) -> str:
    """Do what the change asks, as the approver; what was done, in words."""
    if change.kind is ChangeKind.RELEASE_CAP_BATCH:
        assert change.batch_id is not None
        requester = Actor(**change.requested_by.model_dump())
        batch = approvals.release_batch(
            deps, change.batch_id, actor=actor, policy=policy, requested_by=requester
        )
        return f"batch {batch.batch_id} released: {len(batch.customer_ids)} customer(s) re-evaluated"
    if change.kind is ChangeKind.MARK_PROTECTED:
        ledger.mark_protected(deps, change, actor=actor, correlation_id=correlation_id)
        return f"customer {change.customer_id} marked protected"
    if change.kind is ChangeKind.RAISE_CREDIT_LIMIT:
        ledger.set_credit_limit(deps, change, actor=actor, correlation_id=correlation_id)
        limit = change.payload.get("credit_limit") or "none"
        return f"customer {change.customer_id}'s credit limit set to {limit}"
    assert change.customer_id is not None
    body = controls.ExemptionIn.model_validate(change.payload)
    written = controls.write_exemption(
        deps, change.customer_id, body, actor=actor, correlation_id=correlation_id, approved=change
    )
    return f"exemption {written.value.exemption_id} ({body.kind.value} until {body.until.isoformat()}) added"


def reject_change(
    deps: CollectionsDeps, change_id: str, decision: Rejection, *, actor: Actor, correlation_id: str
) -> PendingChange:
    """Reject a change another person asked for (nothing is carried out); the reason is kept."""
    already: list[PendingChange] = []

    def attempt() -> PendingChange:
        stored = _load(deps, change_id)
        change = stored.value
        _refuse_own(change, actor, approving=False)
        if change.status is ChangeStatus.REJECTED:
            already.append(change)
            return change
        if change.status is ChangeStatus.APPROVING:
            by = change.decided_by.name if change.decided_by else "another approver"
            raise Conflict(f"change {change.change_id} is being approved by {by}")
        if change.status is not ChangeStatus.PENDING:
            raise Conflict(f"change {change.change_id} is {change.status.value}")
        now = deps.clock.now()
        rejected = change.model_copy(
            update={
                "status": ChangeStatus.REJECTED,
                "decided_by": actor.ref,
                "decided_at": now,
                "decision_note": decision.note or None,
            }
        )
        return deps.changes.save(stored, rejected)

    rejected = retry_on_conflict(attempt, what=f"change {change_id}")
    if already:
        return rejected  # rejected before: answered as it is, audited once
    reason = f"{rejected.summary['en']}: rejected ({decision.note})"
    audit_change(deps, rejected, actor, "change.rejected", reason, correlation_id, deps.clock.now())
    return rejected
