"""The outbox of a customer's state row: messages decided in a committed transaction, published
after it (step 3 of the commit order, see `commit.py`) and then cleared under the row's ETag.

Message ids derive from the customer and the revision (reconcile) or the notice row (notices),
so a message published twice is a duplicate that consumers (and Service Bus) ignore.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.customers import CollectionsRecord, OutboxItem
from shared.adapters.layout import STATE_ROW
from shared.adapters.tables import ConcurrencyConflict, Stored
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.errors import Contended
from shared.services.collections.deps import CollectionsDeps
from shared.telemetry import metric

log = logging.getLogger(__name__)

# How long the writer that committed an outbox item owns its publishing; after that, a scan
# that finds the item presumes the writer died and publishes it (see recover_outbox).
OUTBOX_GRACE = timedelta(minutes=2)


class NoticeMessage(BaseModel):
    """`Deliver notice N of customer X`: the sender reads the notice row (the content is there)."""

    model_config = ConfigDict(extra="ignore")

    customer_id: str = Field(min_length=1, max_length=128)
    notice_id: str = Field(min_length=1, max_length=200)
    correlation_id: str = Field(min_length=1, max_length=100)
    attempt: int = Field(default=0, ge=0)


class StagedCommit(Protocol):
    """What a commit tells the outbox: the state row as written and the items it added."""

    @property
    def customer_id(self) -> str: ...
    @property
    def committed(self) -> Stored[CollectionsRecord] | None: ...
    @property
    def staged(self) -> list[str]: ...


def reconcile_item(
    customer_id: str, revision: int, reason: str, correlation_id: str, staged_at: datetime
) -> OutboxItem:
    """A `reconcile customer X` message, named by the revision that decided it."""
    return OutboxItem(
        kind="reconcile",
        message_id=derived_message_id(customer_id, "reconcile", str(revision)),
        reason=reason,
        correlation_id=correlation_id,
        staged_at=staged_at,
    )


def publish_outbox(deps: CollectionsDeps, commit: StagedCommit) -> int:
    """Step 3 for the writer that committed: send the messages THIS commit staged, then clear
    them. Items staged by another writer (still publishing, or crashed) are left to it or to
    `recover_outbox`, so that no message goes out twice from two writers at once."""
    stored = commit.committed
    if stored is None or not commit.staged:
        return 0
    mine = set(commit.staged)
    items = [item for item in stored.value.outbox if item.message_id in mine]
    _send(deps, commit.customer_id, items)
    _clear(deps, commit.customer_id, stored, mine)
    return len(items)


def recover_outbox(deps: CollectionsDeps, customer_id: str, now: datetime) -> int:
    """Publish what a writer committed and then did not publish (it crashed): only items older
    than OUTBOX_GRACE, claimed under the row's ETag first, so that a writer still publishing
    and two recovering scans never send the same item at once."""
    stored = deps.customers.get_record(customer_id)
    if stored is None:
        return 0
    cutoff = now - OUTBOX_GRACE
    stale = [i for i in stored.value.outbox if i.staged_at is None or i.staged_at <= cutoff]
    if not stale:
        return 0
    claimed = stored.value.model_copy(deep=True)
    ids = {item.message_id for item in stale}
    for item in claimed.outbox:
        if item.message_id in ids:
            item.staged_at = now
    try:
        etag = deps.customers.update_record(customer_id, claimed, stored.etag)
    except ConcurrencyConflict:
        return 0  # someone else is on it; a later scan looks again
    _send(deps, customer_id, stale)
    _clear(deps, customer_id, Stored(claimed, customer_id, STATE_ROW, etag), ids)
    return len(stale)


def _send(deps: CollectionsDeps, customer_id: str, items: list[OutboxItem]) -> None:
    now = deps.clock.now()
    for item in items:
        if item.kind == "reconcile":
            request = ReconcileRequest(
                customer_id=customer_id,
                reason=item.reason[:200],
                correlation_id=item.correlation_id,
                requested_at=now,
            )
            deps.reconcile_queue.publish(request, message_id=item.message_id)
            metric("collections.reconcile_published")
        else:
            assert item.notice_id is not None
            message = NoticeMessage(
                customer_id=customer_id, notice_id=item.notice_id, correlation_id=item.correlation_id
            )
            deps.notice_queue.publish(message, message_id=item.message_id)


def _clear(
    deps: CollectionsDeps, customer_id: str, stored: Stored[CollectionsRecord], sent: Collection[str]
) -> None:
    """Drop the sent items from the state row (under its ETag; re-read after a conflict)."""
    first = True

    def attempt() -> None:
        nonlocal first
        current = stored if first else deps.customers.get_record(customer_id)
        first = False
        if current is None:
            return
        record = current.value.model_copy(deep=True)
        record.outbox = [i for i in record.outbox if i.message_id not in sent]
        deps.customers.update_record(customer_id, record, current.etag)

    try:
        retry_on_conflict(attempt, what=f"customer {customer_id}'s outbox")
    except Contended:
        # The messages went out; only the clearing lost its races. A scan finds the items
        # after OUTBOX_GRACE and publishes them again: duplicates, which consumers drop.
        log.warning("outbox not cleared", extra={"customer_id": customer_id})
