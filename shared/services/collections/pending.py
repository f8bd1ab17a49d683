"""Asking for a four-eyes change, and reading the changes that wait (see `four_eyes` for the
approval). A request is stored with its index rows in one transaction and audited in the
subject's partition (the customer's, or the partner's for a batch) as `change.requested`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.changes import is_expired
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.domain.changes import (
    CHANGE_ID_PATTERN,
    ChangeKind,
    ChangeStatus,
    PendingChange,
    expiry,
    new_change_id,
)
from shared.domain.customer import normalise_customer_id
from shared.domain.identity import Actor
from shared.domain.policy import Policy
from shared.errors import BadRequest, NotFound, ValidationFailed
from shared.services.collections.deps import CollectionsDeps

MAX_PAGE = 100


class ChangePage(BaseModel):
    items: list[PendingChange]
    continuation_token: str | None


def ask(
    deps: CollectionsDeps,
    kind: ChangeKind,
    *,
    actor: Actor,
    policy: Policy,
    summary: dict[str, str],
    why: dict[str, str],
    correlation_id: str,
    customer_id: str | None = None,
    batch_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> PendingChange:
    """Store a pending change (or find the same request already waiting) and audit it."""
    now = deps.clock.now()
    change = PendingChange(
        change_id=new_change_id(now),
        kind=kind,
        customer_id=customer_id,
        batch_id=batch_id,
        payload=payload or {},
        summary=summary,
        why=why,
        policy_version=policy.version,
        requested_by=actor.ref,
        requested_at=now,
        expires_at=expiry(policy.four_eyes, now),
    )
    stored, created = retry_on_conflict(lambda: deps.changes.create(change), what="the pending changes")
    if created:
        audit_change(deps, stored, actor, "change.requested", stored.summary["en"], correlation_id, now)
    return stored


def audit_change(
    deps: CollectionsDeps,
    change: PendingChange,
    actor: Actor,
    action: str,
    reason: str,
    correlation_id: str,
    at: datetime,
) -> None:
    """An entry about the change in its subject's audit trail."""
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        reason=reason[:4000],
        correlation_id=correlation_id,
        policy_version=change.policy_version,
        details={
            "change_id": change.change_id,
            "kind": change.kind.value,
            "requested_by": change.requested_by.model_dump(mode="json"),
            "batch_id": change.batch_id,
        },
    )
    AuditLog(deps.customers.table).append(change.customer_id or PARTNER_PARTITION, [entry])


def valid_change_id(value: str) -> str:
    upper = value.upper()
    if not re.match(CHANGE_ID_PATTERN, upper):
        raise NotFound(f"no change {value[:40]!r} (a change id looks like CH0123456789ABCDEFGHJK)")
    return upper


def get_change(deps: CollectionsDeps, change_id: str) -> PendingChange:
    stored = deps.changes.get(valid_change_id(change_id))
    if stored is None:
        raise NotFound(f"no change {change_id!r}")
    return shown(stored.value, deps.clock.now())


def shown(change: PendingChange, now: datetime) -> PendingChange:
    """A pending change past its time is shown as expired (it can no longer be approved)."""
    return change.model_copy(update={"status": ChangeStatus.EXPIRED}) if is_expired(change, now) else change


def list_changes(
    deps: CollectionsDeps,
    *,
    status: str | None = "pending",
    customer_id: str | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> ChangePage:
    """One page of changes, oldest first: by status (pending by default), or one customer's."""
    try:
        wanted = ChangeStatus(status) if status else None
    except ValueError:
        allowed = ", ".join(s.value for s in ChangeStatus)
        raise BadRequest(f"status must be one of {allowed}") from None
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    if customer_id is not None:
        try:
            customer_id = normalise_customer_id(customer_id)
        except ValueError:
            raise ValidationFailed(
                "customer_id must be a GUID", errors=[{"field": "customer_id", "message": "not a GUID"}]
            ) from None
    filters = fingerprint(list="changes", status=status, customer_id=customer_id)
    items, resume = deps.changes.page(wanted, customer_id, limit, decode_token(continuation_token, filters))
    now = deps.clock.now()
    return ChangePage(items=[shown(c, now) for c in items], continuation_token=encode_token(resume, filters))


def open_changes_of(deps: CollectionsDeps, customer_id: str) -> list[PendingChange]:
    """The customer's changes still waiting for a second person (for its view)."""
    items, _ = deps.changes.page(ChangeStatus.PENDING, customer_id, MAX_PAGE, None)
    now = deps.clock.now()
    return [shown(c, now) for c in items if not is_expired(c, now)]
