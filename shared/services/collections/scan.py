"""The collections scan and its preview: read only the due index, evaluate each due customer.

Each customer is committed on its own (see `enforcement`), so one bad customer cannot stop the
others and a crash half way leaves every customer either done or still due. The due-index moves
(new entry written, then the old one dropped) are batched per hour bucket after each chunk of
SCAN_CHUNK customers: a crash before a chunk's flush leaves its customers' due entries, and the
next scan finds them done (stale entry, or nothing to decide) or finishes them.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared import clock, runtime
from shared.adapters.customers import CustomerRepository
from shared.adapters.schedule import DueCustomer, ScheduleBatch, ScheduleIndex
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.collections import ActionKind
from shared.domain.policy import Policy, PolicyError, load_policy
from shared.errors import ServiceUnavailable
from shared.services.collections import approvals
from shared.services.collections.commit import (
    OUTBOX_GRACE,
    CapGate,
    Commit,
    commit_decision,
    decide,
    publish_outbox,
    recover_outbox,
)
from shared.settings import EnforcementMode, get_settings
from shared.telemetry import metric

log = logging.getLogger(__name__)
_report_lock = threading.Lock()

SCAN_ACTOR = "collections-scan"
MAX_ATTEMPTS = 5
SCAN_WORKERS = 8
SCAN_CHUNK = 200  # customers whose index moves are flushed together


def current_policy() -> Policy:
    """The policy file named by POLICY_FILE, validated (PolicyError otherwise)."""
    return load_policy(get_settings().resolved_policy_file())


def policy_for_request() -> Policy:
    """The policy for an HTTP use case: an invalid file answers 503 with the reason."""
    try:
        return current_policy()
    except PolicyError as exc:
        raise ServiceUnavailable(
            f"the collections policy is invalid, so no decision can be made: {exc}"
        ) from None


@dataclass
class ScanReport:
    """What one scan did (logged, returned to tests and the benchmark)."""

    scan_id: str
    due: int = 0
    evaluated: int = 0
    unchanged: int = 0  # evaluated, nothing decided: no transaction, only the index move
    stale: int = 0
    actions: int = 0
    published: int = 0
    held_back: list[str] = field(default_factory=list)
    batch_id: str | None = None
    errors: list[str] = field(default_factory=list)
    policy_error: str | None = None


def run_scan(
    *, now: datetime | None = None, repo: CustomerRepository | None = None, index: ScheduleIndex | None = None
) -> ScanReport:
    """One collections scan. An invalid policy stops it before it touches anything."""
    scan_id = uuid.uuid4().hex[:12]
    report = ScanReport(scan_id=scan_id)
    try:
        policy = current_policy()
    except PolicyError as exc:
        report.policy_error = str(exc)
        log.error(
            "collections scan stopped: the policy is invalid", extra={"error": str(exc), "scan": scan_id}
        )
        metric("collections.scan_policy_invalid")
        return report
    now = now or clock.now()
    store = runtime.table_store()
    repo = repo or CustomerRepository.of(store)
    index = index or ScheduleIndex.of(store)
    limit = get_settings().scan_max_customers
    due = list(index.due(now, limit=limit))
    report.due = len(due)
    batch_id = f"{now:%Y%m%d%H%M}-{scan_id}"
    gate = CapGate.for_scan(policy, len(due), batch_id)
    gate.on_hold_back = lambda customer_id: approvals.add_to_batch(batch_id, customer_id, policy, now)
    moves = ScheduleBatch(index)

    def one(entry: DueCustomer) -> None:
        try:
            _scan_one(repo, entry, policy, now, gate, report, scan_id, moves)
        except Exception as exc:  # one customer's failure must not stop the scan
            log.exception("collections scan: customer failed", extra={"customer": entry.customer_id})
            with _report_lock:
                report.errors.append(f"{entry.customer_id}: {type(exc).__name__}")

    # Customers are independent (one partition, one transaction each): a few at a time hides
    # the storage round trips. The cap gate, the moves and the counters are thread-safe.
    with ThreadPoolExecutor(max_workers=SCAN_WORKERS) as pool:
        for start in range(0, len(due), SCAN_CHUNK):
            list(pool.map(one, due[start : start + SCAN_CHUNK]))
            _flush(moves, report)
    if gate.held_back:
        report.held_back = list(gate.held_back)
        report.batch_id = batch_id
        log.error(
            "blast-radius cap reached: suspensions wait for approval",
            extra={"batch": batch_id, "held_back": len(gate.held_back), "limit": gate.limit},
        )
        metric("collections.cap_reached", len(gate.held_back))
    metric("collections.scan_due", report.due)
    log.info("collections scan done", extra={"scan": scan_id, **_figures(report)})
    return report


def _flush(moves: ScheduleBatch, report: ScanReport) -> None:
    """Write the chunk's index moves; a failure leaves old entries, which the next scan handles."""
    try:
        failed = moves.flush()
    except Exception as exc:
        log.exception("collections scan: the due index could not be moved")
        failed = [f"index: {type(exc).__name__}"]
    with _report_lock:
        report.errors.extend(f"{item}: due index entry not written" for item in failed)


