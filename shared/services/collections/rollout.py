"""The enforcement mode the app last saw, and what switching it does.

The partner partition keeps a row `mode` (the mode, since when, and an `epoch` that counts the
switches). Each collections scan compares it with `ENFORCEMENT_MODE` first (`observe_mode`): a
change is recorded under the row's ETag, so exactly one scan carries it out, and audited in the
partner audit (`collections.mode_switched`). In dry run every ledger change looks too, so its
shadow belongs to the current dry-run period (`epoch`).

Switching to enforce carries out at once what dry run left pending:
- every customer with a hold (manual or fraud holds placed while in dry run are real holds,
  listed and kept, but nothing was suspended at Partner Center) gets a reconcile message now,
  not at the next daily drift sweep;
- every customer whose review enforce must take over (an open overdue episode, real or
  would-be, or a `non_payment` hold) is due at once: the same scan reviews it under enforce,
  from its REAL state (the shadow is not copied: the first real warning comes before any hold).
Both lists come from cross-partition RowKey queries (`hold:` rows, `shadow` rows), as the
drift sweep does; the switch is a one-off, not a per-scan cost.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.layout import HOLD_PREFIX, MODE_ROW, PARTNER_PARTITION, SHADOW_ROW
from shared.adapters.tables import ConcurrencyConflict, prefix_range
from shared.domain.identity import Actor
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.services.collections.deps import CollectionsDeps
from shared.settings import EnforcementMode
from shared.telemetry import metric

log = logging.getLogger(__name__)
ACTOR = Actor.system("collections-scan")


class ModeRecord(BaseModel):
    """Row `mode` of the partner partition."""

    mode: EnforcementMode
    epoch: int
    since: datetime


def observe_mode(deps: CollectionsDeps, now: datetime) -> ModeRecord:
    """The recorded mode, brought in line with the setting (carrying out a switch once)."""
    table = deps.customers.table
    wanted = deps.settings.enforcement_mode
    for _ in range(5):
        stored = table.get(ModeRecord, PARTNER_PARTITION, MODE_ROW)
        if stored is not None and stored.value.mode is wanted:
            return stored.value
        epoch = stored.value.epoch + 1 if stored is not None else 1
        record = ModeRecord(mode=wanted, epoch=epoch, since=now)
        try:
            if stored is None:
                table.insert(record, PARTNER_PARTITION, MODE_ROW)
            else:
                table.update(record, PARTNER_PARTITION, MODE_ROW, stored.etag)
        except ConcurrencyConflict:
            continue  # another scan recorded it first: read again
        previous = stored.value.mode.value if stored is not None else "unrecorded"
        _switched(deps, previous, record, now)
        return record
    stored = table.get(ModeRecord, PARTNER_PARTITION, MODE_ROW)
    assert stored is not None
    return stored.value


def current_epoch(deps: CollectionsDeps) -> int:
    """The dry-run period a read should show (reads only): the recorded epoch, or the next one
    when the setting changed and no scan has recorded it yet."""
    stored = deps.customers.table.get(ModeRecord, PARTNER_PARTITION, MODE_ROW)
    if stored is None:
        return 1
    if stored.value.mode is deps.settings.enforcement_mode:
        return stored.value.epoch
    return stored.value.epoch + 1


def _switched(deps: CollectionsDeps, previous: str, record: ModeRecord, now: datetime) -> None:
    reconciled: list[str] = []
    brought_forward: list[str] = []
    if record.mode is EnforcementMode.ENFORCE:
        held = customers_with_holds(deps)
        for customer_id in held:
            request = ReconcileRequest(
                customer_id=customer_id,
                reason="enforcement switched on",
                correlation_id=f"mode-{record.epoch}",
                requested_at=now,
            )
            message_id = derived_message_id(customer_id, "mode", str(record.epoch))
            deps.reconcile_queue.publish(request, message_id=message_id)
            reconciled.append(customer_id)
        for customer_id in sorted(set(held) | set(_shadows_to_review(deps))):
            deps.schedule.put(customer_id, now)
            brought_forward.append(customer_id)
    reason = (
        f"enforcement mode {previous} -> {record.mode.value} (epoch {record.epoch}): "
        f"{len(reconciled)} customers with holds reconciled, {len(brought_forward)} reviews due now"
    )
    entry = AuditEntry(
        at=now,
        actor=ACTOR,
        action="collections.mode_switched",
        reason=reason,
        correlation_id=f"mode-{record.epoch}",
        details={
            "from": previous,
            "to": record.mode.value,
            "epoch": record.epoch,
            "reconciled": reconciled[:200],
            "reviews_due_now": len(brought_forward),
        },
    )
    AuditLog(deps.customers.table).append(PARTNER_PARTITION, [entry])
    metric("collections.mode_switched", to=record.mode.value)
    log.warning("enforcement mode switched", extra={"from": previous, "to": record.mode.value})


def customers_with_holds(deps: CollectionsDeps) -> list[str]:
    """Customers with at least one hold row (one cross-partition RowKey range query)."""
    low, high = prefix_range(HOLD_PREFIX)
    entities = deps.customers.table.query(
        "RowKey ge @low and RowKey lt @high", {"low": low, "high": high}, select=["PartitionKey"]
    )
    return sorted({str(e["PartitionKey"]) for e in entities} - {PARTNER_PARTITION})


def _shadows_to_review(deps: CollectionsDeps) -> list[str]:
    entities = deps.customers.table.query(
        "RowKey eq @shadow and review_on_switch eq @yes",
        {"shadow": SHADOW_ROW, "yes": True},
        select=["PartitionKey"],
    )
    return [str(e["PartitionKey"]) for e in entities]
