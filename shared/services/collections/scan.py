"""The collections scan: read only the due index (principle 4), evaluate each due customer.

Each customer is committed on its own (see `commit.py`), so one bad customer cannot stop the
others and a crash half way leaves every customer either done or still due. The due-index moves
(new entry written, then the old one dropped) are batched per hour bucket after each chunk of
SCAN_CHUNK customers: a crash before a chunk's flush leaves its customers' due entries, and the
next scan finds them done (stale entry, or nothing to decide) or finishes them.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.schedule import DueCustomer, ScheduleBatch
from shared.domain.identity import Actor
from shared.domain.policy import Policy, PolicyError
from shared.errors import Contended
from shared.services.collections import alerts, approvals, feed, rollout
from shared.services.collections.actions import CommitContext
from shared.services.collections.cap import CapGate
from shared.services.collections.commit import commit_review
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.outbox import OUTBOX_GRACE, publish_outbox, recover_outbox
from shared.telemetry import log_fields, metric

log = logging.getLogger(__name__)
_report_lock = threading.Lock()

SCAN_ACTOR = Actor.system("collections-scan")
SCAN_WORKERS = 8
SCAN_CHUNK = 200  # customers whose index moves are flushed together


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
    episodes_started: int = 0  # overdue episodes opened by this scan (the feed signal counts them)
    held_back: list[str] = field(default_factory=list)  # suspensions waiting for approval
    warnings_held_back: list[str] = field(default_factory=list)  # warnings waiting for approval
    batch_id: str | None = None
    contended: list[str] = field(default_factory=list)  # kept changing: due again next scan
    errors: list[str] = field(default_factory=list)
    policy_error: str | None = None


def run_scan(deps: CollectionsDeps, *, now: datetime | None = None) -> ScanReport:
    """One collections scan. An invalid policy stops it before it touches anything."""
    scan_id = uuid.uuid4().hex[:12]
    report = ScanReport(scan_id=scan_id)
    try:
        policy = deps.policy()
    except PolicyError as exc:
        report.policy_error = str(exc)
        log.error(
            "collections scan stopped: the policy is invalid", extra={"error": str(exc), "scan": scan_id}
        )
        metric("collections.scan_policy_invalid")
        return report
    now = now or deps.clock.now()
    mode = rollout.observe_mode(deps, now)  # a switch of ENFORCEMENT_MODE is carried out first
    _check_calendar(deps, policy, now, scan_id)
    _check_payments_feed(deps, policy, now, scan_id)
    due = list(deps.schedule.due(now, limit=deps.settings.scan_max_customers))
    report.due = len(due)
    batch_id = f"{now:%Y%m%d%H%M}-{scan_id}"
    gate = CapGate.for_scan(policy, len(due), batch_id)
    if not deps.dry_run:  # dry run only says what the cap would hold back: no batch to approve
        gate.on_hold_back = lambda customer_id, reason: approvals.add_to_batch(
            deps, batch_id, customer_id, policy, now, reason=reason
        )
    moves = ScheduleBatch(deps.schedule)
    ctx = CommitContext(
        policy=policy, now=now, actor=SCAN_ACTOR, correlation_id=f"scan-{scan_id}", mode_epoch=mode.epoch
    )

    def one(entry: DueCustomer) -> None:
        try:
            _scan_one(deps, entry, ctx, gate, report, moves)
        except Contended:
            # Others kept writing this customer: its due entry stays, so the next scan has it.
            with _report_lock:
                report.contended.append(entry.customer_id)
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
    if (gate.held_back or gate.warnings_held_back) and deps.dry_run:
        log.warning("dry run: the blast-radius cap would hold suspensions back", extra={"scan": scan_id})
    elif gate.held_back or gate.warnings_held_back:
        report.held_back = list(gate.held_back)
        report.warnings_held_back = list(gate.warnings_held_back)
        report.batch_id = batch_id
        log.error(
            "blast-radius cap reached: suspensions wait for approval",
            extra={
                "batch": batch_id,
                "held_back": len(gate.held_back),
                "warnings_held_back": len(gate.warnings_held_back),
                "limit": gate.limit,
            },
        )
        metric("collections.cap_reached", len(gate.held_back) + len(gate.warnings_held_back))
    _count_episodes(deps, policy, now, scan_id, report.episodes_started)
    metric("collections.scan_due", report.due)
    log.info("collections scan done", extra=log_fields(_figures(report), scan=scan_id))
    return report


def _check_calendar(deps: CollectionsDeps, policy: Policy, now: datetime, scan_id: str) -> None:
    """Alert (once a day) while the policy lacks this year's or, from 1 December, next year's
    days off: the library's holidays apply then, and make-up working days are unknown."""
    today = policy.calendar().local_date(now)
    missing = policy.missing_calendar_years(today)
    if missing:
        alerts.raise_alert(
            deps,
            key=f"calendar-{missing[0]}",
            action="alert.calendar_year_missing",
            reason=policy.calendar_gap(missing),
            today=today,
            now=now,
            correlation_id=f"scan-{scan_id}",
            missing_years=missing,
        )


