"""Types and reads shared by the reconcile entry point, the executor and the drift sweep."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.layout import HOLD_PREFIX, PARTNER_PARTITION, SUBSCRIPTION_PREFIX
from shared.adapters.lease import LeaseStore
from shared.adapters.partner_center import PartnerCenterClient, Subscription
from shared.adapters.queues import Publisher
from shared.adapters.tables import Table, decode
from shared.clock import PROCESS_CLOCK, Clock
from shared.domain.identity import Actor
from shared.domain.messages import ReconcileRequest
from shared.domain.reconcile_plan import PlannedAction
from shared.domain.suspensions import SubscriptionView, SuspensionRecord, SuspensionState
from shared.settings import AppSettings
from shared.telemetry import log_fields, metric

log = logging.getLogger(__name__)

ACTOR = Actor.system("reconcile-executor")


class ReconcileOutcome(StrEnum):
    CONVERGED = "converged"
    DRY_RUN = "dry_run"
    RESCHEDULED = "rescheduled"
    BUSY = "busy"  # another executor holds the customer's lease; retried later
    GAVE_UP = "gave_up"  # too many attempts: alert raised, the drift sweep will come back
    CUSTOMER_UNKNOWN = "customer_unknown"  # Partner Center does not know the tenant: alerted once


@dataclass
class ReconcileResult:
    outcome: ReconcileOutcome
    customer_id: str
    patches: int = 0
    delay_seconds: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class ReconcileDeps:
    """The customers table (holds, records, audit, leases), Partner Center, the reconcile queue
    (reschedules), the settings and the clock (wired in `shared/wiring.py`)."""

    table: Table
    partner_center: PartnerCenterClient
    publisher: Publisher
    settings: AppSettings
    clock: Clock = field(default=PROCESS_CLOCK)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.table)

    @property
    def leases(self) -> LeaseStore:
        return LeaseStore(self.table)


def read_hold_ids(table: Table, customer_id: str) -> list[str]:
    """The ids of the customer's active holds (rows `hold:{id}`)."""
    return sorted(str(e["RowKey"])[len(HOLD_PREFIX) :] for e in table.partition(customer_id, HOLD_PREFIX))


def read_records(table: Table, customer_id: str) -> tuple[dict[str, SuspensionRecord], dict[str, str]]:
    """Our suspension records by subscription id, and their ETags by row key."""
    records: dict[str, SuspensionRecord] = {}
    etags: dict[str, str] = {}
    for entity in table.partition(customer_id, SUBSCRIPTION_PREFIX):
        stored = decode(SuspensionRecord, entity)
        records[stored.value.subscription_id] = stored.value
        etags[stored.row_key] = stored.etag
    return records, etags


def view_of(sub: Subscription) -> SubscriptionView:
    return SubscriptionView(
        subscription_id=sub.id,
        status=sub.normalised_status,
        parent_subscription_id=sub.parent_subscription_id,
        offer_name=sub.offer_name or "",
        friendly_name=sub.friendly_name or "",
        auto_renew_enabled=sub.auto_renew_enabled,
        suspension_reasons=tuple(sub.suspension_reasons) if sub.suspension_reasons is not None else None,
    )


def record_alert(
    deps: ReconcileDeps,
    request: ReconcileRequest | None,
    reason: str,
    action: str = "alert.reconcile_failed",
    **details: Any,
) -> None:
    """An alert in the audit (the customer's partition, else `_partner`) and a metric; the
    audit entry raises the alert staff see in `GET /api/alerts` (`alert_kind=` in the details
    names a finer kind than the action's)."""
    partition = request.customer_id if request else PARTNER_PARTITION
    entry = AuditEntry(
        at=deps.clock.now(),
        actor=ACTOR,
        action=action,
        reason=reason,
        correlation_id=request.correlation_id if request else "unknown",
        details={"customer_id": request.customer_id if request else None, **details},
    )
    log.error("reconcile alert", extra=log_fields(customer_id=partition, reason=reason, alert=action))
    metric("reconcile.alert", 1, alert=action)
    deps.audit.append(partition, [entry])


def details_summary(subscriptions: list[Subscription]) -> str:
    """How many subscriptions are in each status, in words (for the audit)."""
    counts: dict[str, int] = {}
    for sub in subscriptions:
        counts[sub.normalised_status] = counts.get(sub.normalised_status, 0) + 1
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "no subscriptions"


def describe_action(action: PlannedAction) -> dict[str, Any]:
    """The audit details of one planned step."""
    return {
        "subscription_id": action.subscription.subscription_id,
        "status_before": action.subscription.status,
        "add_ons": [a.subscription_id for a in action.add_ons],
        "why": action.why,
    }


def intent_record(
    view: SubscriptionView,
    holds: list[str],
    now: datetime,
    correlation_id: str,
    *,
    request_id: str | None,
    previous: SuspensionRecord | None,
) -> SuspensionRecord:
    """The record written before a suspension's PATCH (state `suspending`): the holds, the
    status and auto-renew before, and the MS-RequestId about to be used (None for an add-on,
    which follows its base). A wait ("try later") already under way keeps its start."""
    waiting = previous.waiting if previous and previous.state is SuspensionState.WAITING else None
    return SuspensionRecord(
        subscription_id=view.subscription_id,
        offer_name=view.offer_name,
        friendly_name=view.friendly_name,
        parent_subscription_id=view.parent_subscription_id,
        status_before=view.status,
        suspended_at=now,
        suspended_under_holds=list(holds),
        correlation_id=correlation_id,
        state=SuspensionState.SUSPENDING,
        request_id=request_id,
        auto_renew_before=view.auto_renew_enabled,
        waiting=waiting,
        updated_at=now,
    )
