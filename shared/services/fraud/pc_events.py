"""Partner Center fraud events -> fraud cases (global cloud; off unless FRAUD_EVENTS_ENABLED).

Each run:
1. reads the active events (new events model, paged) and turns each into a report with source
   `partner_center`; the report id comes from the event id, so an event read twice (a run that
   died before step 2) is not counted twice;
2. opens or joins the case and applies triage, exactly like an HTTP report;
3. sets the event `Investigating` (so the next run does not read it again);
4. sends the outbox of resolved cases: `Resolved` with `Fraud` (confirmed) or `Ignore` (dismissed).
In dry run (ENFORCEMENT_MODE=dry_run) steps 3 and 4 make no call: dry run changes nothing at
Partner Center (the audit says what would have been sent; the outbox rows wait).
A failure on one event or one outbox row is logged and counted; the rest of the run goes on and
the row is retried next run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from shared.adapters.audit import AuditEntry
from shared.adapters.partner_center.client import PartnerCenterClient
from shared.adapters.partner_center.errors import PartnerCenterError
from shared.adapters.partner_center.fraud_events import (
    FraudEvent,
    FraudEventStatus,
    ResolvedReason,
    list_active_events,
    set_event_status,
)
from shared.adapters.tables import ConcurrencyConflict, decode
from shared.domain.fraud import Category, Evidence, FraudReport, Severity
from shared.domain.identity import Actor
from shared.errors import AppError
from shared.services.fraud.cases import PC_OUTBOX_PARTITION, PcStatusUpdate
from shared.services.fraud.deps import FraudDeps
from shared.services.fraud.intake import intake
from shared.telemetry import metric

log = logging.getLogger(__name__)

SOURCE = "partner_center"
ACTOR = Actor.system("partner-center-fraud-events")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

_CATEGORY_BY_TYPE = {
    "networkconnectionstocryptominingpools": Category.CRYPTO_MINING,
    "usageanomalydetection": Category.RESOURCE_ABUSE,
    "virtualmachinedeploymentanomaly": Category.RESOURCE_ABUSE,
    "multiregionvirtualmachinescalesetdeploymentanomaly": Category.RESOURCE_ABUSE,
    "multiregionmachinelearningusageanomaly": Category.RESOURCE_ABUSE,
    "servicehealthsecurityadvisory": Category.ACCOUNT_COMPROMISE,
}
_SEVERITY_BY_NAME = {s.value: s for s in Severity}
DRY_RUN_INVESTIGATING = "dry run: the event would be marked Investigating (no call made)"
# Dry run leaves events Active, so they are read again every run: a row per event handled in dry
# run (PartitionKey `_pcdryrun`, RowKey = report id) keeps them from being reported again.
DRY_RUN_SEEN_PARTITION = "_pcdryrun"


class DryRunSeen(BaseModel):
    case_id: str


@dataclass
class PollResult:
    enabled: bool
    events_read: int = 0
    cases_opened: int = 0
    cases_joined: int = 0
    events_skipped: int = 0
    statuses_sent: int = 0
    failures: list[str] = field(default_factory=list)


def event_ref(event: FraudEvent) -> str:
    """How a case remembers an event: `{subscription id}/{event id}` (the status call needs both)."""
    return f"{event.subscription_id}/{event.event_id}"


def report_from_event(event: FraudEvent) -> FraudReport | None:
    """The fraud report an event amounts to; None when it names no valid customer tenant."""
    if not _GUID.match(event.customer_tenant_id or ""):
        return None
    category = _CATEGORY_BY_TYPE.get((event.event_type or "").lower(), Category.OTHER)
    severity = _SEVERITY_BY_NAME.get((event.severity or "").lower(), Severity.MEDIUM)
    parts = (event.service_name, event.resource_group_name, event.resource_name)
    where = _clean("/".join(p for p in parts if p))
    first, last = _aware(event.first_occurrence), _aware(event.last_occurrence)
    window = ""
    if first and last:
        window = f", {first.isoformat()} to {last.isoformat()}"
    test = " [test event]" if event.is_test else ""
    description = _clean(
        f"Partner Center fraud event {event.event_type or 'unknown type'} on {where or 'a subscription'}"
        f" ({event.hit_count or 0} hits{window}; confidence {event.confidence_level or 'n/a'}){test}"
    )
    evidence = [Evidence(kind="pc_event", value=_clean(event.event_id)[:2000] or "?")]
    if where:
        evidence.append(Evidence(kind="resource", value=where[:2000]))
    subscriptions = [event.subscription_id.lower()] if _GUID.match(event.subscription_id or "") else []
    return FraudReport(
        customer_id=event.customer_tenant_id,
        subscription_ids=subscriptions,
        category=category,
        severity=severity,
        source=SOURCE,
        reporter="Partner Center",
        description=description[:4000],
        evidence=evidence,
        occurred_at=first or _aware(event.event_time),
    )


def _clean(text: str) -> str:
    """Partner Center text without control characters (a report's free text refuses them)."""
    return "".join(ch if ch >= " " and ch != "\x7f" else " " for ch in text)


def _aware(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC (a report's `occurred_at` needs an offset)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _report_id(event: FraudEvent) -> str:
    return "E" + hashlib.sha256(event.event_id.encode("utf-8")).hexdigest()[:25].upper()


def poll_fraud_events(fraud: FraudDeps, client: PartnerCenterClient) -> PollResult:
    """One run of the fraud events poll (see the module docstring)."""
    settings = fraud.settings
    if not settings.fraud_events_enabled:
        log.info("fraud events poll is off (FRAUD_EVENTS_ENABLED=false)")
        return PollResult(enabled=False)
    result = PollResult(enabled=True)
    config = fraud.triage()
    correlation = "fraud-events"
    try:
        for event in list_active_events(client, correlation_id=correlation):
            result.events_read += 1
            try:
                report = report_from_event(event)
                if report is None:
                    result.events_skipped += 1
                    log.warning(
                        "fraud event without a valid customer tenant", extra={"event_id": event.event_id}
                    )
                    continue
                report_id = _report_id(event)
                if fraud.dry_run and fraud.cases.table.get_raw(DRY_RUN_SEEN_PARTITION, report_id) is not None:
                    result.events_skipped += 1
                    continue
                accepted = intake(
                    fraud, report, report_id, actor=ACTOR, config=config, pc_event_ids=[event_ref(event)]
                )
                if accepted.joined_existing_case:
                    result.cases_joined += 1
                else:
                    result.cases_opened += 1
                if fraud.dry_run:
                    # Dry run changes nothing at Partner Center: the event stays Active and is
                    # read again next run, where its seen row skips it.
                    fraud.cases.table.upsert(
                        DryRunSeen(case_id=accepted.case_id), DRY_RUN_SEEN_PARTITION, report_id
                    )
                    if not accepted.repeat:
                        fraud.audit.append(
                            report.customer_id,
                            [
                                _pc_call_entry(
                                    fraud,
                                    accepted.case_id,
                                    DRY_RUN_INVESTIGATING,
                                    [event_ref(event)],
                                    action="partner_center.fraud_event_status_dry_run",
                                )
                            ],
                        )
                    continue
                set_event_status(
                    client,
                    event.subscription_id,
                    [event.event_id],
                    FraudEventStatus.INVESTIGATING,
                    correlation_id=f"fraud-{accepted.case_id}",
                )
                result.statuses_sent += 1
                fraud.audit.append(
                    report.customer_id,
                    [
                        _pc_call_entry(
                            fraud, accepted.case_id, "event marked Investigating", [event_ref(event)]
                        )
                    ],
                )
            except (PartnerCenterError, ConcurrencyConflict, ValidationError, AppError) as exc:
                result.failures.append(f"event {event.event_id}: {type(exc).__name__}")
                log.warning(
                    "fraud event not handled", extra={"event_id": event.event_id, "error": type(exc).__name__}
                )
    except PartnerCenterError as exc:
        # The listing itself failed (an app-only token, throttling past the retries): the run
        # still sends the outbox, and the events are read again next run.
        result.failures.append(f"listing events: {type(exc).__name__}")
        log.warning(
            "fraud events could not be listed", extra={"error": type(exc).__name__, "status": exc.status}
        )
    result.statuses_sent += _send_outbox(fraud, client, result)
    metric("fraud.events_read", result.events_read)
    if result.failures:
        metric("fraud.events_failures", len(result.failures))
    return result


def _send_outbox(fraud: FraudDeps, client: PartnerCenterClient, result: PollResult) -> int:
    """Mark the events of resolved cases `Resolved`; a row is deleted once all its calls succeed."""
    sent = 0
    if fraud.dry_run:
        return sent  # changes nothing at Partner Center; the rows wait for enforce mode
    table = fraud.cases.table
    for entity in table.partition(PC_OUTBOX_PARTITION):
        stored = decode(PcStatusUpdate, entity)
        row = stored.value
        by_subscription: dict[str, list[str]] = defaultdict(list)
        for ref in row.event_refs:
            subscription_id, _, event_id = ref.partition("/")
            if subscription_id and event_id:
                by_subscription[subscription_id].append(event_id)
        reason = ResolvedReason(row.resolved_reason)
        try:
            for subscription_id, event_ids in by_subscription.items():
                set_event_status(
                    client,
                    subscription_id,
                    event_ids,
                    FraudEventStatus.RESOLVED,
                    reason=reason,
                    correlation_id=f"fraud-{row.case_id}",
                )
                sent += 1
        except PartnerCenterError as exc:
            result.failures.append(f"case {row.case_id}: {type(exc).__name__}")
            continue
        try:
            table.delete(stored.partition_key, stored.row_key, etag=stored.etag)
        except ConcurrencyConflict:
            pass  # resolved again meanwhile: the new row is sent next run
        fraud.audit.append(
            row.customer_id,
            [
                _pc_call_entry(
                    fraud,
                    row.case_id,
                    f"events marked Resolved ({reason.value}) after the case was resolved",
                    row.event_refs,
                )
            ],
        )
    return sent


def _pc_call_entry(
    fraud: FraudDeps,
    case_id: str,
    reason: str,
    refs: list[str],
    *,
    action: str = "partner_center.fraud_event_status",
) -> AuditEntry:
    return AuditEntry(
        at=fraud.clock.now(),
        actor=ACTOR,
        action=action,
        reason=reason,
        correlation_id=f"fraud-{case_id}",
        details={"case_id": case_id, "event_refs": refs[:50]},
    )
