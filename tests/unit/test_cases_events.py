"""Partner Center fraud events as fraud reports (pure mapping; no network)."""

from __future__ import annotations

from shared.adapters.partner_center.fraud_events import FraudEvent
from shared.domain.fraud import Category, Severity
from shared.services.fraud.pc_events import event_ref, report_from_event

EVENT = {
    "EventId": "fe-9",
    "eventTime": "2026-11-20T03:12:00Z",
    "CUSTOMERTENANTID": "22222222-2222-4222-8222-222222222222",
    "subscriptionId": "B2222222-0000-4000-8000-000000000001",
    "hitCount": 14,
    "serviceName": "Microsoft.Compute",
    "resourceName": "vm-miner-01",
    "resourceGroupName": "rg-batch",
    "firstOccurrence": "2026-11-19T22:00:00Z",
    "lastOccurrence": "2026-11-20T03:00:00Z",
    "eventType": "NetworkConnectionsToCryptoMiningPools",
    "severity": "High",
    "confidenceLevel": "High",
    "isTest": False,
    "unknownField": {"x": 1},
}


def test_event_names_are_read_case_insensitively() -> None:
    event = FraudEvent.model_validate(EVENT)
    assert event.event_id == "fe-9" and event.customer_tenant_id.startswith("2222")
    assert event_ref(event) == "B2222222-0000-4000-8000-000000000001/fe-9"


def test_crypto_mining_event_becomes_a_high_crypto_mining_report() -> None:
    report = report_from_event(FraudEvent.model_validate(EVENT))
    assert report is not None
    assert report.category is Category.CRYPTO_MINING
    assert report.severity is Severity.HIGH
    assert report.source == "partner_center"
    assert report.subscription_ids == ["b2222222-0000-4000-8000-000000000001"]
    assert "vm-miner-01" in report.description and "14 hits" in report.description
    assert [e.kind for e in report.evidence] == ["pc_event", "resource"]
    assert report.occurred_at is not None and report.occurred_at.hour == 22


def test_unknown_types_and_severities_fall_back_and_bad_tenants_are_skipped() -> None:
    odd = FraudEvent.model_validate({**EVENT, "eventType": "SomethingNew", "severity": "Severe"})
    report = report_from_event(odd)
    assert report is not None and report.category is Category.OTHER and report.severity is Severity.MEDIUM
    assert report_from_event(FraudEvent.model_validate({**EVENT, "CUSTOMERTENANTID": "x"})) is None
