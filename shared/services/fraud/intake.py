"""Fraud report intake: signature, idempotency, case (open or join), triage, hold, reconcile.

Order of writes, so that a crash anywhere leaves nothing dangerous behind:
1. the idempotency reservation (insert-first; nothing else happens for a duplicate);
2. the case, with the triage decision on it (one transaction in the case's partition);
3. the `fraud` hold with its audit entries (one transaction in the customer partition);
4. the reconcile message.
A crash after 2 leaves a case that says "hold" without the hold; the retry of the same request
(same Idempotency-Key: same report id, so it is not counted twice) or the next report about the
case places it. A hold never exists without its case, so it can always be dismissed.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, Field

from shared import clock, runtime
from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.cases import CaseStore
from shared.adapters.idempotency import IdempotencyStore, Outcome, key_hash, request_hash
from shared.adapters.layout import (
    CASES_TABLE,
    CUSTOMERS_TABLE,
    HOLD_PREFIX,
    IDEMPOTENCY_TABLE,
    PROFILE_ROW,
    hold_row,
)
from shared.adapters.tables import ConcurrencyConflict, TableStore, decode
from shared.domain.customer import StoredProfile
from shared.domain.fraud import (
    Case,
    CaseStatus,
    FraudReport,
    MergeLimits,
    Severity,
    TriageAction,
    TriageDecision,
    join_case,
    new_case_id,
    open_case,
    record_decision,
)
from shared.domain.holds import Hold, HoldReason, fraud_hold_id
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.domain.policy import PolicyError
from shared.domain.triage import CustomerFacts, TriageConfig, triage
from shared.errors import BadRequest, Conflict, ServiceUnavailable
from shared.services.fraud.config import current_policy, current_triage
from shared.settings import AppSettings, EnforcementMode, get_settings
from shared.telemetry import metric

log = logging.getLogger(__name__)

ACTOR = "fraud-intake"
MAX_IDEMPOTENCY_KEY = 200
_WRITE_ATTEMPTS = 8


# --- intake ------------------------------------------------------------------------------------


class ReportAccepted(BaseModel):
    """The 202 answer: the case, what triage decided, and what was done."""

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
class HttpAnswer:
    status: int
    body: str
    replayed: bool = False


class FraudService:
    """The fraud use cases over one storage account and the reconcile queue."""

    def __init__(self, store: TableStore, settings: AppSettings) -> None:
        self.settings = settings
        self.customers = store.table(CUSTOMERS_TABLE)
        self.audit = AuditLog(self.customers)
        self.cases = CaseStore(store.table(CASES_TABLE))
        self.idempotency = IdempotencyStore(store.table(IDEMPOTENCY_TABLE))

    @classmethod
    def from_runtime(cls) -> FraudService:
        return cls(runtime.table_store(), get_settings())

    @property
    def dry_run(self) -> bool:
        return self.settings.enforcement_mode is EnforcementMode.DRY_RUN

    def limits(self) -> MergeLimits:
        return MergeLimits(
            escalate_after_reports=self.settings.fraud_escalate_after_reports,
            escalate_window=timedelta(hours=self.settings.fraud_escalate_window_hours),
        )

    # -- POST /api/fraud-reports --

    def submit(self, report: FraudReport, *, idempotency_key: str | None, sender: str | None) -> HttpAnswer:
        """Accept a validated report (signature already checked): 202, or the replayed answer."""
        config = current_triage(self.settings)  # an invalid rules file refuses before any write
        at = clock.now()
        if idempotency_key is None:
            accepted = self.intake(report, new_case_id(at), actor=sender or ACTOR, config=config)
            return HttpAnswer(202, accepted.model_dump_json())
        key = idempotency_key.strip()
        if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
            raise BadRequest(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters")
        scope = f"fraud-reports:{sender or ''}"
        # The same key always names the same report, so a retry after a crash is not counted twice.
        report_id = "K" + key_hash(scope, key)[:25].upper()
        canonical = json.dumps(report.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        body_hash = request_hash(canonical.encode())
        try:
            reservation = self.idempotency.reserve(scope, key, body_hash, report_id, at)
        except ConcurrencyConflict:
            raise ServiceUnavailable("this Idempotency-Key's record kept changing; retry shortly") from None
        if reservation.outcome is Outcome.MISMATCH:
            raise Conflict("this Idempotency-Key was already used with a different request body")
        if reservation.outcome is Outcome.IN_PROGRESS:
            raise Conflict("a request with this Idempotency-Key is still being handled; retry shortly")
        if reservation.outcome is Outcome.REPLAY:
            record = reservation.record
            return HttpAnswer(record.status or 202, record.response or "{}", replayed=True)
        try:
            accepted = self.intake(report, reservation.record.report_id, actor=sender or ACTOR, config=config)
        except BaseException:
            self.idempotency.release(reservation)
            raise
        body = accepted.model_dump_json()
        self.idempotency.complete(reservation, 202, body)
        return HttpAnswer(202, body)

    def facts(self, customer_id: str) -> CustomerFacts:
        """What triage may know: the ledger profile and the collections policy's protected list.

        If the policy cannot be read, the list is unknown, so every customer counts as protected
        (no automatic hold, an alert instead) until it is fixed: never hold a protected customer.
        """
        profile = self.customers.get(StoredProfile, customer_id, PROFILE_ROW)
        facts = CustomerFacts(
            known=profile is not None,
            protected=bool(profile and profile.value.protected),
            protected_because="the customer is protected (profile)",
            customer_since=profile.value.customer_since if profile else None,
        )
        try:
            listed = current_policy(self.settings).is_protected(customer_id)
        except PolicyError:
            return facts.model_copy(
                update={
                    "protected": True,
                    "protected_because": "the protected list is unreadable (policy file)",
                }
            )
        if listed and not facts.protected:
            return facts.model_copy(
                update={"protected": True, "protected_because": "the customer is protected (policy list)"}
            )
        return facts

    def hold_exists(self, customer_id: str, case_id: str) -> bool:
        return self.customers.get_raw(customer_id, hold_row(fraud_hold_id(case_id))) is not None

    def intake(
        self,
        report: FraudReport,
        report_id: str,
        *,
        actor: str,
        config: TriageConfig,
        pc_event_ids: list[str] | None = None,
    ) -> ReportAccepted:
        """Open or join the case, decide, and carry the decision out."""
        facts = self.facts(report.customer_id)
        limits = self.limits()
        for _ in range(_WRITE_ATTEMPTS):
            at = clock.now()
            pointer = self.cases.open_case_for(report.customer_id, report.category)
            if pointer is None:
                case, kept = open_case(
                    report, new_case_id(at), report_id, at, customer_known=facts.known, limits=limits
                )
                case = _with_events(case, pc_event_ids)
                decision = self._decide(case, facts, config, hold_in_place=False)
                case = record_decision(case, decision)
                try:
                    self.cases.create(case, kept, report_id)
                except ConcurrencyConflict:
                    continue  # another first report won: join its case
                joined, repeat = False, False
                break
            stored = self.cases.table.get(Case, report.customer_id, pointer.value.case_id)
            if stored is None or not stored.value.status.active:
                self.cases.table.delete(pointer.partition_key, pointer.row_key, etag=pointer.etag)
                continue
            if report_id in stored.value.report_ids:
                # A retry of a report this case already counts: only finish its effects.
                case, decision, joined, repeat = stored.value, stored.value.decisions[-1], True, True
                break
            merged, kept = join_case(stored.value, report, report_id, at, limits=limits)
            merged = _with_events(merged, pc_event_ids)
            in_place = self.hold_exists(merged.customer_id, merged.case_id)
            decision = self._decide(merged, facts, config, hold_in_place=in_place)
            merged = record_decision(merged, decision)
            try:
                self.cases.update(stored, merged, evidence=kept, report_id=report_id)
            except ConcurrencyConflict:
                continue
            case, joined, repeat = merged, True, False
            break
        else:
            raise ServiceUnavailable("the case kept changing while this report was added; retry")
        actions = ["case_joined" if joined else "case_opened"]
        actions += self._carry_out(
            case, decision, report, report_id, actor=actor, repeat=repeat, protected=facts.protected
        )
        metric("fraud.report_received", category=case.category.value, joined=joined)
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
            joined_existing_case=joined,
            customer_known=case.customer_known,
            decision=decision,
            actions=actions,
            repeat=repeat,
        )

    def _decide(
        self, case: Case, facts: CustomerFacts, config: TriageConfig, *, hold_in_place: bool
    ) -> TriageDecision:
        now = clock.now()
        return triage(
            case,
            facts,
            config,
            at=now,
            today=now.date(),
            dry_run=self.dry_run,
            hold_in_place=hold_in_place,
        )

    def _carry_out(
        self,
        case: Case,
        decision: TriageDecision,
        report: FraudReport,
        report_id: str,
        *,
        actor: str,
        repeat: bool,
        protected: bool,
    ) -> list[str]:
        """Audit the report and the decision; place the hold and ask for a reconcile if decided.

        `protected` is checked here too: a hold decided earlier but never placed (a crash) is not
        placed once the customer is protected.
        """
        at = clock.now()
        correlation = f"fraud-{case.case_id}"
        entries = [
            AuditEntry(
                at=at,
                actor=actor,
                action="fraud.report_received" if not repeat else "fraud.report_retried",
                reason=f"{report.category.value} report ({report.severity.value}) from {report.source}",
                correlation_id=correlation,
                details={"case_id": case.case_id, "report_id": report_id, "hit_count": case.hit_count},
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
        needs_hold = case.hold_decided and case.status.active and not self.dry_run and not protected
        if needs_hold and self.place_hold(case, entries, correlation=correlation):
            actions += ["fraud_hold_placed", "reconcile_requested"]
            self.request_reconcile(case.customer_id, "fraud hold placed", correlation, case.case_id, "hold")
            metric("fraud.hold_placed", category=case.category.value)
            if self._dismissed_meanwhile(case):
                actions.append("fraud_hold_lifted_case_dismissed")
        else:
            self.audit.append(case.customer_id, entries)
            if needs_hold:
                actions.append("fraud_hold_in_place")
        return actions

    def place_hold(self, case: Case, entries: list[AuditEntry], *, correlation: str) -> bool:
        """The case's own `fraud` hold and its audit entries in one transaction; False if present."""
        hold = Hold(
            hold_id=fraud_hold_id(case.case_id),
            reason=HoldReason.FRAUD,
            placed_at=clock.now(),
            placed_by=ACTOR,
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
        for _ in range(_WRITE_ATTEMPTS):
            if self.hold_exists(case.customer_id, case.case_id):
                return False
            tx = self.customers.transaction(case.customer_id)
            tx.create(hold, hold_row(hold.hold_id))
            self.audit.stage(tx, self.audit.read_head(case.customer_id), [*entries, placed])
            try:
                tx.submit()
                return True
            except ConcurrencyConflict:
                continue
        raise ServiceUnavailable("the customer's records kept changing; retry")

    def _dismissed_meanwhile(self, case: Case) -> bool:
        """The case was dismissed while its hold was being placed: lift the hold again (True).

        The case and the hold live in two tables, so a dismissal can land between this intake's
        case write and its hold; the dismissal found no hold to lift. Re-reading the case after
        the hold is written closes that gap (whichever of the two runs last sees the other).
        """
        stored = self.cases.table.get(Case, case.customer_id, case.case_id)
        if stored is None or stored.value.status is not CaseStatus.DISMISSED:
            return False
        from shared.services.fraud.cases import CaseDesk  # (it imports this module)

        lifted = AuditEntry(
            at=clock.now(),
            actor=ACTOR,
            action="fraud.case_dismissed_hold_late",
            reason=f"fraud case {case.case_id} was dismissed while its hold was being placed",
            correlation_id=f"fraud-{case.case_id}",
            details={"case_id": case.case_id},
        )
        if not CaseDesk(self)._lift_hold(stored.value, lifted):
            return False  # the dismissal itself lifted it after all
        correlation = f"fraud-{case.case_id}"
        self.request_reconcile(case.customer_id, "fraud case dismissed", correlation, case.case_id)
        return True

    def repair_holds(self, page_size: int = 100) -> int:
        """Place the hold of every `investigating` case that decided one but has none: a crash
        between the case write and the hold, with no retry and no later report to place it.

        Reads the status index of investigating cases only (never the whole table); the same
        rails as intake (dry run, protected customers). Run by the fraud events timer, which is
        always registered. Returns how many holds it placed.
        """
        if self.dry_run:
            return 0
        placed, after = 0, None
        while True:
            page = self.cases.list_by_status(CaseStatus.INVESTIGATING, page_size, after)
            for case in page.cases:
                if not case.hold_decided or self.hold_exists(case.customer_id, case.case_id):
                    continue
                if self.facts(case.customer_id).protected:
                    continue
                correlation = f"fraud-{case.case_id}"
                repaired = AuditEntry(
                    at=clock.now(),
                    actor=ACTOR,
                    action="fraud.hold_repaired",
                    reason=f"case {case.case_id} decided a hold that was never placed (interrupted intake)",
                    correlation_id=correlation,
                    details={"case_id": case.case_id},
                )
                if self.place_hold(case, [repaired], correlation=correlation):
                    self.request_reconcile(
                        case.customer_id, "fraud hold placed", correlation, case.case_id, "hold"
                    )
                    metric("fraud.hold_repaired", category=case.category.value)
                    self._dismissed_meanwhile(case)
                    placed += 1
            if page.continuation is None:
                return placed
            after = page.continuation

    def customer_holds(self, customer_id: str) -> list[Hold]:
        return [decode(Hold, row).value for row in self.customers.partition(customer_id, HOLD_PREFIX)]

    def request_reconcile(self, customer_id: str, reason: str, correlation: str, *parts: str) -> None:
        message = ReconcileRequest(
            customer_id=customer_id,
            reason=reason,
            correlation_id=correlation,
            requested_at=clock.now(),
        )
        message_id = derived_message_id("fraud", customer_id, *parts, uuid.uuid4().hex)
        runtime.publisher(self.settings.reconcile_queue_name).publish(message, message_id=message_id)


def _with_events(case: Case, pc_event_ids: list[str] | None) -> Case:
    if not pc_event_ids:
        return case
    merged = list(dict.fromkeys([*case.pc_event_ids, *pc_event_ids]))[-100:]
    return case.model_copy(update={"pc_event_ids": merged})
