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

from shared import clock
from shared.adapters.audit import AuditEntry
from shared.adapters.cases import StoredEvidence
from shared.adapters.layout import PROFILE_ROW, hold_row
from shared.adapters.tables import ConcurrencyConflict, Stored
from shared.domain.customer import StoredProfile
from shared.domain.fraud import (
    Case,
    CaseStatus,
    Resolution,
    Severity,
    Text,
    cancellation_recommendation,
    holds_lifted_by_dismissal,
    normalise_case_id,
)
from shared.domain.service_request import EscalationRequest, ServiceRequestDraft, TicketUpdate, build_draft
from shared.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from shared.services.fraud.intake import ACTOR, FraudService
from shared.telemetry import metric

log = logging.getLogger(__name__)

PC_OUTBOX_PARTITION = "_pcevents"
MAX_PAGE = 100
_ATTEMPTS = 8


class CaseView(Case):
    """A case as `GET /api/fraud-reports/{case_id}` shows it."""

    evidence: list[StoredEvidence]
    hold_active: bool
    escalation: ServiceRequestDraft | None = None


class CaseSummary(BaseModel):
    case_id: str
    customer_id: str
    customer_known: bool
    category: str
    severity: Severity
    status: str
    hit_count: int
    opened_at: datetime
    updated_at: datetime


