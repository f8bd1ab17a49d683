"""Fraud report intake: idempotency, case (open or join), triage, hold, reconcile.

Order of writes, so that a crash anywhere leaves nothing dangerous behind:
1. the idempotency reservation (insert-first; nothing else happens for a duplicate);
2. the case, with the triage decision on it (one transaction in the case's partition);
3. the `fraud` hold with its audit entries (one transaction in the customer partition);
4. the reconcile message.
A crash after 2 leaves a case that says "hold" without the hold; the retry of the same request
(same Idempotency-Key: same report id, so it is not counted twice), the next report about the
case, or the hold repair (`repair.py`) places it. A hold never exists without its case, so it
can always be dismissed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from pydantic import BaseModel, Field

from shared.adapters.audit import AuditEntry
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.idempotency import ReservationOutcome, key_hash, request_hash
from shared.adapters.layout import PROFILE_ROW
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.customer import StoredProfile
from shared.domain.fraud import (
    Case,
    CaseStatus,
    FraudReport,
    Severity,
    TriageAction,
    TriageDecision,
    join_case,
    new_case_id,
    open_case,
    record_decision,
)
from shared.domain.identity import Actor
from shared.domain.policy import PolicyError
from shared.domain.triage import CustomerFacts, TriageConfig, triage
from shared.errors import BadRequest, Conflict
from shared.services.fraud.deps import FraudDeps
from shared.services.fraud.holds import (
    ACTOR,
    hold_exists,
    lift_case_holds,
    place_fraud_hold,
    request_reconcile,
)
from shared.telemetry import metric

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 200


class ReportAccepted(BaseModel):
    """The answer to an accepted report: the case, what triage decided, and what was done."""

    case_id: str
    report_id: str
    status: str
    severity: Severity
    hit_count: int
    joined_existing_case: bool
    customer_known: bool
    decision: TriageDecision
    actions: list[str]
    # A retry of a report the case already counted (not part of the answer).
    repeat: bool = Field(default=False, exclude=True)


@dataclass(frozen=True)
class Submitted:
    """The answer to a report as JSON text; `replayed`: the same request (same Idempotency-Key
    and body) was answered before, and this is that answer again."""

    answer: str
    replayed: bool = False


def submit(
    deps: FraudDeps,
    report: FraudReport,
    *,
    actor: Actor,
    idempotency_key: str | None,
    sender: str | None = None,
) -> Submitted:
    """Accept a validated report from `actor` (a signed-in person, or a machine whose signature
    as `sender` was checked), or replay the stored answer."""
    config = deps.triage()  # an invalid rules file refuses before any write
    at = deps.clock.now()
    if idempotency_key is None:
        accepted = intake(deps, report, new_case_id(at), actor=actor, config=config, sender=sender)
        return Submitted(accepted.model_dump_json())
    key = idempotency_key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters")
    # Keys are per caller: two senders may use the same key for different reports.
    scope = f"fraud-reports:{sender}" if sender else f"fraud-reports:{actor.kind.value}:{actor.id}"
    # The same key always names the same report, so a retry after a crash is not counted twice.
    report_id = "K" + key_hash(scope, key)[:25].upper()
    canonical = json.dumps(report.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    reservation = deps.idempotency.reserve(scope, key, request_hash(canonical.encode()), report_id, at)
    if reservation.outcome is ReservationOutcome.MISMATCH:
        raise Conflict("this Idempotency-Key was already used with a different request body")
    if reservation.outcome is ReservationOutcome.IN_PROGRESS:
        raise Conflict("a request with this Idempotency-Key is still being handled; retry shortly")
    if reservation.outcome is ReservationOutcome.REPLAY:
        return Submitted(reservation.record.response or "{}", replayed=True)
    try:
        accepted = intake(
            deps, report, reservation.record.report_id, actor=actor, config=config, sender=sender
        )
    except BaseException:
        deps.idempotency.release(reservation)
        raise
    answer = accepted.model_dump_json()
    deps.idempotency.complete(reservation, answer)
    return Submitted(answer)


def customer_facts(deps: FraudDeps, customer_id: str) -> CustomerFacts:
    """What triage may know: the ledger profile and the collections policy's protected list.

    If the policy cannot be read, the list is unknown, so every customer counts as protected
    (no automatic hold, an alert instead) until it is fixed: never hold a protected customer.
    """
    profile = deps.customers.get(StoredProfile, customer_id, PROFILE_ROW)
    facts = CustomerFacts(
        known=profile is not None,
        protected=bool(profile and profile.value.protected),
        protected_because="the customer is protected (profile)",
        customer_since=profile.value.customer_since if profile else None,
    )
    try:
        listed = deps.policy().is_protected(customer_id)
    except PolicyError:
        return facts.model_copy(
            update={"protected": True, "protected_because": "the protected list is unreadable (policy file)"}
        )
    if listed and not facts.protected:
        return facts.model_copy(
            update={"protected": True, "protected_because": "the customer is protected (policy list)"}
        )
    return facts


@dataclass(frozen=True)
class _Recorded:
    """The case after this report was added to it, and the decision taken on it."""

    case: Case
    decision: TriageDecision
    joined: bool
    repeat: bool  # the case already counted this report (a retry): only its effects are finished


def intake(
    deps: FraudDeps,
    report: FraudReport,
    report_id: str,
    *,
    actor: Actor,
    config: TriageConfig,
    pc_event_ids: list[str] | None = None,
    sender: str | None = None,
) -> ReportAccepted:
    """Open or join the case, decide, and carry the decision out."""
    facts = customer_facts(deps, report.customer_id)
    recorded = retry_on_conflict(
        lambda: _record_report(deps, report, report_id, facts, config, pc_event_ids),
        what=f"the fraud case of customer {report.customer_id}",
    )
    case, decision = recorded.case, recorded.decision
    actions = ["case_joined" if recorded.joined else "case_opened"]
    actions += _carry_out(
        deps,
        case,
        decision,
        report,
        report_id,
        actor=actor,
        sender=sender,
        repeat=recorded.repeat,
        protected=facts.protected,
    )
    metric("fraud.report_received", category=case.category.value, joined=recorded.joined)
    log.info(
        "fraud report accepted",
        extra={"case_id": case.case_id, "report_id": report_id, "action": decision.action.value},
    )
    return ReportAccepted(
        case_id=case.case_id,
        report_id=report_id,
        status=case.status.value,
        severity=case.severity,
        hit_count=case.hit_count,
        joined_existing_case=recorded.joined,
        customer_known=case.customer_known,
        decision=decision,
        actions=actions,
        repeat=recorded.repeat,
    )


def _record_report(
    deps: FraudDeps,
    report: FraudReport,
    report_id: str,
    facts: CustomerFacts,
    config: TriageConfig,
    pc_event_ids: list[str] | None,
) -> _Recorded:
    """One attempt: open the customer's case for the category, or join the open one.
    ConcurrencyConflict when another report got there first (the caller tries again)."""
    at = deps.clock.now()
    limits = deps.limits()
    pointer = deps.cases.open_case_for(report.customer_id, report.category)
    if pointer is None:
        case, kept = open_case(
            report, new_case_id(at), report_id, at, customer_known=facts.known, limits=limits
        )
        case = _with_events(case, pc_event_ids)
        decision = _decide(deps, case, facts, config, hold_in_place=False)
        case = record_decision(case, decision)
        deps.cases.create(case, kept, report_id)  # a conflict: another first report won, join it
        return _Recorded(case, decision, joined=False, repeat=False)
    stored = deps.cases.table.get(Case, report.customer_id, pointer.value.case_id)
    if stored is None or not stored.value.status.active:
        deps.cases.table.delete(pointer.partition_key, pointer.row_key, etag=pointer.etag)
        raise ConcurrencyConflict("the open-case pointer was stale: look again")
    if report_id in stored.value.report_ids:
        return _Recorded(stored.value, stored.value.decisions[-1], joined=True, repeat=True)
    merged, kept = join_case(stored.value, report, report_id, at, limits=limits)
    merged = _with_events(merged, pc_event_ids)
    in_place = hold_exists(deps, merged.customer_id, merged.case_id)
    decision = _decide(deps, merged, facts, config, hold_in_place=in_place)
    merged = record_decision(merged, decision)
    deps.cases.update(stored, merged, evidence=kept, report_id=report_id)
    return _Recorded(merged, decision, joined=True, repeat=False)


def _decide(
    deps: FraudDeps, case: Case, facts: CustomerFacts, config: TriageConfig, *, hold_in_place: bool
) -> TriageDecision:
    now = deps.clock.now()
    return triage(
        case, facts, config, at=now, today=now.date(), dry_run=deps.dry_run, hold_in_place=hold_in_place
    )


def _carry_out(
    deps: FraudDeps,
    case: Case,
    decision: TriageDecision,
    report: FraudReport,
    report_id: str,
    *,
    actor: Actor,
    sender: str | None,
    repeat: bool,
    protected: bool,
) -> list[str]:
    """Audit the report and the decision; place the hold and ask for a reconcile if decided.

    `protected` is checked here too: a hold decided earlier but never placed (a crash) is not
    placed once the customer is protected.
    """
    at = deps.clock.now()
    correlation = f"fraud-{case.case_id}"
    received = "fraud.report_received" if not repeat else "fraud.report_retried"
    entries = [
        AuditEntry(
            at=at,
            actor=actor,
            action=received,
            reason=f"{report.category.value} report ({report.severity.value}) from {report.source}",
            correlation_id=correlation,
            details={
                "case_id": case.case_id,
                "report_id": report_id,
                "hit_count": case.hit_count,
                "signed_by_sender": sender,
            },
        ),
        AuditEntry(
            at=at,
            actor=ACTOR,
            action="fraud.triage",
            reason=decision.explanation,
            correlation_id=correlation,
            policy_version=decision.triage_version,
            details={"case_id": case.case_id, "rule": decision.rule, "decision": decision.action.value},
        ),
    ]
    actions: list[str] = []
    if decision.action is TriageAction.ALERT:
        metric("fraud.protected_customer_alert", category=case.category.value)
        log.warning("fraud hold withheld: protected customer", extra={"case_id": case.case_id})
        actions.append("alert_protected_customer")
        entries.append(
            AuditEntry(
                at=at,
                actor=ACTOR,
                action="fraud.alert_protected_customer",
                reason=decision.explanation,
                correlation_id=correlation,
                policy_version=decision.triage_version,
                details={"case_id": case.case_id, "rule": decision.rule},
            )
        )
    elif decision.action is TriageAction.REVIEW:
        actions.append("review_queue")
    elif decision.action is TriageAction.HOLD and decision.dry_run:
        actions.append("would_place_fraud_hold")
    needs_hold = case.hold_decided and case.status.active and not deps.dry_run and not protected
    if needs_hold and place_fraud_hold(deps, case, entries, correlation=correlation):
        actions += ["fraud_hold_placed", "reconcile_requested"]
        request_reconcile(deps, case.customer_id, "fraud hold placed", correlation, case.case_id, "hold")
        metric("fraud.hold_placed", category=case.category.value)
        if lift_if_dismissed_meanwhile(deps, case):
            actions.append("fraud_hold_lifted_case_dismissed")
    else:
        deps.audit.append(case.customer_id, entries)
        if needs_hold:
            actions.append("fraud_hold_in_place")
    return actions


def lift_if_dismissed_meanwhile(deps: FraudDeps, case: Case) -> bool:
    """The case was dismissed while its hold was being placed: lift the hold again (True).

    The case and the hold live in two tables, so a dismissal can land between an intake's
    case write and its hold; the dismissal found no hold to lift. Re-reading the case after
    the hold is written closes that gap (whichever of the two runs last sees the other).
    """
    stored = deps.cases.table.get(Case, case.customer_id, case.case_id)
    if stored is None or stored.value.status is not CaseStatus.DISMISSED:
        return False
    correlation = f"fraud-{case.case_id}"
    lifted = AuditEntry(
        at=deps.clock.now(),
        actor=ACTOR,
        action="fraud.case_dismissed_hold_late",
        reason=f"fraud case {case.case_id} was dismissed while its hold was being placed",
        correlation_id=correlation,
        details={"case_id": case.case_id},
    )
    if not lift_case_holds(deps, stored.value, lifted):
        return False  # the dismissal itself lifted it after all
    request_reconcile(deps, case.customer_id, "fraud case dismissed", correlation, case.case_id)
    return True


def _with_events(case: Case, pc_event_ids: list[str] | None) -> Case:
    if not pc_event_ids:
        return case
    merged = list(dict.fromkeys([*case.pc_event_ids, *pc_event_ids]))[-100:]
    return case.model_copy(update={"pc_event_ids": merged})
