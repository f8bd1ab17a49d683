"""Evaluate one customer and commit the decision: state, holds, notices, audit in ONE transaction.

Three ways in, one per kind of caller (`CommitMode`):
- `commit_review`: the scan, which reached the customer through a due-index entry;
- `commit_change`: a ledger change, a hold or an exemption (`customer_change.mutate_customer`);
- `commit_approval`: a person released the suspension batch the customer waits in.

The order of writes is what makes crashes and races harmless:
1. the due-index entry for the next review is written first (an extra entry is harmless);
2. the customer's transaction commits state + holds + notice rows + audit + an outbox of the
   messages to send, guarded by the ETags of everything read (a conflict: re-read, re-decide);
3. the outbox is published (`outbox.py`), then cleared under the ETag;
4. the old due-index entry is dropped (`move_schedule`).
A crash after 2 leaves the outbox in the state row and the old index entry in place, so the
next scan publishes it once OUTBOX_GRACE has passed (before that, the writer that committed it
is presumed to be publishing it, so a concurrent scan does not send it twice). Dry run writes
the change's own rows, the customer's shadow row and audit entries only (`shadow.py`).

A review (the scan) differs in two ways, both sound because it reached the customer through an
index entry that is due already and that it drops last:
- it writes the new entry AFTER step 3, together with step 4, in one entity-group transaction
  per hour bucket for a chunk of customers (`ScheduleBatch`: new entries first, then the old
  ones of the customers whose new entry is in). A crash anywhere before leaves the old, due
  entry: the next scan reads the customer again and finds the outbox (step 3 not done), or the
  state row's later next_review_at (a stale entry: moved, nothing re-decided), or nothing
  committed (it decides again); a committed stage is never decided twice (notices_sent, holds).
  A ledger change cannot do this: its old entry may lie in the future.
- a review that decides nothing (no action; the record would differ only in bookkeeping:
  updated_at, next_review_at, last_evaluated_at, policy_version) writes no transaction and no
  audit entry, only the index move. Nothing is decided, so a concurrent writer has nothing to
  conflict with; the state row's next_review_at stays older than the index entry, which only
  turns a later stale-entry skip into an evaluation, never a review into a missed one.
Per acting customer the scan thus costs a partition query, the transaction, one publish per
message and the outbox-clearing update (plus its share of the index transactions). The clearing
update cannot be folded into a later write: no later write of that customer's partition happens
in the scan (the index is another table, so no transaction spans both), and without it every
later visit would re-publish what was sent. Publishing before the commit is unsound: a consumer
may run before the commit (a reconcile that finds no hold yet, a notice whose row is missing) or
the commit may conflict, and the message that follows the commit has the same id, which Service
Bus duplicate detection drops.

A change never places a due suspension itself: it leaves it to the next scan, where the
blast-radius cap applies (a broken feed re-posting every invoice must not suspend everyone
through the API). A suspension held back by the cap waits in its batch until a person releases
it (`commit_approval`), or until a scan finds the batch released meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from shared.adapters.audit import AuditEntry
from shared.adapters.customers import CollectionsRecord, CustomerAggregate, CustomerChange
from shared.adapters.layout import STATE_ROW
from shared.adapters.tables import Stored
from shared.domain.collections import ActionKind, Decision, Stage
from shared.services.collections.actions import CommitContext, audit_entry, stage_action
from shared.services.collections.cap import CapGate
from shared.services.collections.credit import stage_credit_after_change
from shared.services.collections.decision import decide, ledger_summary
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.outbox import reconcile_item
from shared.services.collections.shadow import commit_shadow
from shared.telemetry import metric

HELD_BACK_RETRY = timedelta(days=1)


class CommitMode(StrEnum):
    REVIEW = "review"  # the scan, through a due-index entry (it moves the entry itself, later)
    CHANGE = "change"  # a ledger change, hold or exemption: a due suspension waits for the scan
    APPROVAL = "approval"  # a held-back batch was released: its suspension is placed now


@dataclass(frozen=True)
class StagedChange:
    """What a change writes besides the decision: its rows, its audit entries, and whether a
    hold changed (a reconcile must follow)."""

    stage_rows: Callable[[CustomerChange], None]
    entries: list[AuditEntry] = field(default_factory=list)
    reconcile_reason: str | None = None


@dataclass(frozen=True)
class _Rules:
    """How one commit treats a due suspension, by mode (see the module docstring)."""

    mode: CommitMode
    cap: CapGate | None = None
    batch_released: Callable[[str], bool] | None = None
    approving_batch: str | None = None
    change: StagedChange | None = None
    entries: list[AuditEntry] = field(default_factory=list)


@dataclass
class CommitResult:
    """What one commit decided and did."""

    customer_id: str
    decision: Decision | None
    actions_applied: list[str] = field(default_factory=list)
    held_back_batch: str | None = None
    dry_run: bool = False
    next_review_at: datetime | None = None
    committed: Stored[CollectionsRecord] | None = None  # the state row as written, with its ETag
    staged: list[str] = field(default_factory=list)  # outbox message ids this commit added
    unchanged: bool = False  # a due review that decided nothing: nothing was written
    episode_started: bool = False  # this commit opened an overdue episode (the feed signal counts them)


class _Gate(StrEnum):
    """What happens to a suspension the decision places."""

    PROCEED = "proceed"
    DEFER = "defer"  # a change: the next scan places it, under the cap
    HOLD_BACK = "hold_back"  # the cap was reached, or the customer already waits in a batch


def commit_review(
    deps: CollectionsDeps,
    aggregate: CustomerAggregate,
    ctx: CommitContext,
    *,
    cap: CapGate,
    batch_released: Callable[[str], bool],
) -> CommitResult:
    """The scan's review of a due customer; ConcurrencyConflict if anything read has changed.

    `batch_released` says whether a batch was released: a release can run between the scan
    adding a customer to its batch and that customer's commit marking it held back; the
    customer is then held back in a released batch and must be placed, not held again.
    """
    return _commit(deps, aggregate, ctx, _Rules(CommitMode.REVIEW, cap=cap, batch_released=batch_released))


def commit_change(
    deps: CollectionsDeps, aggregate: CustomerAggregate, ctx: CommitContext, change: StagedChange
) -> CommitResult:
    """A ledger change with the re-evaluation it causes; ConcurrencyConflict as above."""
    return _commit(deps, aggregate, ctx, _Rules(CommitMode.CHANGE, change=change, entries=change.entries))


def commit_approval(
    deps: CollectionsDeps,
    aggregate: CustomerAggregate,
    ctx: CommitContext,
    *,
    batch_id: str,
    entries: list[AuditEntry],
) -> CommitResult:
    """The release of `batch_id` for this customer: a due suspension is placed now."""
    return _commit(
        deps, aggregate, ctx, _Rules(CommitMode.APPROVAL, approving_batch=batch_id, entries=entries)
    )


def _commit(
    deps: CollectionsDeps, aggregate: CustomerAggregate, ctx: CommitContext, rules: _Rules
) -> CommitResult:
    if deps.dry_run:
        return _commit_dry_run(deps, aggregate, ctx, rules)
    decision = decide(aggregate, ctx.policy, ctx.now)
    record = aggregate.collections
    result = CommitResult(aggregate.customer_id, decision)
    change = deps.customers.change(aggregate)
    if rules.change is not None:
        rules.change.stage_rows(change)
    for entry in rules.entries:
        change.audit(entry)
    change.audit(_decision_entry(ctx, decision, False))
    new = record.model_copy(deep=True)
    new.updated_at = ctx.now
    new.next_review_at = decision.next_review_at
    capped = _capped(decision, rules)
    if capped is not None:
        rules = _released_meanwhile(change, ctx, record, rules)
    due_because = "; ".join(decision.reasons)
    gate = _gate(aggregate.customer_id, record, rules, capped, due_because) if capped else _Gate.PROCEED
    if gate is _Gate.HOLD_BACK and record.held_back_batch is None:
        assert rules.cap is not None
        new.held_back_batch = rules.cap.batch_id
    if capped is None or rules.approving_batch is not None:
        new.held_back_batch = None

    if rules.mode is CommitMode.REVIEW and _decides_nothing(rules, decision, record, new):
        # No action, no change of state: no transaction, no audit entry (the entries already
        # there explain the stage). The state row keeps its older next_review_at, which only
        # makes a later stale-entry check evaluate rather than skip: never a missed review.
        result.unchanged = True
        result.next_review_at = decision.next_review_at
        metric("collections.review_unchanged")
        return result
    if gate is _Gate.DEFER:
        reason = "a suspension is due: the next scan places it, under the blast-radius cap"
        change.audit(audit_entry(ctx, "collections.suspension_deferred", reason))
        return _park(deps, change, aggregate, new, ctx.now, rules, result)
    if gate is _Gate.HOLD_BACK:
        batch = new.held_back_batch
        result.held_back_batch = batch
        reason = f"the blast-radius cap was reached: the {capped} waits for approval of batch {batch}"
        change.audit(audit_entry(ctx, f"collections.{capped}_held_back", reason, batch_id=batch))
        return _park(deps, change, aggregate, new, ctx.now + HELD_BACK_RETRY, rules, result)
    return _apply(deps, change, aggregate, record, new, decision, ctx, rules, result)


def _commit_dry_run(
    deps: CollectionsDeps, aggregate: CustomerAggregate, ctx: CommitContext, rules: _Rules
) -> CommitResult:
    """Dry run: the change's own rows and the shadow (`shadow.py`); the real state row, the
    holds and notices are not touched and nothing is sent. The review is rescheduled by the
    shadow's next review."""
    change = deps.customers.change(aggregate)
    if rules.change is not None:
        rules.change.stage_rows(change)
    for entry in rules.entries:
        change.audit(entry)
    outcome = commit_shadow(
        aggregate, ctx, change, defer_suspension=rules.mode is CommitMode.CHANGE, cap=rules.cap
    )
    result = CommitResult(aggregate.customer_id, outcome.decision, dry_run=True)
    result.actions_applied = outcome.applied
    result.episode_started = outcome.episode_started
    result.next_review_at = outcome.shadow.next_review_at
    if rules.mode is CommitMode.REVIEW and not outcome.staged:
        result.unchanged = True
        return result
    change.audit(_decision_entry(ctx, outcome.decision, True))
    _submit(deps, change, aggregate, outcome.shadow.next_review_at, rules)
    return result