def _figures(report: ScanReport) -> dict[str, Any]:
    return {
        "due": report.due,
        "evaluated": report.evaluated,
        "unchanged": report.unchanged,
        "stale": report.stale,
        "actions": report.actions,
    }


def _scan_one(
    repo: CustomerRepository,
    entry: DueCustomer,
    policy: Policy,
    now: datetime,
    gate: CapGate,
    report: ScanReport,
    scan_id: str,
    moves: ScheduleBatch,
) -> None:
    for _ in range(MAX_ATTEMPTS):
        aggregate = repo.load(entry.customer_id)
        if not aggregate.exists:
            moves.move(entry.customer_id, entry, None)
            return
        record = aggregate.collections
        if record.outbox:
            # A writer committed and (if older than the grace) died before publishing: finish it.
            published = recover_outbox(repo, entry.customer_id, now)
            with _report_lock:
                report.published += published
            if published == 0:
                # The writer that just committed is publishing these (or another scan claimed
                # them): it has just decided for this customer too. Look again after the grace.
                moves.move(entry.customer_id, entry, now + OUTBOX_GRACE)
                return
        planned = record.next_review_at
        if planned is not None and planned > now:
            # Stale entry: the customer was re-evaluated and rescheduled since.
            with _report_lock:
                report.stale += 1
            moves.move(entry.customer_id, entry, planned)
            return
        commit = Commit(
            policy=policy,
            now=now,
            actor=SCAN_ACTOR,
            correlation_id=f"scan-{scan_id}",
            cap=gate,
            from_due_entry=True,
            batch_released=approvals.is_released,
        )
        try:
            outcome = commit_decision(repo, aggregate, commit)
        except ConcurrencyConflict:
            continue  # a payment or another scan got there first: re-read and decide again
        published = publish_outbox(repo, outcome)
        with _report_lock:
            report.evaluated += 1
            report.unchanged += outcome.unchanged
            report.actions += len(outcome.actions_applied)
            report.published += published
        # The new entry is written with the chunk, before the due entry that led here is dropped.
        moves.move(entry.customer_id, entry, outcome.next_review_at)
        return
    raise ConcurrencyConflict(f"customer {entry.customer_id} kept changing during the scan")


class PreviewItem(BaseModel):
    customer_id: str
    stage: str
    days_past_due: int
    actions: list[str]
    reasons: list[str]
    next_review_at: datetime | None
    held_back_by_cap: bool = False


class Preview(BaseModel):
    at: datetime
    policy_version: str
    enforcement_mode: EnforcementMode
    due: int
    cap: int
    customers: list[PreviewItem] = Field(default_factory=list)


def preview(policy: Policy | None = None, now: datetime | None = None) -> Preview:
    """What the next scan would do for each due customer, and why. Reads only; writes nothing."""
    policy = policy or current_policy()
    now = now or clock.now()
    store = runtime.table_store()
    repo = CustomerRepository.of(store)
    due = list(ScheduleIndex.of(store).due(now, limit=get_settings().scan_max_customers))
    gate = CapGate.for_scan(policy, len(due), "preview")
    result = Preview(
        at=now,
        policy_version=policy.version,
        enforcement_mode=get_settings().enforcement_mode,
        due=len(due),
        cap=gate.limit,
    )
    for entry in due:
        aggregate = repo.load(entry.customer_id)
        if not aggregate.exists:
            continue
        planned = aggregate.collections.next_review_at
        if planned is not None and planned > now:
            continue
        decision = decide(aggregate, policy, now)
        places = any(a.kind is ActionKind.PLACE_HOLD for a in decision.actions)
        held = places and (
            aggregate.collections.held_back_batch is not None or not gate.admit(entry.customer_id)
        )
        result.customers.append(
            PreviewItem(
                customer_id=entry.customer_id,
                stage=decision.stage.value,
                days_past_due=decision.days_past_due,
                actions=[f"{a.kind.value}:{a.stage.value}" for a in decision.actions],
                reasons=decision.reasons,
                next_review_at=decision.next_review_at,
                held_back_by_cap=held,
            )
        )
    return result
