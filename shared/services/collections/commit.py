"""Evaluate one customer and commit the decision: state, holds, notices, audit in ONE transaction.

Used by every path that can change a customer's standing: the scan, each ledger change, holds,
exemptions and batch approvals. The order of writes is what makes crashes and races harmless:
1. the due-index entry for the next review is written first (an extra entry is harmless);
2. the customer's transaction commits state + holds + notice rows + audit + an outbox of the
   messages to send, guarded by the ETags of everything read (a conflict: re-read, re-decide);
3. the outbox is published (reconcile ids derive from customer + revision, notice ids from the
   notice row, so a re-publish is a duplicate consumers ignore), then cleared under the ETag;
4. the old due-index entry is dropped.
A crash after 2 leaves the outbox in the state row and the old index entry in place, so the
next scan publishes it once OUTBOX_GRACE has passed (before that, the writer that committed it
is presumed to be publishing it, so a concurrent scan does not send it twice). Dry-run writes
audit entries only.

The scan (`Commit.from_due_entry`) differs in two ways, both sound because it reached the
customer through an index entry that is due already and that it drops last:
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
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from shared import clock, runtime
from shared.adapters.audit import AuditEntry
from shared.adapters.customers import (
    CollectionsRecord,
    CustomerAggregate,
    CustomerChange,
    CustomerRepository,
    NoticeRecord,
    OutboxItem,
)
from shared.adapters.layout import NOTICE_PREFIX, STATE_ROW, hold_row
from shared.adapters.schedule import ScheduleIndex
from shared.adapters.tables import ConcurrencyConflict, Stored
from shared.domain.collections import Action, ActionKind, Decision, LedgerSummary, Stage, evaluate
from shared.domain.holds import NON_PAYMENT_HOLD_ID, Hold, HoldReason
from shared.domain.ledger import summarise
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.domain.policy import Policy
from shared.settings import EnforcementMode, get_settings
from shared.telemetry import metric

log = logging.getLogger(__name__)

HELD_BACK_RETRY = timedelta(days=1)
# How long the writer that committed an outbox item owns its publishing; after that, a scan
# that finds the item presumes the writer died and publishes it (see recover_outbox).
OUTBOX_GRACE = timedelta(minutes=2)


class NoticeMessage(BaseModel):
    """`Deliver notice N of customer X`: the sender reads the notice row (the content is there)."""

    model_config = ConfigDict(extra="ignore")

    customer_id: str = Field(min_length=1, max_length=128)
    notice_id: str = Field(min_length=1, max_length=200)
    correlation_id: str = Field(min_length=1, max_length=100)
    attempt: int = Field(default=0, ge=0)


@dataclass
class CapGate:
    """The blast-radius cap of one scan: suspensions beyond `limit` wait in batch `batch_id`."""

    limit: int
    batch_id: str
    placed: int = 0
    held_back: list[str] = field(default_factory=list)
    on_hold_back: Callable[[str], None] | None = None

    @classmethod
    def for_scan(cls, policy: Policy, evaluated: int, batch_id: str) -> CapGate:
        """min(N, ceil(P% of the customers evaluated)): a non-zero percent allows at least one."""
        cap = policy.blast_radius
        share = math.ceil(cap.max_suspension_percent * evaluated / 100)
        return cls(limit=min(cap.max_suspensions_per_scan, share), batch_id=batch_id)

    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, customer_id: str) -> bool:
        """True: this suspension may go ahead; False: it waits (recorded in the batch first)."""
        with self._lock:
            if self.placed < self.limit:
                self.placed += 1
                return True
            self.held_back.append(customer_id)
        if self.on_hold_back is not None:
            self.on_hold_back(customer_id)
        return False


@dataclass
class Outcome:
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


def ledger_summary(aggregate: CustomerAggregate, policy: Policy, now: datetime) -> LedgerSummary:
    today = policy.calendar().local_date(now)
    invoices = [s.value for s in aggregate.invoices.values()]
    payments = [s.value for s in aggregate.payments.values()]
    return summarise(invoices, payments, None, today)


def decide(aggregate: CustomerAggregate, policy: Policy, now: datetime) -> Decision:
    """The pure evaluation of what is stored (and staged in memory) for this customer."""
    assert aggregate.profile is not None
    return evaluate(
        policy,
        aggregate.profile.value,
        ledger_summary(aggregate, policy, now),
        [s.value for s in aggregate.holds.values()],
        [s.value for s in aggregate.exemptions.values()],
        aggregate.collections.state,
        now,
        customer_id=aggregate.customer_id,
    )


def notice_id_for(episode_id: str | None, stage: Stage) -> str:
    return f"{episode_id or 'none'}:{stage.value}"


def reconcile_item(
    customer_id: str, revision: int, reason: str, correlation_id: str, staged_at: datetime
) -> OutboxItem:
    return OutboxItem(
        kind="reconcile",
        message_id=derived_message_id(customer_id, "reconcile", str(revision)),
        reason=reason,
        correlation_id=correlation_id,
        staged_at=staged_at,
    )


@dataclass
class Commit:
    """Inputs of one commit besides the aggregate."""

    policy: Policy
    now: datetime
    actor: str
    correlation_id: str
    stage_rows: Callable[[CustomerChange], None] | None = None  # the ledger rows of this change
    entries: list[AuditEntry] = field(default_factory=list)  # audit of the change itself
    reconcile_reason: str | None = None  # the change itself needs a reconcile (a hold changed)
    cap: CapGate | None = None
    approving_batch: str | None = None
    # Ledger changes leave a due suspension to the scan, where the blast-radius cap applies:
    # a broken feed re-posting every invoice must not suspend everyone through the API.
    defer_suspension: bool = False
    # The scan: it got here through a due-index entry that stays until the caller has written
    # the new one (after the commit, batched), and a review that decides nothing writes nothing.
    from_due_entry: bool = False
    # Whether a batch was released (the scan passes approvals.is_released). A release can run
    # between the scan adding a customer to its batch and that customer's commit marking it held
    # back; the customer is then held back in a released batch and must be placed, not re-held.
    batch_released: Callable[[str], bool] | None = None


def _entry(c: Commit, action: str, reason: str, **details: object) -> AuditEntry:
    return AuditEntry(
        at=c.now,
        actor=c.actor,
        action=action,
        reason=reason[:4000],
        correlation_id=c.correlation_id,
        policy_version=c.policy.version,
        details=dict(details),
    )


def commit_decision(repo: CustomerRepository, aggregate: CustomerAggregate, c: Commit) -> Outcome:
    """Decide and write one transaction; ConcurrencyConflict if anything read has changed."""
    dry_run = get_settings().enforcement_mode is EnforcementMode.DRY_RUN
    decision = decide(aggregate, c.policy, c.now)
    record = aggregate.collections
    outcome = Outcome(aggregate.customer_id, decision, dry_run=dry_run)
    change = repo.change(aggregate)
    if c.stage_rows is not None:
        c.stage_rows(change)
    for entry in c.entries:
        change.audit(entry)
    summary = "; ".join(decision.reasons)
    change.audit(
        _entry(
            c,
            "collections.decision",
            summary,
            stage=decision.stage.value,
            days_past_due=decision.days_past_due,
            actions=[a.kind.value + ":" + a.stage.value for a in decision.actions],
            next_review_at=decision.next_review_at.isoformat() if decision.next_review_at else None,
            mode="dry_run" if dry_run else "enforce",
        )
    )
    new = record.model_copy(deep=True)
    new.updated_at = c.now
    new.next_review_at = decision.next_review_at
    places_hold = any(a.kind is ActionKind.PLACE_HOLD for a in decision.actions)
    hold_back = deferred = False
    late = record.held_back_batch
    if places_hold and not dry_run and c.approving_batch is None and late is not None:
        if c.batch_released is not None and c.batch_released(late):
            reason = f"suspension batch {late} was approved while this customer was being held back"
            c = replace(c, approving_batch=late)
            change.audit(_entry(c, "collections.batch_approved", reason, batch_id=late))
    if places_hold and not dry_run and c.approving_batch is None:
        if record.held_back_batch is not None:
            hold_back = True  # already waiting for approval in an earlier batch
        elif c.defer_suspension:
            deferred = True
        elif c.cap is not None and not c.cap.admit(aggregate.customer_id):
            hold_back = True
            new.held_back_batch = c.cap.batch_id
    if not places_hold or c.approving_batch is not None:
        new.held_back_batch = None

    if c.from_due_entry and _decides_nothing(c, decision, record, new):
        # No action, no change of state: no transaction, no audit entry (the entries already
        # there explain the stage). The state row keeps its older next_review_at, which only
        # makes a later stale-entry check evaluate rather than skip: never a missed review.
        outcome.unchanged = True
        outcome.next_review_at = decision.next_review_at
        metric("collections.review_unchanged")
        return outcome

    if dry_run:
        for action in decision.actions:
            change.audit(_entry(c, f"would.{action.kind.value}", action.reason, stage=action.stage.value))
        outcome.actions_applied = [f"would {a.kind.value} ({a.stage.value})" for a in decision.actions]
        outcome.next_review_at = decision.next_review_at
        # Dry run: the state row is not touched; the review is still rescheduled.
        _submit(change, aggregate, decision.next_review_at, write_schedule=not c.from_due_entry)
        return outcome

    if deferred:
        change.audit(
            _entry(
                c,
                "collections.suspension_deferred",
                "a suspension is due: the next scan places it, under the blast-radius cap",
            )
        )
        new.next_review_at = c.now
        outcome.next_review_at = new.next_review_at
        change.put_record(new)
        outcome.committed = _submit(
            change, aggregate, new.next_review_at, new, write_schedule=not c.from_due_entry
        )
        return outcome

    if hold_back:
        batch = new.held_back_batch
        outcome.held_back_batch = batch
        change.audit(
            _entry(
                c,
                "collections.suspension_held_back",
                f"the blast-radius cap was reached: the suspension waits for approval of batch {batch}",
                batch_id=batch,
            )
        )
        new.next_review_at = c.now + HELD_BACK_RETRY
        outcome.next_review_at = new.next_review_at
        change.put_record(new)
        outcome.committed = _submit(
            change, aggregate, new.next_review_at, new, write_schedule=not c.from_due_entry
        )
        return outcome

    new.state = decision.new_state
    reconcile_reasons: list[str] = [c.reconcile_reason] if c.reconcile_reason else []
    for action in decision.actions:
        _apply_action(change, aggregate, new, action, c, reconcile_reasons, outcome)
    if decision.actions or reconcile_reasons:
        new.revision += 1
    if reconcile_reasons:
        new.outbox.append(
            reconcile_item(
                aggregate.customer_id, new.revision, "; ".join(reconcile_reasons), c.correlation_id, c.now
            )
        )
    already = {item.message_id for item in record.outbox}
    outcome.staged = [item.message_id for item in new.outbox if item.message_id not in already]
    change.put_record(new)
    outcome.next_review_at = new.next_review_at
    outcome.committed = _submit(
        change, aggregate, new.next_review_at, new, write_schedule=not c.from_due_entry
    )
    return outcome


# What a review rewrites even when it decides nothing: not a change of the customer's standing.
_RECORD_BOOKKEEPING = {"updated_at", "next_review_at", "state"}
_STATE_BOOKKEEPING = {"last_evaluated_at", "policy_version"}


def _decides_nothing(
    c: Commit, decision: Decision, record: CollectionsRecord, new: CollectionsRecord
) -> bool:
    """A review with no action whose record would differ from the stored one only in bookkeeping."""
    if decision.actions or c.entries or c.stage_rows or c.reconcile_reason or c.approving_batch:
        return False
    if new.model_dump(exclude=_RECORD_BOOKKEEPING) != record.model_dump(exclude=_RECORD_BOOKKEEPING):
        return False
    return decision.new_state.model_dump(exclude=_STATE_BOOKKEEPING) == record.state.model_dump(
        exclude=_STATE_BOOKKEEPING
    )


def _apply_action(
    change: CustomerChange,
    aggregate: CustomerAggregate,
    record: CollectionsRecord,
    action: Action,
    c: Commit,
    reconcile_reasons: list[str],
    outcome: Outcome,
) -> None:
    customer_id = aggregate.customer_id
    if action.kind is ActionKind.PLACE_HOLD:
        if NON_PAYMENT_HOLD_ID in aggregate.holds:
            return
        hold = Hold(
            hold_id=NON_PAYMENT_HOLD_ID,
            reason=HoldReason.NON_PAYMENT,
            placed_at=c.now,
            placed_by=c.actor,
            note=action.reason[:2000],
            source_ref=c.approving_batch,
            correlation_id=c.correlation_id,
        )
        change.put(hold, hold_row(NON_PAYMENT_HOLD_ID), None)
        change.audit(
            _entry(c, "hold.placed", action.reason, hold_id=NON_PAYMENT_HOLD_ID, hold_reason="non_payment")
        )
        reconcile_reasons.append("non_payment hold placed")
        outcome.actions_applied.append("place_hold")
        metric("collections.holds_placed")
    elif action.kind is ActionKind.LIFT_HOLD:
        stored = aggregate.holds.get(NON_PAYMENT_HOLD_ID)
        if stored is None:
            return
        change.delete(hold_row(NON_PAYMENT_HOLD_ID), stored.etag)
        change.audit(
            _entry(c, "hold.lifted", action.reason, hold_id=NON_PAYMENT_HOLD_ID, hold_reason="non_payment")
        )
        reconcile_reasons.append("non_payment hold lifted")
        outcome.actions_applied.append("lift_hold")
        metric("collections.holds_lifted")
    elif action.notice is not None:
        notice_id = notice_id_for(record.state.episode_id, action.stage)
        if notice_id in aggregate.notices:
            return  # at most one notice per stage per episode
        notice = NoticeRecord(
            notice_id=notice_id,
            stage=action.stage.value,
            episode_id=record.state.episode_id or "none",
            content=action.notice,
            created_at=c.now,
            correlation_id=c.correlation_id,
            audience="staff" if action.kind is ActionKind.NOTIFY_STAFF else "customer",
        )
        change.put(notice, NOTICE_PREFIX + notice_id, None)
        change.audit(_entry(c, f"notice.{action.kind.value}", action.reason, notice_id=notice_id))
        record.outbox.append(
            OutboxItem(
                kind="notice",
                message_id=derived_message_id(customer_id, "notice", notice_id),
                reason=action.reason[:200],
                correlation_id=c.correlation_id,
                notice_id=notice_id,
                staged_at=c.now,
            )
        )
        outcome.actions_applied.append(f"{action.kind.value}:{action.stage.value}")
        metric("collections.notices_decided", stage=action.stage.value)


def _submit(
    change: CustomerChange,
    aggregate: CustomerAggregate,
    next_review: datetime | None,
    record: CollectionsRecord | None = None,
    *,
    write_schedule: bool = True,
) -> Stored[CollectionsRecord] | None:
    """Index entry first (see the module docstring; the scan writes it after), then the transaction."""
    if write_schedule and next_review is not None:
        ScheduleIndex.of(runtime.table_store()).put(aggregate.customer_id, next_review)
    etags = change.commit()
    if record is None or STATE_ROW not in etags:
        return None
    return Stored(record, aggregate.customer_id, STATE_ROW, etags[STATE_ROW])


def publish_outbox(repo: CustomerRepository, outcome: Outcome) -> int:
    """Step 3 for the writer that committed: send the messages THIS commit staged, then clear
    them. Items staged by another writer (still publishing, or crashed) are left to it or to
    `recover_outbox`, so that no message goes out twice from two writers at once."""
    stored = outcome.committed
    if stored is None or not outcome.staged:
        return 0
    mine = set(outcome.staged)
    items = [item for item in stored.value.outbox if item.message_id in mine]
    _send(outcome.customer_id, items)
    _clear(repo, outcome.customer_id, stored, mine)
    return len(items)


def recover_outbox(repo: CustomerRepository, customer_id: str, now: datetime) -> int:
    """Publish what a writer committed and then did not publish (it crashed): only items older
    than OUTBOX_GRACE, claimed under the row's ETag first, so that a writer still publishing
    and two recovering scans never send the same item at once."""
    stored = repo.get_record(customer_id)
    if stored is None:
        return 0
    cutoff = now - OUTBOX_GRACE
    stale = [i for i in stored.value.outbox if i.staged_at is None or i.staged_at <= cutoff]
    if not stale:
        return 0
    claimed = stored.value.model_copy(deep=True)
    ids = {item.message_id for item in stale}
    for item in claimed.outbox:
        if item.message_id in ids:
            item.staged_at = now
    try:
        etag = repo.update_record(customer_id, claimed, stored.etag)
    except ConcurrencyConflict:
        return 0  # someone else is on it; a later scan looks again
    _send(customer_id, stale)
    _clear(repo, customer_id, Stored(claimed, customer_id, STATE_ROW, etag), ids)
    return len(stale)


def _send(customer_id: str, items: list[OutboxItem]) -> None:
    settings = get_settings()
    now_ = clock.now()
    for item in items:
        if item.kind == "reconcile":
            request = ReconcileRequest(
                customer_id=customer_id,
                reason=item.reason[:200],
                correlation_id=item.correlation_id,
                requested_at=now_,
            )
            runtime.publisher(settings.reconcile_queue_name).publish(request, message_id=item.message_id)
            metric("collections.reconcile_published")
        else:
            assert item.notice_id is not None
            message = NoticeMessage(
                customer_id=customer_id, notice_id=item.notice_id, correlation_id=item.correlation_id
            )
            runtime.publisher(settings.notice_queue_name).publish(message, message_id=item.message_id)


def _clear(
    repo: CustomerRepository, customer_id: str, stored: Stored[CollectionsRecord], sent: set[str]
) -> None:
    for _ in range(10):
        record = stored.value.model_copy(deep=True)
        record.outbox = [i for i in record.outbox if i.message_id not in sent]
        try:
            repo.update_record(customer_id, record, stored.etag)
            return
        except ConcurrencyConflict:
            fresh = repo.get_record(customer_id)
            if fresh is None:
                return
            stored = fresh


def move_schedule(
    customer_id: str,
    old: datetime | None,
    new: datetime | None,
    *,
    new_written: bool = False,
    old_etag: str | None = None,
) -> None:
    """Drop the entry that led here once the new one is in place (see the module docstring).

    `new_written`: the commit already wrote the new entry, so only the old one is dropped.
    """
    index = ScheduleIndex.of(runtime.table_store())
    index.move(customer_id, old, None if new_written else new, keep=new, old_etag=old_etag)