class CaseList(BaseModel):
    status: str
    items: list[CaseSummary]
    continuation_token: str | None


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ResolutionRequest(BaseModel):
    """Body of `POST /api/fraud-reports/{case_id}/resolution`."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    note: Text = Field(min_length=1, max_length=2000)
    resolved_by: Text = Field(default="api", min_length=1, max_length=200)


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


class CaseDesk:
    """The use cases on existing cases, on top of the intake service's stores."""

    def __init__(self, fraud: FraudService) -> None:
        self.fraud = fraud
        self.cases = fraud.cases

    def _load(self, case_id: str) -> Stored[Case]:
        stored = self.cases.get(parse_case_id(case_id))
        if stored is None:
            raise NotFound(f"no fraud case {case_id!r}")
        return stored

    def view(self, case_id: str) -> CaseView:
        stored = self._load(case_id)
        case = stored.value
        escalation = self.cases.escalation(case.customer_id, case.case_id)
        return CaseView(
            **case.model_dump(),
            evidence=self.cases.evidence(case.customer_id, case.case_id),
            hold_active=self.fraud.hold_exists(case.customer_id, case.case_id),
            escalation=escalation.value if escalation else None,
        )

    def list(self, status: str, limit: int, continuation: str | None) -> CaseList:
        try:
            wanted = CaseStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in CaseStatus)
            raise BadRequest(f"status must be one of {allowed}") from None
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
        after = None
        if continuation is not None:
            try:
                after = normalise_case_id(continuation)
            except ValueError:
                raise BadRequest("continuation_token is not one this API returned") from None
        page = self.cases.list_by_status(wanted, limit, after)
        items = [CaseSummary(**case.model_dump(include=set(CaseSummary.model_fields))) for case in page.cases]
        return CaseList(status=wanted.value, items=items, continuation_token=page.continuation)

    # -- resolution --

    def resolve(self, case_id: str, request: ResolutionRequest) -> CaseView:
        for _ in range(_ATTEMPTS):
            stored = self._load(case_id)
            case = stored.value
            if not case.status.active:
                if case.resolution is None or case.resolution.outcome.value != request.outcome.value:
                    raise Conflict(f"case {case.case_id} is already {case.status.value}")
                if case.pc_event_ids:
                    self._queue_pc_update(case, "Fraud" if case.status is CaseStatus.CONFIRMED else "Ignore")
                self._resolution_effects(case, request, repeat=True)
                return self.view(case.case_id)
            at = clock.now()
            confirmed = request.outcome is Outcome.CONFIRMED
            resolution = Resolution(
                outcome=CaseStatus(request.outcome.value),
                note=request.note,
                resolved_by=request.resolved_by,
                resolved_at=at,
                recommendation=cancellation_recommendation(case) if confirmed else None,
            )
            after = case.model_copy(
                update={"status": resolution.outcome, "resolution": resolution, "updated_at": at}
            )
            try:
                self.cases.update(stored, after, close_pointer=True)
            except ConcurrencyConflict:
                continue
            if after.pc_event_ids:
                self._queue_pc_update(after, "Fraud" if confirmed else "Ignore")
            self._resolution_effects(after, request, repeat=False)
            metric("fraud.case_resolved", outcome=request.outcome.value)
            return self.view(after.case_id)
        raise ServiceUnavailable("the case kept changing; retry")

    def _resolution_effects(self, case: Case, request: ResolutionRequest, *, repeat: bool) -> None:
        correlation = f"fraud-{case.case_id}"
        at = clock.now()
        resolved = AuditEntry(
            at=at,
            actor=request.resolved_by,
            action=f"fraud.case_{request.outcome.value}" + ("_again" if repeat else ""),
            reason=request.note,
            correlation_id=correlation,
            details={
                "case_id": case.case_id,
                "recommendation": case.resolution.recommendation if case.resolution else None,
            },
        )
        if request.outcome is Outcome.CONFIRMED:
            self.fraud.audit.append(case.customer_id, [resolved])
            return
        if self._lift_hold(case, resolved):
            self.fraud.request_reconcile(case.customer_id, "fraud case dismissed", correlation, case.case_id)

    def _lift_hold(self, case: Case, resolved: AuditEntry) -> bool:
        """Delete the case's own hold (ETag-guarded) with the audit entries; True if lifted."""
        table, audit = self.fraud.customers, self.fraud.audit
        for _ in range(_ATTEMPTS):
            lift = holds_lifted_by_dismissal(case.case_id, self.fraud.customer_holds(case.customer_id))
            if not lift:
                audit.append(case.customer_id, [resolved])
                return False
            tx = table.transaction(case.customer_id)
            for hold in lift:
                raw = table.get_raw(case.customer_id, hold_row(hold.hold_id))
                if raw is None:
                    break
                tx.delete(hold_row(hold.hold_id), etag=str(raw.metadata.get("etag", "")))
            else:
                lifted = AuditEntry(
                    at=resolved.at,
                    actor=ACTOR,
                    action="hold.lifted",
                    reason=f"fraud case {case.case_id} dismissed",
                    correlation_id=resolved.correlation_id,
                    details={"hold_ids": [h.hold_id for h in lift], "case_id": case.case_id},
                )
                audit.stage(tx, audit.read_head(case.customer_id), [resolved, lifted])
                try:
                    tx.submit()
                except ConcurrencyConflict:
                    continue
                metric("fraud.hold_lifted")
                return True
        raise ServiceUnavailable("the customer's records kept changing; retry")

    def _queue_pc_update(self, case: Case, reason: str) -> None:
        row = PcStatusUpdate(
            customer_id=case.customer_id,
            case_id=case.case_id,
            event_refs=case.pc_event_ids,
            resolved_reason=reason,
        )
        self.cases.table.upsert(row, PC_OUTBOX_PARTITION, case.case_id)

    # -- escalation to 21Vianet --

    def escalate(self, case_id: str, request: EscalationRequest) -> ServiceRequestDraft:
        """Prepare (or re-prepare) the bilingual service-request draft and store it on the case."""
        for _ in range(_ATTEMPTS):
            stored = self._load(case_id)
            case = stored.value
            at = clock.now()
            profile = self.fraud.customers.get(StoredProfile, case.customer_id, PROFILE_ROW)
            evidence = self.cases.evidence(case.customer_id, case.case_id)
            draft = build_draft(
                case,
                list(evidence),
                customer_name=profile.value.name if profile else None,
                at=at,
                prepared_by=request.prepared_by,
            )
            existing = self.cases.escalation(case.customer_id, case.case_id)
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
            try:
                self.cases.update(
                    stored, after, escalation=draft, escalation_etag=existing.etag if existing else None
                )
            except ConcurrencyConflict:
                continue
            self.fraud.audit.append(
                case.customer_id,
                [
                    AuditEntry(
                        at=at,
                        actor=request.prepared_by,
                        action="fraud.escalation_drafted",
                        reason="service request for 21Vianet prepared (filed by a person in the portal)",
                        correlation_id=f"fraud-{case.case_id}",
                        details={"case_id": case.case_id, "severity": draft.severity.value},
                    )
                ],
            )
            return draft
        raise ServiceUnavailable("the case kept changing; retry")

    def record_ticket(self, case_id: str, update: TicketUpdate) -> ServiceRequestDraft:
        """Record the ticket number 21Vianet gave and its state."""
        for _ in range(_ATTEMPTS):
            stored = self._load(case_id)
            case = stored.value
            existing = self.cases.escalation(case.customer_id, case.case_id)
            if existing is None:
                raise Conflict("prepare the escalation first (POST .../escalation)")
            at = clock.now()
            draft = existing.value.model_copy(
                update={
                    "ticket_number": update.ticket_number,
                    "ticket_state": update.state,
                    "ticket_updated_at": at,
                    "ticket_note": update.note or None,
                }
            )
            after = case.model_copy(update={"updated_at": at})
            try:
                self.cases.update(stored, after, escalation=draft, escalation_etag=existing.etag)
            except ConcurrencyConflict:
                continue
            self.fraud.audit.append(
                case.customer_id,
                [
                    AuditEntry(
                        at=at,
                        actor=update.updated_by,
                        action="fraud.escalation_ticket",
                        reason=f"21Vianet ticket {update.ticket_number}: {update.state.value}",
                        correlation_id=f"fraud-{case.case_id}",
                        details={"case_id": case.case_id, "ticket_number": update.ticket_number},
                    )
                ],
            )
            return draft
        raise ServiceUnavailable("the case kept changing; retry")
