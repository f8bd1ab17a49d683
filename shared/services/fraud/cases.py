"""Fraud cases after intake: read, list by status, resolve, and escalate to 21Vianet.

Resolving `dismissed` lifts the case's own `fraud` hold (never a non-payment, manual or another
case's hold) with its audit entry in one transaction, then asks for a reconcile: access comes
back only if no other hold remains. Resolving again with the same outcome re-applies its effects
(the repair after a crash between the case write and its effects: the hold, the audit entry and
the Partner Center outbox row), audited as `fraud.case_{outcome}_again`; with another outcome it
is a conflict.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.audit import AuditEntry
from shared.adapters.cases import StoredEvidence
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import PROFILE_ROW
from shared.adapters.tables import Stored
from shared.domain.customer import StoredProfile
from shared.domain.enforcement import (
    ENFORCEMENT_ROW,
    EnforcementSnapshot,
    HoldEnforcement,
    SubscriptionEnforcement,
    hold_enforcement,
)
from shared.domain.fraud import (
    Case,
    CaseStatus,
    Resolution,
    Text,
    cancellation_recommendation,
    normalise_case_id,
)
from shared.domain.identity import Actor, ClaimedActor
from shared.domain.service_request import (
    EscalationRequest,
    ServiceRequestDraft,
    TicketUpdate,
    build_draft,
    following_case,
)
from shared.errors import Conflict, NotFound
from shared.services.fraud.deps import FraudDeps
from shared.services.fraud.holds import case_hold, lift_case_holds, request_reconcile
from shared.telemetry import metric

log = logging.getLogger(__name__)

PC_OUTBOX_PARTITION = "_pcevents"


class CaseEnforcement(BaseModel):
    """What Partner Center last confirmed of the case's hold, per subscription of the customer."""

    status: HoldEnforcement
    hold_placed: bool
    checked_at: datetime | None = None
    subscriptions: list[SubscriptionEnforcement] = Field(default_factory=list)
    detail: str = ""


class CaseView(Case):
    """A case as `GET /api/fraud-reports/{case_id}` shows it. `hold_active` is true only when
    Partner Center confirmed, after the case's hold was placed, every subscription suspended."""

    evidence: list[StoredEvidence]
    hold_active: bool
    enforcement: CaseEnforcement
    escalation: ServiceRequestDraft | None = None