def _decision_entry(ctx: CommitContext, decision: Decision, dry_run: bool) -> AuditEntry:
    return audit_entry(
        ctx,
        "collections.decision",
        "; ".join(decision.reasons),
        stage=decision.stage.value,
        days_past_due=decision.days_past_due,
        actions=[a.kind.value + ":" + a.stage.value for a in decision.actions],
        next_review_at=decision.next_review_at.isoformat() if decision.next_review_at else None,
        mode="dry_run" if dry_run else "enforce",
    )


def _released_meanwhile(
    change: CustomerChange, ctx: CommitContext, record: CollectionsRecord, rules: _Rules
) -> _Rules:
    """A review of a customer held back in a batch that was released since: it is approved."""
    late = record.held_back_batch
    if rules.mode is not CommitMode.REVIEW or late is None or rules.batch_released is None:
        return rules
    if not rules.batch_released(late):
        return rules
    reason = f"suspension batch {late} was approved while this customer was being held back"
    change.audit(audit_entry(ctx, "collections.batch_approved", reason, batch_id=late))
    # Still a review (the scan moves the due entry), now approving the batch's suspension.
    return _Rules(CommitMode.REVIEW, cap=rules.cap, approving_batch=late, entries=rules.entries)


def _capped(decision: Decision, rules: _Rules) -> str | None:
    """What of this decision the blast-radius cap governs: a suspension, or (in a scan or an
    approval: a change's warning goes out at once) a warning; None for anything else."""
    if any(a.kind is ActionKind.PLACE_HOLD for a in decision.actions):
        return "suspension"
    warns = any(a.kind is ActionKind.SEND_NOTICE and a.stage is Stage.WARNING for a in decision.actions)
    return "warning" if warns and rules.mode is not CommitMode.CHANGE else None