def _check_payments_feed(deps: CollectionsDeps, policy: Policy, now: datetime, scan_id: str) -> None:
    """Alert (once a day) while the payments feed looks broken (`feed.py`)."""
    reason = feed.quiet_reason(deps, policy, now)
    if reason is not None:
        alerts.raise_alert(
            deps,
            key="payments-feed",
            action="alert.payments_feed_quiet",
            reason=reason,
            today=policy.calendar().local_date(now),
            now=now,
            correlation_id=f"scan-{scan_id}",
        )


def _count_episodes(deps: CollectionsDeps, policy: Policy, now: datetime, scan_id: str, started: int) -> None:
    """Count the overdue episodes this scan opened, and alert (once a day) when today's count
    jumps far past the usual (`feed.overdue_jump_reason`): payments stopped arriving."""
    try:
        feed.count_episodes(deps, policy, now, started)
        reason = feed.overdue_jump_reason(deps, policy, now)
    except Exception:  # the signal must never stop the scan
        log.exception("collections scan: the overdue-episode count could not be kept")
        return
    if reason is not None:
        alerts.raise_alert(
            deps,
            key="overdue-jump",
            action="alert.overdue_jump",
            reason=reason,
            today=policy.calendar().local_date(now),
            now=now,
            correlation_id=f"scan-{scan_id}",
        )


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
        "contended": len(report.contended),
    }


def _scan_one(
    deps: CollectionsDeps,
    entry: DueCustomer,
    ctx: CommitContext,
    gate: CapGate,
    report: ScanReport,
    moves: ScheduleBatch,
) -> None:
    """Review one due customer; a payment or another scan committing first makes it read and
    decide again (`retry_on_conflict`)."""
    customer_id = entry.customer_id

    def attempt() -> None:
        aggregate = deps.customers.load(customer_id)
        if not aggregate.exists:
            moves.move(customer_id, entry, None)
            return
        record = aggregate.collections
        if record.outbox:
            # A writer committed and (if older than the grace) died before publishing: finish it.
            published = recover_outbox(deps, customer_id, ctx.now)
            with _report_lock:
                report.published += published
            if published == 0:
                # The writer that just committed is publishing these (or another scan claimed
                # them): it has just decided for this customer too. Look again after the grace.
                moves.move(customer_id, entry, ctx.now + OUTBOX_GRACE)
                return
        planned = record.next_review_at
        if planned is not None and planned > ctx.now:
            # Stale entry: the customer was re-evaluated and rescheduled since.
            with _report_lock:
                report.stale += 1
            moves.move(customer_id, entry, planned)
            return
        released = functools.partial(approvals.is_released, deps)
        result = commit_review(deps, aggregate, ctx, cap=gate, batch_released=released)
        published = publish_outbox(deps, result)
        with _report_lock:
            report.evaluated += 1
            report.unchanged += result.unchanged
            report.actions += len(result.actions_applied)
            report.episodes_started += result.episode_started
            report.published += published
        # The new entry is written with the chunk, before the due entry that led here is dropped.
        moves.move(customer_id, entry, result.next_review_at)

    retry_on_conflict(attempt, what=f"customer {customer_id}", key=customer_id)
