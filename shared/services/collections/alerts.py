"""The alerts staff act on (raised by their audit entries, see `shared/adapters/alerts.py`):
the list, newest first, by kind and customer; and acknowledgement by a named person."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.alerts import Alert, AlertStatus, AlertStore
from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.domain.fraud import Text
from shared.domain.identity import Actor
from shared.errors import BadRequest, NotFound
from shared.services.collections.customer_view import valid_customer_id
from shared.services.collections.deps import CollectionsDeps

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
