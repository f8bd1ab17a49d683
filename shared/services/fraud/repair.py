"""The hold repair: place the hold of every `investigating` case that decided one but has none
(an intake interrupted between its case write and its hold, with no retry and no later report).

Reads the status index of investigating cases only (never the whole table), with the same rails
as intake (dry run, protected customers). Run by the fraud events timer, which is always
registered.
"""

from __future__ import annotations

from shared.adapters.audit import AuditEntry
from shared.domain.fraud import CaseStatus
from shared.services.fraud.deps import FraudDeps
from shared.services.fraud.holds import ACTOR, hold_exists, place_fraud_hold, request_reconcile
from shared.services.fraud.intake import customer_facts, lift_if_dismissed_meanwhile
from shared.telemetry import metric


def repair_holds(deps: FraudDeps, page_size: int = 100) -> int:
    """Place the missing holds; returns how many it placed."""
    if deps.dry_run:
        return 0
    placed, after = 0, None
    while True:
        page = deps.cases.list_by_status(CaseStatus.INVESTIGATING, page_size, after)
        for case in page.cases:
            if not case.hold_decided or hold_exists(deps, case.customer_id, case.case_id):
                continue
            if customer_facts(deps, case.customer_id).protected:
                continue
            correlation = f"fraud-{case.case_id}"
            repaired = AuditEntry(
                at=deps.clock.now(),
                actor=ACTOR,
                action="fraud.hold_repaired",
                reason=f"case {case.case_id} decided a hold that was never placed (interrupted intake)",
                correlation_id=correlation,
                details={"case_id": case.case_id},
            )
            if place_fraud_hold(deps, case, [repaired], correlation=correlation):
                request_reconcile(
                    deps, case.customer_id, "fraud hold placed", correlation, case.case_id, "hold"
                )
                metric("fraud.hold_repaired", category=case.category.value)
                lift_if_dismissed_meanwhile(deps, case)
                placed += 1
        if page.continuation is None:
            return placed
        after = page.continuation
