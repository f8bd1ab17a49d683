"""Suspension batches held back by the blast-radius cap, and their release by a person.

A batch is a row `batch:{id}` in the partner partition (`_partner`) of the customers table, and
one row `batchmember:{id}:{customer id}` per held-back customer: inserting a member touches no
shared row, so the scan's workers never contend, and a batch has no size limit (a list of ids in
one property would stop at about 840 customers, exactly when a broken feed trips the cap). The
scan adds each held-back customer BEFORE that customer's own transaction marks it held back, so
a crash can leave a customer listed that is not held back (harmless: the release re-evaluates
every customer first), never one held back in no batch.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.tables import ConcurrencyConflict, Stored, Table, Transaction, decode
from shared.domain.identity import Actor
from shared.domain.policy import Policy
from shared.errors import Conflict, Contended, NotFound, ValidationFailed
from shared.services.collections.actions import CommitContext
from shared.services.collections.commit import commit_approval, move_schedule
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.outbox import publish_outbox
from shared.telemetry import metric

log = logging.getLogger(__name__)

BATCH_PREFIX = "batch:"
MEMBER_PREFIX = "batchmember:"
_BATCH_ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # no ':' (it separates the member row key)
MAX_SWEEPS = 5  # looks for members a running scan added while the batch was being released
SCAN = Actor.system("collections-scan")


class BatchStatus(StrEnum):
    PENDING = "pending"
    RELEASED = "released"


class SuspensionBatch(BaseModel):
    """Suspensions that waited for approval because one scan reached the cap. As answered,
    `customer_ids` and `results` are gathered from the member rows."""

    batch_id: str
    created_at: datetime
    policy_version: str
    customer_ids: list[str] = Field(default_factory=list)
    status: BatchStatus = BatchStatus.PENDING
    released_at: datetime | None = None
    released_by: str | None = None
    released_by_id: str | None = None
    release_requested_by: str | None = None  # four-eyes: who asked for the release
    results: dict[str, str] = Field(default_factory=dict)


class BatchMember(BaseModel):
    """Row `batchmember:{batch id}:{customer id}`: one held-back customer of a batch."""

    customer_id: str
    added_at: datetime
    reason: str | None = None  # why its suspension was due (the decision's reasons)
    result: str | None = None


def _member_prefix(batch_id: str) -> str:
    return f"{MEMBER_PREFIX}{batch_id}:"


def _members(table: Table, batch_id: str) -> list[Stored[BatchMember]]:
    return [decode(BatchMember, e) for e in table.partition(PARTNER_PARTITION, _member_prefix(batch_id))]


def _assembled(header: SuspensionBatch, members: list[Stored[BatchMember]]) -> SuspensionBatch:
    """The batch as answered: the header plus its members (and results) from the member rows."""
    batch = header.model_copy(deep=True)
    for member in members:
        if member.value.customer_id not in batch.customer_ids:
            batch.customer_ids.append(member.value.customer_id)
        if member.value.result is not None:
            batch.results[member.value.customer_id] = member.value.result
    return batch


def add_to_batch(
    deps: CollectionsDeps,
    batch_id: str,
    customer_id: str,
    policy: Policy,
    now: datetime,
    *,
    reason: str | None = None,
) -> None:
    """Record a held-back customer in the scan's batch (the batch's first member also writes the
    batch row and the alert in the partner audit, in one transaction)."""
    table = deps.customers.table

    def create_batch() -> None:
        if table.get_raw(PARTNER_PARTITION, BATCH_PREFIX + batch_id) is not None:
            return  # another worker created it
        batch = SuspensionBatch(batch_id=batch_id, created_at=now, policy_version=policy.version)
        tx = table.transaction(PARTNER_PARTITION)
        tx.create(batch, BATCH_PREFIX + batch_id)
        reason = f"suspensions held back in batch {batch_id}"
        _stage_partner_audit(table, tx, now, "collections.cap_reached", reason, batch_id)
        tx.submit()  # the batch and its alert entry together

    retry_on_conflict(create_batch, what=f"suspension batch {batch_id}")
    try:
        table.insert(
            BatchMember(customer_id=customer_id, added_at=now, reason=(reason or None) and reason[:2000]),
            PARTNER_PARTITION,
            _member_prefix(batch_id) + customer_id,
        )
    except ConcurrencyConflict:
        pass  # already a member


def _stage_partner_audit(
    table: Table,
    tx: Transaction,
    now: datetime,
    action: str,
    reason: str,
    batch_id: str,
    actor: Actor = SCAN,
) -> None:
    """The partner audit entry, in the same transaction as the batch row it explains."""
    log_ = AuditLog(table)
    entry = AuditEntry(at=now, actor=actor, action=action, reason=reason, correlation_id=f"batch-{batch_id}")
    log_.stage(tx, log_.read_head(PARTNER_PARTITION), [entry])


def valid_batch_id(batch_id: str) -> str:
    """The batch id, or ValidationFailed (also keeps characters Table storage refuses in a key
    out of the read)."""
    if not _BATCH_ID.fullmatch(batch_id):
        raise ValidationFailed(
            "batch_id is not a valid batch id (letters, digits, '-', '_', '.'; at most 100)"
        )
    return batch_id


def get_batch(deps: CollectionsDeps, batch_id: str) -> SuspensionBatch:
    table = deps.customers.table
    stored = table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
    if stored is None:
        raise NotFound(f"no suspension batch {batch_id!r}")
    return _assembled(stored.value, _members(table, batch_id))


def is_released(deps: CollectionsDeps, batch_id: str) -> bool:
    """Whether the batch exists and was released."""
    stored = deps.customers.table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
    return stored is not None and stored.value.status is BatchStatus.RELEASED


def release_batch(
    deps: CollectionsDeps,
    batch_id: str,
    *,
    actor: Actor,
    policy: Policy,
    requested_by: Actor | None = None,
) -> SuspensionBatch:
    """Place the held-back holds now, each customer re-evaluated in its own transaction.

    Releasing a released batch returns it unchanged (idempotent). The members are released,
    the batch is marked released, and members a running scan added meanwhile are released too.
    """
    valid_batch_id(batch_id)
    table = deps.customers.table
    stored = table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
    if stored is None:
        raise NotFound(f"no suspension batch {batch_id!r}")
    if stored.value.status is BatchStatus.RELEASED:
        return _assembled(stored.value, _members(table, batch_id))
    now = deps.clock.now()
    calendar = policy.calendar()
    if not calendar.is_open(now):
        # Outside the window the evaluation places no hold, and releasing would only clear the
        # held-back mark: the next scan would then count these customers against its cap again.
        opening = calendar.next_open(now).astimezone(calendar.time_zone)
        raise Conflict(
            f"the enforcement window is closed, so no suspension can be placed now: approve batch "
            f"{batch_id} again once it opens ({opening:%Y-%m-%d %H:%M} {policy.time_zone})"
        )
    release = _Release(deps, batch_id, actor, policy, now, requested_by)
    header = release.legacy(stored.value)
    release.sweep()
    marked = retry_on_conflict(release.mark, what=f"suspension batch {batch_id}")
    if marked is None:  # another approval released it first
        fresh = table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
        assert fresh is not None
        return _assembled(fresh.value, _members(table, batch_id))
    for _ in range(MAX_SWEEPS):
        if not release.sweep():
            break
    header = marked.model_copy(update={"results": {**marked.results, **header.results}})
    batch = _assembled(header, _members(table, batch_id))
    metric("collections.batch_released", len(batch.customer_ids))
    return batch


class _Release:
    """One approval of one batch: releases members, marks the batch."""

    def __init__(
        self,
        deps: CollectionsDeps,
        batch_id: str,
        actor: Actor,
        policy: Policy,
        now: datetime,
        requested_by: Actor | None = None,
    ) -> None:
        self.deps, self.batch_id, self.actor, self.policy, self.now = deps, batch_id, actor, policy, now
        self.requested_by = requested_by
        self.table = deps.customers.table

    def legacy(self, header: SuspensionBatch) -> SuspensionBatch:
        """Batches written before member rows existed list their customers in the header."""
        results = dict(header.results)
        for customer_id in header.customer_ids:
            if customer_id not in results:
                results[customer_id] = self.one(customer_id)
        return header.model_copy(update={"results": results})

    def sweep(self) -> int:
        """Release every member without a result (rows from an earlier, interrupted approval
        keep theirs); how many were released."""
        pending = [m for m in _members(self.table, self.batch_id) if m.value.result is None]
        for member in pending:
            done = member.value.model_copy(update={"result": self.one(member.value.customer_id)})
            self.table.upsert(done, PARTNER_PARTITION, member.row_key)
        return len(pending)

    def mark(self) -> SuspensionBatch | None:
        """The released batch and its audit entry, in one transaction; None if it was released
        by another approval meanwhile."""
        current = self.table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + self.batch_id)
        if current is None:
            raise NotFound(f"no suspension batch {self.batch_id!r}")
        if current.value.status is BatchStatus.RELEASED:
            return None
        header = current.value.model_copy(
            update={
                "status": BatchStatus.RELEASED,
                "released_at": self.now,
                "released_by": self.actor.label,
                "released_by_id": self.actor.id,
                "release_requested_by": self.requested_by.label if self.requested_by else None,
            }
        )
        tx = self.table.transaction(PARTNER_PARTITION)
        tx.update(header, BATCH_PREFIX + self.batch_id, current.etag)
        reason = f"batch {self.batch_id} released by {self.actor.label}"
        if self.requested_by is not None:
            reason += f" (requested by {self.requested_by.label})"
        _stage_partner_audit(
            self.table, tx, self.now, "collections.batch_released", reason, self.batch_id, self.actor
        )
        tx.submit()
        return header

    def one(self, customer_id: str) -> str:
        """Re-evaluate one held-back customer as approved; what happened, in words."""
        deps = self.deps

        def attempt() -> str:
            aggregate = deps.customers.load(customer_id)
            if not aggregate.exists:
                return "customer not found"
            if aggregate.collections.held_back_batch != self.batch_id:
                return "not held back in this batch (re-evaluated since): nothing to release"
            correlation_id = f"batch-{self.batch_id}"
            entry = AuditEntry(
                at=self.now,
                actor=self.actor,
                action="collections.batch_approved",
                reason=f"suspension batch {self.batch_id} approved",
                correlation_id=correlation_id,
                policy_version=self.policy.version,
            )
            ctx = CommitContext(
                policy=self.policy, now=self.now, actor=self.actor, correlation_id=correlation_id
            )
            result = commit_approval(deps, aggregate, ctx, batch_id=self.batch_id, entries=[entry])
            publish_outbox(deps, result)
            old = aggregate.collections.next_review_at
            move_schedule(deps, customer_id, old, result.next_review_at, new_written=True)
            return ", ".join(result.actions_applied) or "no action due any more"

        try:
            return retry_on_conflict(attempt, what=f"customer {customer_id}", key=customer_id)
        except Contended:
            return "the customer kept changing; run the approval again"