def _gate(customer_id: str, record: CollectionsRecord, rules: _Rules, capped: str, reason: str) -> _Gate:
    """Whether a capped action (a suspension or a warning) goes ahead now (enforce mode only)."""
    if rules.approving_batch is not None:
        return _Gate.PROCEED  # a person released this customer's batch
    if record.held_back_batch is not None:
        return _Gate.HOLD_BACK  # already waiting for approval in an earlier batch
    if rules.mode is CommitMode.CHANGE:
        return _Gate.DEFER
    if rules.cap is None:
        return _Gate.PROCEED
    admitted = (
        rules.cap.admit(customer_id, reason)
        if capped == "suspension"
        else rules.cap.admit_warning(customer_id, reason)
    )
    return _Gate.PROCEED if admitted else _Gate.HOLD_BACK


# What a review rewrites even when it decides nothing: not a change of the customer's standing.
_RECORD_BOOKKEEPING = {"updated_at", "next_review_at", "state"}
_STATE_BOOKKEEPING = {"last_evaluated_at", "policy_version"}


def _decides_nothing(
    rules: _Rules, decision: Decision, record: CollectionsRecord, new: CollectionsRecord
) -> bool:
    """A review with no action whose record would differ from the stored one only in bookkeeping."""
    if decision.actions or rules.entries or rules.change or rules.approving_batch:
        return False
    if new.model_dump(exclude=_RECORD_BOOKKEEPING) != record.model_dump(exclude=_RECORD_BOOKKEEPING):
        return False
    return decision.new_state.model_dump(exclude=_STATE_BOOKKEEPING) == record.state.model_dump(
        exclude=_STATE_BOOKKEEPING
    )


