"""A fraud case's own `fraud` hold: place it, lift it, ask for a reconcile. Used by intake (a
report decides a hold), by the hold repair, and by cases (a dismissal lifts it).

A case's hold has the id `fraud_hold_id(case_id)`, so one case never lifts another's hold, and a
dismissal never lifts a non-payment or manual hold (`holds_lifted_by_dismissal`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from shared.adapters.audit import AuditEntry
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.customers import CustomerRepository
from shared.adapters.layout import HOLD_PREFIX, hold_row
from shared.adapters.tables import ConcurrencyConflict, Transaction, decode
from shared.domain.fraud import Case, holds_lifted_by_dismissal
from shared.domain.holds import Hold, HoldReason, fraud_hold_id
from shared.domain.identity import Actor
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.services.fraud.deps import FraudDeps
from shared.telemetry import metric

ACTOR = Actor.system("fraud-intake")


def hold_exists(deps: FraudDeps, customer_id: str, case_id: str) -> bool:
    return deps.customers.get_raw(customer_id, hold_row(fraud_hold_id(case_id))) is not None


def case_hold(deps: FraudDeps, customer_id: str, case_id: str) -> Hold | None:
    """The case's own hold, if it is in place."""
    stored = deps.customers.get(Hold, customer_id, hold_row(fraud_hold_id(case_id)))
    return stored.value if stored else None


def customer_holds(deps: FraudDeps, customer_id: str) -> list[Hold]:
    return [decode(Hold, row).value for row in deps.customers.partition(customer_id, HOLD_PREFIX)]


def place_fraud_hold(deps: FraudDeps, case: Case, entries: list[AuditEntry], *, correlation: str) -> bool:
    """The case's own `fraud` hold and its audit entries in one transaction; False if present."""
    hold = Hold(
        hold_id=fraud_hold_id(case.case_id),
        reason=HoldReason.FRAUD,
        placed_at=deps.clock.now(),
        placed_by=ACTOR.name,
        placed_by_id=ACTOR.id,
        note=f"suspend while investigating fraud case {case.case_id} ({case.category.value})",
        source_ref=case.case_id,
        correlation_id=correlation,
    )
    placed = AuditEntry(
        at=hold.placed_at,
        actor=ACTOR,
        action="hold.placed",
        reason=f"fraud: {case.decisions[-1].explanation}" if case.decisions else "fraud",
        correlation_id=correlation,
        policy_version=case.decisions[-1].triage_version if case.decisions else None,
        details={"hold_id": hold.hold_id, "reason": "fraud", "case_id": case.case_id},
    )

    def attempt() -> bool:
        if hold_exists(deps, case.customer_id, case.case_id):
            return False
        tx = deps.customers.transaction(case.customer_id)
        tx.create(hold, hold_row(hold.hold_id))
        deps.audit.stage(tx, deps.audit.read_head(case.customer_id), [*entries, placed])
        _submit_indexed(deps, case.customer_id, tx, add=hold)
        return True

    return retry_on_conflict(attempt, what=f"customer {case.customer_id}'s holds")


def lift_case_holds(deps: FraudDeps, case: Case, resolved: AuditEntry) -> bool:
    """Delete the case's own hold (ETag-guarded) with the audit entries in one transaction;
    True if lifted. Without a hold to lift, `resolved` is audited on its own."""

    def attempt() -> bool:
        lift = holds_lifted_by_dismissal(case.case_id, customer_holds(deps, case.customer_id))
        if not lift:
            deps.audit.append(case.customer_id, [resolved])
            return False
        tx = deps.customers.transaction(case.customer_id)
        for hold in lift:
            raw = deps.customers.get_raw(case.customer_id, hold_row(hold.hold_id))
            if raw is None:
                # Lifted since the listing (by a concurrent dismissal): list again.
                raise ConcurrencyConflict(f"hold {hold.hold_id} changed")
            tx.delete(hold_row(hold.hold_id), etag=str(raw.metadata.get("etag", "")))
        lifted = AuditEntry(
            at=resolved.at,
            actor=ACTOR,
            action="hold.lifted",
            reason=f"fraud case {case.case_id} dismissed",
            correlation_id=resolved.correlation_id,
            details={"hold_ids": [h.hold_id for h in lift], "case_id": case.case_id},
        )
        deps.audit.stage(tx, deps.audit.read_head(case.customer_id), [resolved, lifted])
        _submit_indexed(deps, case.customer_id, tx, remove={h.hold_id for h in lift})
        metric("fraud.hold_lifted")
        return True

    return retry_on_conflict(attempt, what=f"customer {case.customer_id}'s holds")


def _submit_indexed(
    deps: FraudDeps,
    customer_id: str,
    tx: Transaction,
    *,
    add: Hold | None = None,
    remove: set[str] | None = None,
) -> None:
    """Submit a hold change with the staff lists' index around it (written first, confirmed after)."""
    if deps.lists is None:
        tx.submit()
        return
    before = CustomerRepository(deps.customers).load(customer_id).rows()
    after = replace(before, holds=[h for h in before.holds if h.hold_id not in (remove or set())])
    if add is not None:
        after.holds = [*after.holds, add]
    intent = deps.lists.before_change(before, after)
    tx.submit()
    deps.lists.after_change(intent)


def request_reconcile(deps: FraudDeps, customer_id: str, reason: str, correlation: str, *parts: str) -> None:
    """Ask the executor to converge the customer (a fresh message each time: never dropped)."""
    message = ReconcileRequest(
        customer_id=customer_id,
        reason=reason,
        correlation_id=correlation,
        requested_at=deps.clock.now(),
    )
    message_id = derived_message_id("fraud", customer_id, *parts, uuid.uuid4().hex)
    deps.reconcile_queue.publish(message, message_id=message_id)
