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

from shared import clock, runtime
from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.customers import CustomerRepository
from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.tables import ConcurrencyConflict, Stored, Table, Transaction, decode
from shared.domain.policy import Policy
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.services.collections.commit import Commit, commit_decision, move_schedule, publish_outbox
from shared.telemetry import metric

log = logging.getLogger(__name__)

BATCH_PREFIX = "batch:"
MEMBER_PREFIX = "batchmember:"
_BATCH_ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # no ':' (it separates the member row key)
MAX_ATTEMPTS = 5


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
    results: dict[str, str] = Field(default_factory=dict)


class BatchMember(BaseModel):
    """Row `batchmember:{batch id}:{customer id}`: one held-back customer of a batch."""

    customer_id: str
    added_at: datetime
    result: str | None = None


def _table() -> Table:
    return CustomerRepository.of(runtime.table_store()).table


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


def add_to_batch(batch_id: str, customer_id: str, policy: Policy, now: datetime) -> None:
    """Record a held-back customer in the scan's batch (the batch's first member also writes the
    batch row and the alert in the partner audit, in one transaction)."""
    table = _table()
    for _ in range(MAX_ATTEMPTS):
        if table.get_raw(PARTNER_PARTITION, BATCH_PREFIX + batch_id) is not None:
            break
        batch = SuspensionBatch(batch_id=batch_id, created_at=now, policy_version=policy.version)
        tx = table.transaction(PARTNER_PARTITION)
        tx.create(batch, BATCH_PREFIX + batch_id)
        _stage_partner_audit(
            tx, now, "collections.cap_reached", f"suspensions held back in batch {batch_id}", batch_id
        )
        try:
            tx.submit()  # the batch and its alert entry together
            break
        except ConcurrencyConflict:
            continue  # another worker created it (or the audit head moved): look again
    else:
        raise ConcurrencyConflict(f"batch {batch_id} could not be created")
    try:
        table.insert(
            BatchMember(customer_id=customer_id, added_at=now),
            PARTNER_PARTITION,
            _member_prefix(batch_id) + customer_id,
        )
    except ConcurrencyConflict:
        pass  # already a member


def _stage_partner_audit(
    tx: Transaction, now: datetime, action: str, reason: str, batch_id: str, actor: str = "collections-scan"
) -> None:
    """The partner audit entry, in the same transaction as the batch row it explains."""
    log_ = AuditLog(_table())
    entry = AuditEntry(at=now, actor=actor, action=action, reason=reason, correlation_id=f"batch-{batch_id}")
    log_.stage(tx, log_.read_head(PARTNER_PARTITION), [entry])


def get_batch(batch_id: str) -> SuspensionBatch:
    table = _table()
    stored = table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
    if stored is None:
        raise NotFound(f"no suspension batch {batch_id!r}")
    return _assembled(stored.value, _members(table, batch_id))


def is_released(batch_id: str) -> bool:
    """Whether the batch exists and was released."""
    stored = _table().get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
    return stored is not None and stored.value.status is BatchStatus.RELEASED


