"""Partner-wide alerts of the collections area: a metric every time, and an entry in the partner
audit (`_partner` partition) once per local day per alert key, so an hourly scan that keeps
finding the same problem tells the people once a day, not 24 times.

Each alert is a row `alert:{key}` (when it was last raised, how often) written in ONE
transaction with its audit entry.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import PARTNER_PARTITION
from shared.errors import Contended
from shared.services.collections.deps import CollectionsDeps
from shared.telemetry import metric

log = logging.getLogger(__name__)
ALERT_PREFIX = "alert:"
ACTOR = "collections-scan"


class AlertMark(BaseModel):
    """Row `alert:{key}`: the last local day the alert was written to the partner audit."""

    key: str
    last_raised_on: date
    first_raised_at: datetime
    times: int = 1


def raise_alert(
    deps: CollectionsDeps,
    *,
    key: str,
    action: str,
    reason: str,
    today: date,
    now: datetime,
    correlation_id: str,
    **details: Any,
) -> bool:
    """Count the alert (metric `collections.alert`, attribute `alert`) and, the first time on
    `today`, write it to the partner audit. True when the audit entry was written."""
    metric("collections.alert", alert=action)
    log.error("collections alert: %s", reason, extra={"alert": action, "key": key})
    table = deps.customers.table
    row_key = ALERT_PREFIX + key

    def attempt() -> bool:
        stored = table.get(AlertMark, PARTNER_PARTITION, row_key)
        if stored is not None and stored.value.last_raised_on >= today:
            return False
        mark = AlertMark(key=key, last_raised_on=today, first_raised_at=now)
        tx = table.transaction(PARTNER_PARTITION)
        if stored is None:
            tx.create(mark, row_key)
        else:
            first = stored.value.first_raised_at
            mark = mark.model_copy(update={"first_raised_at": first, "times": stored.value.times + 1})
            tx.update(mark, row_key, stored.etag)
        audit = AuditLog(table)
        entry = AuditEntry(
            at=now, actor=ACTOR, action=action, reason=reason, correlation_id=correlation_id, details=details
        )
        audit.stage(tx, audit.read_head(PARTNER_PARTITION), [entry])
        tx.submit()
        return True

    try:
        return retry_on_conflict(attempt, what=f"alert {key}")
    except Contended:
        return False  # another scan is writing the same alert


def partner_alerts(deps: CollectionsDeps, limit: int = 50) -> list[dict[str, Any]]:
    """The newest `alert.*` entries of the partner audit (for tests and the runbook's checks)."""
    trail = deps.customers.audit_log.read(PARTNER_PARTITION, limit=limit)
    return [r.model_dump(mode="json") for r in trail.records if r.action.startswith("alert.")]
