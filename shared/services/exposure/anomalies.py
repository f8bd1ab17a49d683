"""A usage anomaly as a fraud report: source `usage_anomaly`, the evidence it rests on (rule,
day, amounts, the baseline, meters, offers, seats), triaged by the same rules as every report
(`policy/triage.toml`): a critical anomaly can suspend while the partner investigates.

The report id derives from the customer and the anomaly's key, so the same anomaly reported
again (a run that crashed before remembering it) is counted once by its case."""

from __future__ import annotations

import hashlib
import re

from shared.domain.anomaly import Anomaly
from shared.domain.fraud import Category, Evidence, FraudReport, Severity
from shared.domain.identity import Actor
from shared.services.fraud.deps import FraudDeps
from shared.services.fraud.intake import ReportAccepted, intake
from shared.telemetry import metric

SOURCE = "usage_anomaly"
REPORTER = "Collections Guard exposure refresh"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def report_id_for(customer_id: str, anomaly: Anomaly) -> str:
    digest = hashlib.sha256(f"{customer_id}|{anomaly.key}".encode()).hexdigest()[:25].upper()
    return "U" + digest


def describe(anomaly: Anomaly) -> str:
    """The case's description of one anomaly (English; the evidence carries the figures)."""
    if anomaly.rule == "seat_jump":
        return (
            f"Seats jumped on subscription {anomaly.subscription_id} on {anomaly.day.isoformat()}: "
            f"{anomaly.seats_before} to {anomaly.seats_after} "
            f"({', '.join(anomaly.offers) or 'offer unknown'})"
        )
    amount = f"{anomaly.amount} {anomaly.currency}"
    if anomaly.rule == "new_meter":
        return (
            f"First use of watched meters on {anomaly.day.isoformat()}: {', '.join(anomaly.meters)}, "
            f"{amount} in the day"
        )
    times = f" ({anomaly.times_baseline} times the median)" if anomaly.times_baseline is not None else ""
    return (
        f"Usage spike on {anomaly.day.isoformat()}: {amount} against a median day of "
        f"{anomaly.baseline_median} {anomaly.currency} over {anomaly.baseline_days} days{times}"
    )


def evidence_of(anomaly: Anomaly) -> list[Evidence]:
    items = [
        Evidence(kind="anomaly_rule", value=anomaly.rule),
        Evidence(kind="day", value=anomaly.day.isoformat()),
    ]
    if anomaly.amount is not None:
        items.append(Evidence(kind="amount", value=f"{anomaly.amount} {anomaly.currency}"))
    if anomaly.baseline_median is not None:
        value = f"median {anomaly.baseline_median} {anomaly.currency} over {anomaly.baseline_days} days"
        items.append(Evidence(kind="baseline", value=value))
    items += [Evidence(kind="meter", value=m[:2000]) for m in anomaly.meters[:8]]
    items += [Evidence(kind="offer", value=o[:2000]) for o in anomaly.offers[:5]]
    if anomaly.seats_after is not None:
        items.append(Evidence(kind="seats", value=f"{anomaly.seats_before} -> {anomaly.seats_after}"))
    return items[:20]


def report_anomaly(fraud: FraudDeps, customer_id: str, anomaly: Anomaly, *, actor: Actor) -> ReportAccepted:
    """Open or join the customer's case for the anomaly, triaged as any report."""
    report = FraudReport(
        customer_id=customer_id,
        subscription_ids=[anomaly.subscription_id] if _GUID.match(anomaly.subscription_id or "") else [],
        category=Category.RESOURCE_ABUSE,
        severity=Severity(anomaly.severity),
        source=SOURCE,
        reporter=REPORTER,
        description=describe(anomaly)[:4000],
        evidence=evidence_of(anomaly),
    )
    accepted = intake(fraud, report, report_id_for(customer_id, anomaly), actor=actor, config=fraud.triage())
    metric("exposure.anomaly_reported", rule=anomaly.rule, severity=anomaly.severity)
    return accepted