def _park(
    deps: CollectionsDeps,
    change: CustomerChange,
    aggregate: CustomerAggregate,
    new: CollectionsRecord,
    review_at: datetime,
    rules: _Rules,
    result: CommitResult,
) -> CommitResult:
    """Write the record without the suspension, to be looked at again at `review_at`."""
    new.next_review_at = review_at
    result.next_review_at = review_at
    change.put_record(new)
    result.committed = _submit(deps, change, aggregate, review_at, rules, new)
    return result


def _apply(
    deps: CollectionsDeps,
    change: CustomerChange,
    aggregate: CustomerAggregate,
    record: CollectionsRecord,
    new: CollectionsRecord,
    decision: Decision,
    ctx: CommitContext,
    rules: _Rules,
    result: CommitResult,
) -> CommitResult:
    """Carry the decision out: the new state, holds and notices, and the messages to send."""
    new.state = decision.new_state
    started = decision.new_state.episode_id
    result.episode_started = started is not None and started != record.state.episode_id
    reasons: list[str] = []
    if rules.change is not None and rules.change.reconcile_reason:
        reasons.append(rules.change.reconcile_reason)
    for action in decision.actions:
        staged = stage_action(change, aggregate, new, action, ctx, rules.approving_batch)
        if staged is None:
            continue
        result.actions_applied.append(staged.applied)
        if staged.reconcile_reason:
            reasons.append(staged.reconcile_reason)
    # A payment or a raised limit lifts the credit_limit hold at once (credit.py).
    lifted = stage_credit_after_change(change, aggregate, ledger_summary(aggregate, ctx.policy, ctx.now), ctx)
    if lifted is not None:
        result.actions_applied.append("lift_credit_hold")
        reasons.append(lifted)
    if decision.actions or reasons:
        new.revision += 1
    if reasons:
        new.outbox.append(
            reconcile_item(
                aggregate.customer_id, new.revision, "; ".join(reasons), ctx.correlation_id, ctx.now
            )
        )
    already = {item.message_id for item in record.outbox}
    result.staged = [item.message_id for item in new.outbox if item.message_id not in already]
    change.put_record(new)
    result.next_review_at = new.next_review_at
    result.committed = _submit(deps, change, aggregate, new.next_review_at, rules, new)
    return result


def _submit(
    deps: CollectionsDeps,
    change: CustomerChange,
    aggregate: CustomerAggregate,
    next_review: datetime | None,
    rules: _Rules,
    record: CollectionsRecord | None = None,
) -> Stored[CollectionsRecord] | None:
    """Index entry first (step 1; a review writes it later, with the chunk), then the transaction."""
    if rules.mode is not CommitMode.REVIEW and next_review is not None:
        deps.schedule.put(aggregate.customer_id, next_review)
    etags = change.commit()
    if record is None or STATE_ROW not in etags:
        return None
    return Stored(record, aggregate.customer_id, STATE_ROW, etags[STATE_ROW])


def move_schedule(
    deps: CollectionsDeps,
    customer_id: str,
    old: datetime | None,
    new: datetime | None,
    *,
    new_written: bool = False,
    old_etag: str | None = None,
) -> None:
    """Step 4: drop the entry that led here once the new one is in place.

    `new_written`: the commit already wrote the new entry, so only the old one is dropped.
    """
    deps.schedule.move(customer_id, old, None if new_written else new, keep=new, old_etag=old_etag)
