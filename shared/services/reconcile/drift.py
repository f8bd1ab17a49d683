"""The drift sweep: for every customer the app has reason to look at, compare Partner Center with
the desired state and enqueue a reconcile where they differ (someone reactivated by hand, a call
that failed for good, a PATCH Partner Center applied after the client gave up).

The customers looked at: those with a hold; those with a record of ours still open (suspending,
unknown, suspended by us, waiting, refused, undecided); and those with a record of ours closed in
the last DRIFT_LOOKBACK_DAYS (a late-applied PATCH can surface after its record was settled).
Finding them costs two cross-partition range queries on RowKey (`hold:` and `sub:` rows) over
the customers table: Table storage scans server-side, but only the matching rows' keys and a
few columns come back, so the app's cost is O(candidates); the partition scan is Azure's, once a
day.

It survives any error of one customer (Partner Center's or storage's): it logs it, counts it,
enqueues that customer anyway (the executor is level-triggered) and goes on; the sweep is always
recorded, and alerts when DRIFT_ALERT_FAILURES customers or more could not be checked.

Listing costs one paced Partner Center call per customer, and the timer must end inside the
function timeout (10 minutes): after `TIME_BUDGET_SECONDS` the customers not yet listed are
enqueued without a comparison, and the sweep still records its count.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.layout import HOLD_PREFIX, PARTNER_PARTITION, SUBSCRIPTION_PREFIX
from shared.adapters.partner_center import ErrorKind, PartnerCenterError
from shared.adapters.tables import Table, prefix_range
from shared.domain.identity import Actor
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.domain.reconcile_plan import plan_reconcile
from shared.domain.suspensions import SuspensionState
from shared.services.reconcile.common import ReconcileDeps, read_hold_ids, read_records, view_of
from shared.telemetry import log_fields, metric

log = logging.getLogger(__name__)

ACTOR = Actor.system("drift-sweep")
_RANGE_FILTER = "RowKey ge @low and RowKey lt @high"
# host.json functionTimeout is 10 minutes: leave room to enqueue the rest and record the sweep.
TIME_BUDGET_SECONDS = 7 * 60.0
_CLOSED = (SuspensionState.REACTIVATED.value, SuspensionState.RELEASED.value)


@dataclass
class DriftReport:
    checked: int = 0
    drifted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # could not be checked: enqueued too
    not_checked: list[str] = field(default_factory=list)  # out of time: enqueued without listing
    unknown_tenants: list[str] = field(default_factory=list)  # Partner Center does not know them
    failures: dict[str, int] = field(default_factory=dict)  # by error kind
    correlation_id: str = ""


def candidate_customers(table: Table, now: datetime, lookback_days: int) -> list[str]:
    """Customers with a hold, a record of ours still open, or one closed in the lookback."""
    found: set[str] = set()
    low, high = prefix_range(HOLD_PREFIX)
    for entity in table.query(_RANGE_FILTER, {"low": low, "high": high}, select=["PartitionKey", "RowKey"]):
        found.add(str(entity["PartitionKey"]))
    since = now - timedelta(days=lookback_days)
    low, high = prefix_range(SUBSCRIPTION_PREFIX)
    columns = ["PartitionKey", "RowKey", "state", "updated_at", "reactivated_at", "suspended_at"]
    for entity in table.query(_RANGE_FILTER, {"low": low, "high": high}, select=columns):
        if entity.get("state") not in _CLOSED or _last_change(entity) >= since:
            found.add(str(entity["PartitionKey"]))
    found.discard(PARTNER_PARTITION)
    return sorted(found)


def _last_change(entity: Any) -> datetime:
    for name in ("updated_at", "reactivated_at", "suspended_at"):
        value = entity.get(name)
        if isinstance(value, datetime):
            return value
    return datetime.fromtimestamp(0, tz=UTC)


def run_drift_sweep(deps: ReconcileDeps, time_budget_seconds: float = TIME_BUDGET_SECONDS) -> DriftReport:
    """Check each candidate customer; enqueue a reconcile for each that drifted, each that could
    not be checked and, once the time budget is spent, each not yet checked."""
    report = DriftReport(correlation_id=str(uuid.uuid4()))
    deadline = time.monotonic() + time_budget_seconds
    now = deps.clock.now()
    for customer_id in candidate_customers(deps.table, now, deps.settings.drift_lookback_days):
        if time.monotonic() >= deadline:
            report.not_checked.append(customer_id)
            _enqueue_safely(deps, customer_id, report)
            continue
        report.checked += 1
        try:
            drifted = _drifted(deps, customer_id, report.correlation_id)
        except PartnerCenterError as exc:
            if exc.classification.kind is ErrorKind.NOT_FOUND:
                # A known state, not a failure: the executor records it (one alert, once).
                report.unknown_tenants.append(customer_id)
            else:
                _count_failure(report, customer_id, exc)
            _enqueue_safely(deps, customer_id, report)
            continue
        except Exception as exc:  # noqa: BLE001 - one customer's failure never ends the sweep
            _count_failure(report, customer_id, exc)
            _enqueue_safely(deps, customer_id, report)
            continue
        if drifted:
            report.drifted.append(customer_id)
            _enqueue_safely(deps, customer_id, report)
    _record(deps, report)
    return report


def _drifted(deps: ReconcileDeps, customer_id: str, correlation_id: str) -> bool:
    holds = read_hold_ids(deps.table, customer_id)
    records, _ = read_records(deps.table, customer_id)
    subscriptions = deps.partner_center.list_subscriptions(customer_id, correlation_id=correlation_id)
    settle = timedelta(minutes=deps.settings.reconcile_settle_minutes)
    views = [view_of(s) for s in subscriptions]
    return bool(plan_reconcile(holds, views, records, now=deps.clock.now(), settle=settle))


def _count_failure(report: DriftReport, customer_id: str, exc: Exception) -> None:
    kind = exc.classification.kind.value if isinstance(exc, PartnerCenterError) else type(exc).__name__
    details = exc.describe() if isinstance(exc, PartnerCenterError) else {"error": type(exc).__name__}
    log.warning("drift: customer not checked", extra=log_fields(details, customer_id=customer_id))
    report.failed.append(customer_id)
    report.failures[kind] = report.failures.get(kind, 0) + 1


def _enqueue_safely(deps: ReconcileDeps, customer_id: str, report: DriftReport) -> None:
    message = ReconcileRequest(
        customer_id=customer_id,
        reason="drift sweep",
        correlation_id=report.correlation_id,
        requested_at=deps.clock.now(),
    )
    try:
        deps.publisher.publish(message, message_id=derived_message_id(customer_id, report.correlation_id))
    except Exception as exc:  # noqa: BLE001 - counted; the next sweep comes back
        _count_failure(report, customer_id, exc)


def _record(deps: ReconcileDeps, report: DriftReport) -> None:
    failed = len(report.failed)
    log.info(
        "drift sweep done",
        extra={
            "checked": report.checked,
            "drifted": len(report.drifted),
            "failed": failed,
            "not_checked": len(report.not_checked),
        },
    )
    metric("drift.customers_drifted", len(report.drifted))
    metric("drift.customers_checked", report.checked)
    metric("drift.customers_failed", failed)
    entries = [
        AuditEntry(
            at=deps.clock.now(),
            actor=ACTOR,
            action="drift.sweep",
            reason=(
                f"{len(report.drifted)} of {report.checked} customers drifted; {failed} could not be checked"
            ),
            correlation_id=report.correlation_id,
            details={
                "checked": report.checked,
                "drifted": report.drifted[:200],
                "failed": report.failed[:200],
                "failures": report.failures,
                "unknown_tenants": report.unknown_tenants[:200],
                "not_checked": len(report.not_checked),
            },
        )
    ]
    if failed >= deps.settings.drift_alert_failures:
        entries.append(
            AuditEntry(
                at=deps.clock.now(),
                actor=ACTOR,
                action="alert.drift_sweep_failures",
                reason=(
                    f"{failed} customers could not be checked "
                    f"(threshold {deps.settings.drift_alert_failures})"
                ),
                correlation_id=report.correlation_id,
                details={"failures": report.failures, "failed": report.failed[:200]},
            )
        )
        metric("reconcile.alert", 1, alert="alert.drift_sweep_failures")
        log.error("drift sweep: too many customers not checked", extra=log_fields(report.failures))
    AuditLog(deps.table).append(PARTNER_PARTITION, entries)
