"""Alerts of the collections area, and the alerts staff act on.

Raising (`raise_alert`): partner-wide alerts of the scan and the notice sender, a metric every
time, and an entry in the partner audit (`_partner` partition) once per local day per alert key,
so an hourly scan that keeps finding the same problem tells the people once a day, not 24 times.
Each alert is a row `alert:{key}` (when it was last raised, how often) written in ONE
transaction with its audit entry.

Listing and acknowledging (`list_alerts`, `acknowledge_alert`): every audit entry that raises an
alert (`alert.*`, from any area: reconcile failures and refusals, poison messages, ownership
unknown, suspensions left alone, withheld fraud holds, capped batches, the scan's own) has its
row in `_alerts` (see `shared/adapters/alerts.py`); staff list them newest first and acknowledge
them by name.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.alerts import Alert, AlertStatus, AlertStore
from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.domain.fraud import Text
from shared.domain.identity import Actor
from shared.errors import BadRequest, Contended, NotFound
from shared.services.collections.customer_view import valid_customer_id
from shared.services.collections.deps import CollectionsDeps
from shared.telemetry import metric

log = logging.getLogger(__name__)
ALERT_PREFIX = "alert:"
ACTOR = Actor.system("collections-scan")


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


# --- the alerts staff act on ---

MAX_PAGE = 100
_ALERT_ID = re.compile(r"^[0-9]{14}-[0-9A-F]{16}$")


class AlertPage(BaseModel):
    items: list[Alert]
    continuation_token: str | None


class Acknowledgement(BaseModel):
    """Body of `POST /api/alerts/{alert_id}/acknowledgement` (optional)."""

    model_config = ConfigDict(extra="forbid")

    note: Text = Field(default="", max_length=2000)


def list_alerts(
    deps: CollectionsDeps,
    *,
    status: str = "open",
    kind: str | None = None,
    customer_id: str | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> AlertPage:
    try:
        wanted = AlertStatus(status)
    except ValueError:
        raise BadRequest("status must be open or acknowledged") from None
    if kind is not None and not re.fullmatch(r"[a-z_]{1,60}", kind):
        raise BadRequest("kind is a word like reconcile_failed")
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    customer_id = valid_customer_id(customer_id) if customer_id is not None else None
    filters = fingerprint(list="alerts", status=status, kind=kind, customer_id=customer_id)
    store = AlertStore(deps.customers.table)
    items, resume = store.page(wanted, kind, customer_id, limit, decode_token(continuation_token, filters))
    return AlertPage(items=items, continuation_token=encode_token(resume, filters))


def acknowledge_alert(
    deps: CollectionsDeps, alert_id: str, body: Acknowledgement, *, actor: Actor, correlation_id: str
) -> Alert:
    """Acknowledge an open alert as `actor` (audited); acknowledging again answers it as it is."""
    if not _ALERT_ID.match(alert_id.upper()):
        raise NotFound(f"no alert {alert_id[:40]!r}")
    store = AlertStore(deps.customers.table)
    done: list[Alert] = []

    def attempt() -> Alert:
        stored = store.get(alert_id.upper())
        if stored is None:
            raise NotFound(f"no alert {alert_id!r}")
        if stored.value.status is AlertStatus.ACKNOWLEDGED:
            return stored.value
        acknowledged = stored.value.model_copy(
            update={
                "status": AlertStatus.ACKNOWLEDGED,
                "acknowledged_by": actor.ref,
                "acknowledged_at": deps.clock.now(),
                "note": body.note or None,
            }
        )
        done.append(store.acknowledge(stored, acknowledged))
        return acknowledged

    alert = retry_on_conflict(attempt, what=f"alert {alert_id}")
    if done:
        entry = AuditEntry(
            at=alert.acknowledged_at or deps.clock.now(),
            actor=actor,
            action="alerts.acknowledged",
            reason=(body.note or f"{alert.kind} acknowledged")[:4000],
            correlation_id=correlation_id,
            details={"alert_id": alert.alert_id, "kind": alert.kind},
        )
        AuditLog(deps.customers.table).append(alert.customer_id or PARTNER_PARTITION, [entry])
    return alert
