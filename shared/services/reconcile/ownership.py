"""A person settles whose suspension it is, where the executor could not tell (state `undecided`):
`reactivate` makes it ours (the executor reactivates it once the customer has no hold), `leave`
makes it someone else's (never reactivated by this app). Audited; the add-ons that follow the
subscription are settled with it; then a reconcile is requested.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.audit import AuditEntry
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import SUBSCRIPTION_PREFIX, subscription_row
from shared.adapters.tables import check_key, decode
from shared.domain.customer import normalise_customer_id
from shared.domain.fraud import Text
from shared.domain.identity import Actor, ClaimedActor
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.domain.suspensions import OwnershipDecision, SuspensionRecord, SuspensionState
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.services.outcomes import Effect, Written
from shared.services.reconcile.common import ReconcileDeps


class Settlement(StrEnum):
    REACTIVATE = "reactivate"  # ours: reactivate it once the customer has no hold
    LEAVE = "leave"  # someone else's: leave it as it is


class OwnershipRequest(BaseModel):
    """Body of `POST /api/customers/{customer_id}/subscriptions/{subscription_id}/ownership`."""

    model_config = ConfigDict(extra="forbid")

    decision: Settlement
    note: Text = Field(min_length=1, max_length=2000)
    decided_by: ClaimedActor = Field(default=None, exclude=True)  # who decided is the signed-in caller


def settle_ownership(
    deps: ReconcileDeps,
    customer_id: str,
    subscription_id: str,
    request: OwnershipRequest,
    *,
    actor: Actor,
) -> Written[SuspensionRecord]:
    """Settle an undecided record; the same decision again changes nothing, another one is a
    Conflict, and a record that is not awaiting a decision is a Conflict naming its state."""
    customer_id = _customer(customer_id)
    subscription_id = _subscription(subscription_id)

    def attempt() -> Written[SuspensionRecord]:
        stored_rows = [
            decode(SuspensionRecord, e) for e in deps.table.partition(customer_id, SUBSCRIPTION_PREFIX)
        ]
        rows = {s.value.subscription_id.lower(): s for s in stored_rows}  # ids match in any case
        stored = rows.get(subscription_id)
        if stored is None:
            raise NotFound(f"no record of subscription {subscription_id} for customer {customer_id}")
        record = stored.value
        if record.state is not SuspensionState.UNDECIDED:
            if record.decision is not None and record.decision.outcome == request.decision.value:
                return Written(record, Effect.UNCHANGED)
            raise Conflict(
                f"subscription {subscription_id} is not awaiting a decision (state {record.state.value})"
            )
        now = deps.clock.now()
        decision = OwnershipDecision(
            outcome=request.decision.value,
            decided_by=actor.label,
            decided_by_id=actor.id,
            note=request.note,
            at=now,
        )
        state = (
            SuspensionState.SUSPENDED_BY_US
            if request.decision is Settlement.REACTIVATE
            else SuspensionState.RELEASED
        )
        followers = [
            s
            for s in rows.values()
            if (s.value.parent_subscription_id or "").lower() == subscription_id
            and s.value.state is SuspensionState.UNDECIDED
        ]
        tx = deps.table.transaction(customer_id)
        settled = record
        for item in [stored, *followers]:
            update: dict[str, object] = {"state": state, "decision": decision, "updated_at": now}
            if state is SuspensionState.RELEASED:
                update["released_reason"] = f"a person decided: {request.decision.value}"
            changed = item.value.model_copy(update=update)
            tx.update(changed, subscription_row(changed.subscription_id), item.etag)
            if item is stored:
                settled = changed
        entry = AuditEntry(
            at=now,
            actor=actor,
            action="ownership.settled",
            reason=request.note,
            correlation_id=f"ownership-{subscription_id}",
            details={
                "subscription_id": subscription_id,
                "decision": request.decision.value,
                "add_ons": [f.value.subscription_id for f in followers],
                "evidence": record.evidence.model_dump(mode="json") if record.evidence else None,
            },
        )
        deps.audit.stage(tx, deps.audit.read_head(customer_id), [entry])
        tx.submit()
        return Written(settled, Effect.UPDATED)

    written = retry_on_conflict(attempt, what=f"subscription {subscription_id}'s record")
    if written.effect is Effect.UPDATED:
        message = ReconcileRequest(
            customer_id=customer_id,
            reason=f"ownership settled: {request.decision.value}",
            correlation_id=f"ownership-{subscription_id}",
            requested_at=deps.clock.now(),
        )
        deps.publisher.publish(
            message, message_id=derived_message_id("ownership", customer_id, uuid.uuid4().hex)
        )
    return written


def _customer(value: str) -> str:
    try:
        return normalise_customer_id(value)
    except ValueError as exc:
        raise ValidationFailed(
            "customer_id must be a GUID", errors=[{"field": "customer_id", "message": str(exc)}]
        ) from None


def _subscription(value: str) -> str:
    text = value.strip().lower()
    try:
        check_key(subscription_row(text), "subscription id")
    except ValueError:
        text = ""
    if not text or len(text) > 100:
        raise ValidationFailed(
            "subscription_id is not a subscription id",
            errors=[{"field": "subscription_id", "message": "1 to 100 characters, no / \\ # ?"}],
        )
    return text
