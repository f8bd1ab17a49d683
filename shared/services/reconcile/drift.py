"""The drift sweep: for every customer with a hold or with subscriptions this app suspended,
compare Partner Center with the desired state and enqueue a reconcile where they differ
(someone reactivated by hand, a call that failed for good).

Finding those customers costs two cross-partition range queries on RowKey (`hold:` and `sub:`
rows) over the customers table. Table storage serves them by scanning the table server-side,
but only the matching rows (PartitionKey, RowKey and, for `sub:` rows, `state`) come back, so the
cost to this app is O(held + suspended customers); the partition scan is Azure's, once a day.

Listing costs one paced Partner Center call per customer (about 450 a minute), and the timer must
end inside the function timeout (10 minutes): after `TIME_BUDGET_SECONDS` the customers not yet
listed are enqueued without a comparison (the executor is level-triggered, so a customer already
converged costs it one listing and no change), and the sweep still records its count.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.layout import HOLD_PREFIX, PARTNER_PARTITION, SUBSCRIPTION_PREFIX
from shared.adapters.partner_center import PartnerCenterError
from shared.adapters.tables import Table, prefix_range
from shared.domain.identity import Actor
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.domain.suspensions import SuspensionState, plan_reconcile
from shared.services.reconcile.common import ReconcileDeps, read_hold_ids, read_records, view_of
from shared.telemetry import metric

log = logging.getLogger(__name__)

ACTOR = Actor.system("drift-sweep")
_RANGE_FILTER = "RowKey ge @low and RowKey lt @high"
# host.json functionTimeout is 10 minutes: leave room to enqueue the rest and record the sweep.
TIME_BUDGET_SECONDS = 7 * 60.0


@dataclass
class DriftReport:
    checked: int = 0
    drifted: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # Partner Center did not answer: enqueued too
    not_checked: list[str] = field(default_factory=list)  # out of time: enqueued without listing
    correlation_id: str = ""


def enforced_customers(table: Table) -> list[str]:
    """Customers with at least one hold or one subscription record still ours."""
    found: set[str] = set()
    low, high = prefix_range(HOLD_PREFIX)
    for entity in table.query(_RANGE_FILTER, {"low": low, "high": high}, select=["PartitionKey", "RowKey"]):
        found.add(str(entity["PartitionKey"]))
    low, high = prefix_range(SUBSCRIPTION_PREFIX)
    ours = (SuspensionState.SUSPENDING.value, SuspensionState.SUSPENDED_BY_US.value)
    for entity in table.query(
        _RANGE_FILTER, {"low": low, "high": high}, select=["PartitionKey", "RowKey", "state"]
    ):
        if entity.get("state") in ours:
            found.add(str(entity["PartitionKey"]))
    found.discard(PARTNER_PARTITION)
    return sorted(found)


def run_drift_sweep(deps: ReconcileDeps, time_budget_seconds: float = TIME_BUDGET_SECONDS) -> DriftReport:
    """Check each enforced customer; enqueue a reconcile for each that drifted (and, once the
    time budget is spent, for each not yet checked)."""
    table, partner_center = deps.table, deps.partner_center
    report = DriftReport(correlation_id=str(uuid.uuid4()))
    deadline = time.monotonic() + time_budget_seconds
    for customer_id in enforced_customers(table):
        if time.monotonic() >= deadline:
            report.not_checked.append(customer_id)
            _enqueue(deps, customer_id, report.correlation_id)
            continue
        report.checked += 1
        holds = read_hold_ids(table, customer_id)
        records, _ = read_records(table, customer_id)
        try:
            subscriptions = partner_center.list_subscriptions(
                customer_id, correlation_id=report.correlation_id
            )
        except PartnerCenterError as exc:
            log.warning(
                "drift: Partner Center did not answer", extra={"customer_id": customer_id, **exc.describe()}
            )
            report.unknown.append(customer_id)
        else:
            if not plan_reconcile(holds, [view_of(s) for s in subscriptions], records):
                continue
            report.drifted.append(customer_id)
        _enqueue(deps, customer_id, report.correlation_id)
    _record(deps, report)
    return report


def _enqueue(deps: ReconcileDeps, customer_id: str, correlation_id: str) -> None:
    message = ReconcileRequest(
        customer_id=customer_id,
        reason="drift sweep",
        correlation_id=correlation_id,
        requested_at=deps.clock.now(),
    )
    deps.publisher.publish(message, message_id=derived_message_id(customer_id, correlation_id))


def _record(deps: ReconcileDeps, report: DriftReport) -> None:
    log.info(
        "drift sweep done",
        extra={
            "checked": report.checked,
            "drifted": len(report.drifted),
            "unknown": len(report.unknown),
            "not_checked": len(report.not_checked),
        },
    )
    metric("drift.customers_drifted", len(report.drifted))
    metric("drift.customers_checked", report.checked)
    entry = AuditEntry(
        at=deps.clock.now(),
        actor=ACTOR,
        action="drift.sweep",
        reason=f"{len(report.drifted)} of {report.checked} customers drifted",
        correlation_id=report.correlation_id,
        details={
            "checked": report.checked,
            "drifted": report.drifted[:200],
            "unknown": report.unknown[:200],
            "not_checked": len(report.not_checked),
        },
    )
    AuditLog(deps.table).append(PARTNER_PARTITION, [entry])
