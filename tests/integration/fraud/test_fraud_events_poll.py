"""Integration: the fraud events poll on a real Azurite, with Partner Center answers scripted.

One odd event (no id, a time without an offset, control characters in a resource name) must
not stop the run: the other events still open cases, and the outbox is still sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from shared import runtime
from shared.adapters.partner_center.errors import PartnerCenterError
from shared.adapters.tables import TableStore
from shared.services.fraud import cases, holds
from shared.services.fraud.cases import ResolutionOutcome, ResolutionRequest
from shared.services.fraud.deps import FraudDeps
from shared.services.fraud.pc_events import poll_fraud_events
from tests.actors import TEST_ACTOR
from tests.integration.fraud.conftest import make_fraud

TENANT = "e1111111-1111-4111-8111-111111111111"
OTHER = "e2222222-2222-4222-8222-222222222222"
SUB = "e1111111-0000-4000-8000-000000000001"


@dataclass
class ScriptedPartnerCenter:
    """Answers the two fraud-event calls the poll makes; records the status updates."""

    events: list[dict[str, Any]]
    status_calls: list[dict[str, Any]] = field(default_factory=list)
    listing_fails: bool = False

    @property
    def http(self) -> ScriptedPartnerCenter:
        return self

    def send(self, call: Any) -> SimpleNamespace:
        if call.method == "GET":
            if self.listing_fails:
                raise PartnerCenterError("app-only token refused", status=401)
            return SimpleNamespace(body={"totalCount": len(self.events), "items": self.events})
        self.status_calls.append(call.body)
        return SimpleNamespace(body={"items": []})


@pytest.fixture
def tables(
    storage_connection_string: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TableStore]:
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("QUEUE_TRANSPORT", "storage")
    monkeypatch.setenv("RECONCILE_QUEUE_NAME", f"{unique_name}-rq")
    monkeypatch.setenv("ENFORCEMENT_MODE", "enforce")
    monkeypatch.setenv("FRAUD_EVENTS_ENABLED", "true")
    runtime.reset()
    store = TableStore.from_connection_string(storage_connection_string, prefix=unique_name)
    yield store
    store.close()
    runtime.reset()


@pytest.fixture
def fraud(tables: TableStore) -> FraudDeps:
    return make_fraud(tables)


def test_odd_events_do_not_stop_the_run(fraud: FraudDeps) -> None:
    good = {
        "eventId": "ev-good",
        "customerTenantId": TENANT,
        "subscriptionId": SUB,
        "eventType": "UsageAnomalyDetection",
        "severity": "Low",
    }
    naive = {
        **good,
        "eventId": "ev-naive\x07",
        "customerTenantId": OTHER,
        "firstOccurrence": "2026-11-20T03:00:00",  # no offset
        "resourceName": "vm\x00-01",
    }
    no_id = {"customerTenantId": TENANT, "subscriptionId": SUB}
    pc = ScriptedPartnerCenter([no_id, naive, good])
    result = poll_fraud_events(fraud, pc)  # type: ignore[arg-type]
    assert result.failures == []
    assert result.cases_opened == 2
    assert [c.customer_id for c in fraud.cases.iter_customer_cases(OTHER)] == [OTHER]
    opened = next(fraud.cases.iter_customer_cases(OTHER))
    assert opened.reports[0].occurred_at is not None and opened.reports[0].occurred_at.tzinfo is not None
    assert len(pc.status_calls) == 2 and all(c["EventStatus"] == "Investigating" for c in pc.status_calls)


def test_a_listing_failure_still_sends_the_resolved_events(fraud: FraudDeps) -> None:
    event = {"eventId": "ev-1", "customerTenantId": TENANT, "subscriptionId": SUB, "severity": "Low"}
    first = poll_fraud_events(fraud, ScriptedPartnerCenter([event]))  # type: ignore[arg-type]
    assert first.cases_opened == 1
    (case,) = fraud.cases.iter_customer_cases(TENANT)
    cases.resolve_case(
        fraud,
        case.case_id,
        ResolutionRequest(outcome=ResolutionOutcome.DISMISSED, note="benign"),
        actor=TEST_ACTOR,
    )
    pc = ScriptedPartnerCenter([], listing_fails=True)
    result = poll_fraud_events(fraud, pc)  # type: ignore[arg-type]
    assert result.failures == ["listing events: PartnerCenterError"]
    assert pc.status_calls == [{"EventIds": ["ev-1"], "EventStatus": "Resolved", "ResolvedReason": "Ignore"}]


def test_dry_run_makes_no_partner_center_status_call(
    tables: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENFORCEMENT_MODE", "dry_run")
    dry = make_fraud(tables)
    event = {"eventId": "ev-d", "customerTenantId": TENANT, "subscriptionId": SUB, "severity": "Critical"}
    pc = ScriptedPartnerCenter([event])
    assert poll_fraud_events(dry, pc).cases_opened == 1  # type: ignore[arg-type]
    (case,) = dry.cases.iter_customer_cases(TENANT)
    cases.resolve_case(
        dry, case.case_id, ResolutionRequest(outcome=ResolutionOutcome.CONFIRMED, note="x"), actor=TEST_ACTOR
    )
    again = poll_fraud_events(dry, pc)  # type: ignore[arg-type]  # the event is still Active
    assert again.failures == [] and again.events_skipped == 1 and pc.status_calls == []
    assert holds.customer_holds(dry, TENANT) == []
    trail = [r.action for r in dry.audit.read(TENANT).records]
    assert trail.count("partner_center.fraud_event_status_dry_run") == 1
    assert "partner_center.fraud_event_status" not in trail