def release_batch(batch_id: str, actor: str, policy: Policy) -> SuspensionBatch:
    """Place the held-back holds now, each customer re-evaluated in its own transaction.

    Releasing a released batch returns it unchanged (idempotent).
    """
    if not _BATCH_ID.fullmatch(batch_id):
        # Also keeps characters Table storage refuses in a key (/ \\ # ? control) out of the read.
        raise ValidationFailed(
            "batch_id is not a valid batch id (letters, digits, '-', '_', '.'; at most 100)"
        )
    table = _table()
    stored = table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
    if stored is None:
        raise NotFound(f"no suspension batch {batch_id!r}")
    if stored.value.status is BatchStatus.RELEASED:
        return _assembled(stored.value, _members(table, batch_id))
    now = clock.now()
    calendar = policy.calendar()
    if not calendar.is_open(now):
        # Outside the window the evaluation places no hold, and releasing would only clear the
        # held-back mark: the next scan would then count these customers against its cap again.
        opening = calendar.next_open(now).astimezone(calendar.time_zone)
        raise Conflict(
            f"the enforcement window is closed, so no suspension can be placed now: approve batch "
            f"{batch_id} again once it opens ({opening:%Y-%m-%d %H:%M} {policy.time_zone})"
        )
    repo = CustomerRepository.of(runtime.table_store())
    released = False
    legacy_results: dict[str, str] = {}
    for _ in range(MAX_ATTEMPTS):
        # Release every member without a result (rows from an earlier, interrupted approval keep
        # theirs); a scan still running may add members meanwhile, so look again after marking
        # the batch released, until no member is left without a result.
        pending = [m for m in _members(table, batch_id) if m.value.result is None]
        legacy = [c for c in stored.value.customer_ids if c not in stored.value.results]
        legacy = [c for c in legacy if c not in legacy_results]
        for member in pending:
            result = _release_one(repo, member.value.customer_id, batch_id, actor, policy, now)
            done = member.value.model_copy(update={"result": result})
            table.upsert(done, PARTNER_PARTITION, member.row_key)
        for customer_id in legacy:  # batches written before member rows existed
            legacy_results[customer_id] = _release_one(repo, customer_id, batch_id, actor, policy, now)
        stored.value.results.update(legacy_results)
        if released and not pending:
            break
        if not released:
            header = stored.value.model_copy(
                update={"status": BatchStatus.RELEASED, "released_at": now, "released_by": actor}
            )
            tx = table.transaction(PARTNER_PARTITION)
            tx.update(header, BATCH_PREFIX + batch_id, stored.etag)
            reason = f"batch {batch_id} released by {actor}"
            _stage_partner_audit(tx, now, "collections.batch_released", reason, batch_id, actor)
            try:
                tx.submit()  # the released batch and its audit entry together
            except ConcurrencyConflict:  # another approval, or the audit head moved
                fresh = table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
                if fresh is None:
                    raise NotFound(f"no suspension batch {batch_id!r}") from None
                if fresh.value.status is BatchStatus.RELEASED:
                    return _assembled(fresh.value, _members(table, batch_id))
                stored = fresh
                continue
            released = True
            stored = Stored(header, PARTNER_PARTITION, BATCH_PREFIX + batch_id, "")
    if not released:
        raise Conflict(f"batch {batch_id} kept changing while it was released; approve it again")
    batch = _assembled(stored.value, _members(table, batch_id))
    metric("collections.batch_released", len(batch.customer_ids))
    return batch


def _release_one(
    repo: CustomerRepository, customer_id: str, batch_id: str, actor: str, policy: Policy, now: datetime
) -> str:
    for _ in range(MAX_ATTEMPTS):
        aggregate = repo.load(customer_id)
        if not aggregate.exists:
            return "customer not found"
        if aggregate.collections.held_back_batch != batch_id:
            return "not held back in this batch (re-evaluated since): nothing to release"
        entry = AuditEntry(
            at=now,
            actor=actor,
            action="collections.batch_approved",
            reason=f"suspension batch {batch_id} approved",
            correlation_id=f"batch-{batch_id}",
            policy_version=policy.version,
        )
        commit = Commit(
            policy=policy,
            now=now,
            actor=actor,
            correlation_id=f"batch-{batch_id}",
            entries=[entry],
            approving_batch=batch_id,
        )
        try:
            outcome = commit_decision(repo, aggregate, commit)
        except ConcurrencyConflict:
            continue
        publish_outbox(repo, outcome)
        move_schedule(
            customer_id, aggregate.collections.next_review_at, outcome.next_review_at, new_written=True
        )
        applied = ", ".join(outcome.actions_applied) or "no action due any more"
        return applied
    return "the customer kept changing; run the approval again"