class ResolutionOutcome(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ResolutionRequest(BaseModel):
    """Body of `POST /api/fraud-reports/{case_id}/resolution`."""

    model_config = ConfigDict(extra="forbid")

    outcome: ResolutionOutcome
    note: Text = Field(min_length=1, max_length=2000)
    resolved_by: ClaimedActor = Field(default=None, exclude=True)


class PcStatusUpdate(BaseModel):
    """Outbox row: Partner Center fraud events to mark resolved (done by the events timer)."""

    customer_id: str
    case_id: str
    event_refs: list[str]
    resolved_reason: str


def parse_case_id(value: str) -> str:
    try:
        return normalise_case_id(value)
    except ValueError as exc:
        raise NotFound(f"no fraud case {value[:40]!r}: {exc}") from None


def load_case(deps: FraudDeps, case_id: str) -> Stored[Case]:
    stored = deps.cases.get(parse_case_id(case_id))
    if stored is None:
        raise NotFound(f"no fraud case {case_id!r}")
    return stored


def view_case(deps: FraudDeps, case_id: str) -> CaseView:
    """The case with its evidence, its hold as Partner Center last confirmed it, and its
    escalation draft (its ticket state following the case)."""
    case = load_case(deps, case_id).value
    escalation = deps.cases.escalation(case.customer_id, case.case_id)
    enforcement = case_enforcement(deps, case)
    return CaseView(
        **case.model_dump(),
        evidence=deps.cases.evidence(case.customer_id, case.case_id),
        hold_active=enforcement.status is HoldEnforcement.ENFORCED,
        enforcement=enforcement,
        escalation=following_case(escalation.value, case) if escalation else None,
    )


def case_enforcement(deps: FraudDeps, case: Case) -> CaseEnforcement:
    """The case's hold against the customer's enforcement snapshot (written by the executor)."""
    hold = case_hold(deps, case.customer_id, case.case_id)
    stored = deps.customers.get(EnforcementSnapshot, case.customer_id, ENFORCEMENT_ROW)
    snapshot = stored.value if stored else None
    status = hold_enforcement(snapshot, hold.placed_at if hold else None)
    detail = {
        HoldEnforcement.CUSTOMER_UNKNOWN: (
            "Partner Center does not know this customer tenant: nothing can be suspended"
        ),
        HoldEnforcement.PENDING: "waiting for Partner Center to confirm the suspensions",
    }.get(status, snapshot.detail if snapshot else "")
    return CaseEnforcement(
        status=status,
        hold_placed=hold is not None,
        checked_at=snapshot.checked_at if snapshot else None,
        subscriptions=snapshot.subscriptions if snapshot else [],
        detail=detail,
    )


# -- resolution --


def resolve_case(deps: FraudDeps, case_id: str, request: ResolutionRequest, *, actor: Actor) -> CaseView:
    """Confirm (the hold stays, cancellation recommended) or dismiss (the case's own hold is
    lifted). The same outcome again re-applies the effects; another outcome is a Conflict."""

    def attempt() -> str:
        stored = load_case(deps, case_id)
        case = stored.value
        if not case.status.active:
            if case.resolution is None or case.resolution.outcome.value != request.outcome.value:
                raise Conflict(f"case {case.case_id} is already {case.status.value}")
            if case.pc_event_ids:
                _queue_pc_update(deps, case, "Fraud" if case.status is CaseStatus.CONFIRMED else "Ignore")
            _resolution_effects(deps, case, request, actor, repeat=True)
            return case.case_id
        at = deps.clock.now()
        confirmed = request.outcome is ResolutionOutcome.CONFIRMED
        resolution = Resolution(
            outcome=CaseStatus(request.outcome.value),
            note=request.note,
            resolved_by=actor.label,
            resolved_by_id=actor.id,
            resolved_at=at,
            recommendation=cancellation_recommendation(case) if confirmed else None,
        )
        after = case.model_copy(
            update={"status": resolution.outcome, "resolution": resolution, "updated_at": at}
        )
        deps.cases.update(stored, after, close_pointer=True)
        if after.pc_event_ids:
            _queue_pc_update(deps, after, "Fraud" if confirmed else "Ignore")
        _resolution_effects(deps, after, request, actor, repeat=False)
        metric("fraud.case_resolved", outcome=request.outcome.value)
        return after.case_id

    return view_case(deps, retry_on_conflict(attempt, what=f"fraud case {case_id}"))


def _resolution_effects(
    deps: FraudDeps, case: Case, request: ResolutionRequest, actor: Actor, *, repeat: bool
) -> None:
    correlation = f"fraud-{case.case_id}"
    resolved = AuditEntry(
        at=deps.clock.now(),
        actor=actor,
        action=f"fraud.case_{request.outcome.value}" + ("_again" if repeat else ""),
        reason=request.note,
        correlation_id=correlation,
        details={
            "case_id": case.case_id,
            "recommendation": case.resolution.recommendation if case.resolution else None,
        },
    )
    if request.outcome is ResolutionOutcome.CONFIRMED:
        deps.audit.append(case.customer_id, [resolved])
        return
    if lift_case_holds(deps, case, resolved):
        request_reconcile(deps, case.customer_id, "fraud case dismissed", correlation, case.case_id)


def _queue_pc_update(deps: FraudDeps, case: Case, reason: str) -> None:
    row = PcStatusUpdate(
        customer_id=case.customer_id,
        case_id=case.case_id,
        event_refs=case.pc_event_ids,
        resolved_reason=reason,
    )
    deps.cases.table.upsert(row, PC_OUTBOX_PARTITION, case.case_id)


# -- escalation to 21Vianet --


def escalate_case(
    deps: FraudDeps, case_id: str, request: EscalationRequest, *, actor: Actor
) -> ServiceRequestDraft:
    """Prepare (or re-prepare) the bilingual service-request draft and store it on the case."""

    def attempt() -> tuple[Case, ServiceRequestDraft]:
        stored = load_case(deps, case_id)
        case = stored.value
        at = deps.clock.now()
        profile = deps.customers.get(StoredProfile, case.customer_id, PROFILE_ROW)
        evidence = deps.cases.evidence(case.customer_id, case.case_id)
        draft = build_draft(
            case,
            list(evidence),
            customer_name=profile.value.name if profile else None,
            at=at,
            prepared_by=actor.label,
            time_zone=_partner_time_zone(deps),
        ).model_copy(update={"prepared_by_id": actor.id})
        existing = deps.cases.escalation(case.customer_id, case.case_id)
        if existing is not None and existing.value.ticket_number:
            old = existing.value
            draft = draft.model_copy(
                update={
                    "ticket_number": old.ticket_number,
                    "ticket_state": old.ticket_state,
                    "ticket_updated_at": old.ticket_updated_at,
                    "ticket_note": old.ticket_note,
                }
            )
        status = CaseStatus.INVESTIGATING if case.status is CaseStatus.OPEN else case.status
        after = case.model_copy(update={"escalated": True, "status": status, "updated_at": at})
        deps.cases.update(
            stored, after, escalation=draft, escalation_etag=existing.etag if existing else None
        )
        return case, draft

    case, draft = retry_on_conflict(attempt, what=f"fraud case {case_id}")
    draft = following_case(draft, case)
    deps.audit.append(
        case.customer_id,
        [
            AuditEntry(
                at=draft.prepared_at,
                actor=actor,
                action="fraud.escalation_drafted",
                reason="service request for 21Vianet prepared (filed by a person in the portal)",
                correlation_id=f"fraud-{case.case_id}",
                details={"case_id": case.case_id, "severity": draft.severity.value},
            )
        ],
    )
    return draft


def _partner_time_zone(deps: FraudDeps) -> str:
    """The partner's time zone (the collections policy's); Beijing time if it cannot be read."""
    try:
        return deps.policy().time_zone
    except Exception:  # noqa: BLE001 - an unreadable policy must not stop an escalation
        return "Asia/Shanghai"


def record_ticket(
    deps: FraudDeps, case_id: str, update: TicketUpdate, *, actor: Actor
) -> ServiceRequestDraft:
    """Record the ticket number 21Vianet gave and its state."""

    def attempt() -> tuple[Case, ServiceRequestDraft]:
        stored = load_case(deps, case_id)
        case = stored.value
        existing = deps.cases.escalation(case.customer_id, case.case_id)
        if existing is None:
            raise Conflict("prepare the escalation first (POST .../escalation)")
        at = deps.clock.now()
        draft = existing.value.model_copy(
            update={
                "ticket_number": update.ticket_number,
                "ticket_state": update.state,
                "ticket_updated_at": at,
                "ticket_note": update.note or None,
                "ticket_updated_by": actor.label,
            }
        )
        after = case.model_copy(update={"updated_at": at})
        deps.cases.update(stored, after, escalation=draft, escalation_etag=existing.etag)
        return case, draft

    case, draft = retry_on_conflict(attempt, what=f"fraud case {case_id}")
    draft = following_case(draft, case)
    deps.audit.append(
        case.customer_id,
        [
            AuditEntry(
                at=draft.ticket_updated_at or deps.clock.now(),
                actor=actor,
                action="fraud.escalation_ticket",
                reason=f"21Vianet ticket {update.ticket_number}: {update.state.value}",
                correlation_id=f"fraud-{case.case_id}",
                details={"case_id": case.case_id, "ticket_number": update.ticket_number},
            )
        ],
    )
    return draft
