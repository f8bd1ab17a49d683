"""Integration: the case (table `cases`) and the hold (table `customers`) are two writes in two
tables. A crash or a race between them must leave something that a retry repairs, and never a
hold on a protected customer or on a dismissed case.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.idempotency import IdempotencyStore, Outcome
from shared.adapters.layout import IDEMPOTENCY_TABLE, PROFILE_ROW
from shared.adapters.tables import TableStore
from shared.domain.customer import StoredProfile
from shared.domain.fraud import Case, Category, FraudReport, Severity
from shared.errors import Conflict
from shared.services.fraud.cases import PC_OUTBOX_PARTITION, CaseDesk, ResolutionRequest
from shared.services.fraud.cases import Outcome as Resolved
from shared.services.fraud.config import current_triage
from shared.services.fraud.intake import FraudService

CUSTOMER = "c2222222-2222-4222-8222-222222222222"


class Crash(RuntimeError):
    """The process dies here."""


def _report(severity: Severity = Severity.CRITICAL) -> FraudReport:
    return FraudReport(
        customer_id=CUSTOMER,
        category=Category.PAYMENT_FRAUD,
        severity=severity,
        source="monitor",
        reporter="risk",
        description="chargebacks",
    )


def _crash_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    original = getattr(owner, name)
    calls = {"n": 0}

    def crashing(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, crashing)


def _actions(service: FraudService) -> list[str]:
    trail = service.audit.read(CUSTOMER)
    assert trail.verified
    return [r.action for r in trail.records]


def _only_case(service: FraudService) -> Case:
    (case,) = service.cases.iter_customer_cases(CUSTOMER)
    return case


def test_intake_crash_between_the_case_and_the_hold_is_repaired_by_the_retry(
    service: FraudService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, FraudService, "place_hold")
    with pytest.raises(Crash):
        service.submit(_report(), idempotency_key="k-1", sender=None)
    case = _only_case(service)
    assert case.hold_decided and service.customer_holds(CUSTOMER) == []
    answer = service.submit(_report(), idempotency_key="k-1", sender=None)
    body = json.loads(answer.body)
    assert answer.status == 202 and body["case_id"] == case.case_id
    assert "fraud_hold_placed" in body["actions"]
    assert _only_case(service).hit_count == 1  # the retry is not counted as a second report
    assert [h.hold_id for h in service.customer_holds(CUSTOMER)] == [f"fraud-{case.case_id}"]


def test_a_hold_decided_before_a_crash_is_not_placed_once_the_customer_is_protected(
    service: FraudService, store: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, FraudService, "place_hold")
    with pytest.raises(Crash):
        service.submit(_report(), idempotency_key=None, sender=None)
    assert _only_case(service).hold_decided
    now = datetime.now(UTC)
    profile = StoredProfile(name="VIP", protected=True, customer_id=CUSTOMER, created_at=now, updated_at=now)
    store.table("customers").insert(profile, CUSTOMER, PROFILE_ROW)
    body = json.loads(service.submit(_report(), idempotency_key=None, sender=None).body)
    assert body["decision"]["action"] == "alert"
    assert "fraud_hold_placed" not in body["actions"]
    assert service.customer_holds(CUSTOMER) == []


def test_dismissal_crash_before_its_effects_is_repaired_by_resolving_again(
    service: FraudService, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = service.intake(
        _report(), "R1", actor="t", config=_triage(service), pc_event_ids=[f"{CUSTOMER}/ev-1"]
    )
    assert service.customer_holds(CUSTOMER)
    desk = CaseDesk(service)
    request = ResolutionRequest(outcome=Resolved.DISMISSED, note="false alarm")
    _crash_once(monkeypatch, CaseDesk, "_queue_pc_update")
    with pytest.raises(Crash):
        desk.resolve(accepted.case_id, request)
    assert _only_case(service).status.value == "dismissed"
    assert service.customer_holds(CUSTOMER)  # the crash left the hold: the customer stays suspended
    view = desk.resolve(accepted.case_id, request)  # the repair: resolve again with the same outcome
    assert view.hold_active is False and service.customer_holds(CUSTOMER) == []
    assert {"fraud.case_dismissed_again", "hold.lifted"} <= set(_actions(service))
    outbox = list(service.cases.table.partition(PC_OUTBOX_PARTITION))
    assert [row["RowKey"] for row in outbox] == [accepted.case_id]


def test_confirmation_crash_before_its_audit_entry_is_repaired_by_resolving_again(
    service: FraudService, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = service.intake(_report(), "R1", actor="t", config=_triage(service))
    desk = CaseDesk(service)
    request = ResolutionRequest(outcome=Resolved.CONFIRMED, note="real fraud")
    _crash_once(monkeypatch, CaseDesk, "_resolution_effects")
    with pytest.raises(Crash):
        desk.resolve(accepted.case_id, request)
    desk.resolve(accepted.case_id, request)
    assert "fraud.case_confirmed_again" in _actions(service)
    assert service.customer_holds(CUSTOMER)  # confirmed keeps the hold


def test_a_dismissal_between_the_case_write_and_the_hold_does_not_leave_a_hold(
    service: FraudService, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = FraudService.place_hold

    def dismissed_first(self: FraudService, case: Case, *args: Any, **kwargs: Any) -> bool:
        # Risk staff dismiss the case after this intake wrote it and before it wrote the hold.
        CaseDesk(self).resolve(case.case_id, ResolutionRequest(outcome=Resolved.DISMISSED, note="no"))
        return original(self, case, *args, **kwargs)

    monkeypatch.setattr(FraudService, "place_hold", dismissed_first)
    body = json.loads(service.submit(_report(), idempotency_key=None, sender=None).body)
    assert _only_case(service).status.value == "dismissed"
    assert service.customer_holds(CUSTOMER) == []
    assert "fraud_hold_lifted_case_dismissed" in body["actions"]
    assert "fraud.case_dismissed_hold_late" in _actions(service)


def _triage(service: FraudService) -> Any:
    return current_triage(service.settings)


def test_a_slow_request_whose_key_was_taken_over_still_answers(store: TableStore) -> None:
    records = IdempotencyStore(store.table(IDEMPOTENCY_TABLE))
    at = datetime(2026, 11, 25, tzinfo=UTC)
    slow = records.reserve("s", "k", "h", "R1", at)
    taken = records.reserve("s", "k", "h", "R1", at + timedelta(minutes=5))
    assert taken.outcome is Outcome.RESERVED
    assert records.complete(slow, 202, '{"first":true}') is False  # no ConcurrencyConflict (a 500)
    assert records.complete(taken, 202, '{"second":true}') is True
    replay = records.reserve("s", "k", "h", "R9", at + timedelta(minutes=6))
    assert replay.outcome is Outcome.REPLAY and replay.record.response == '{"second":true}'


def test_after_a_failed_attempt_the_key_still_refuses_another_body(
    service: FraudService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, FraudService, "place_hold")
    with pytest.raises(Crash):
        service.submit(_report(), idempotency_key="k-2", sender=None)
    other = _report().model_copy(update={"description": "another report under the same key"})
    with pytest.raises(Conflict):  # the failed attempt already wrote its case under this key
        service.submit(other, idempotency_key="k-2", sender=None)
    answer = service.submit(_report(), idempotency_key="k-2", sender=None)  # the same body: at once
    assert answer.status == 202 and "fraud_hold_placed" in json.loads(answer.body)["actions"]
    assert _only_case(service).hit_count == 1


def test_the_timer_repair_places_a_hold_an_interrupted_intake_left_undone(
    service: FraudService, store: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, FraudService, "place_hold")
    with pytest.raises(Crash):
        service.submit(_report(), idempotency_key=None, sender=None)  # no key: no retry will come
    case = _only_case(service)
    assert case.hold_decided and service.customer_holds(CUSTOMER) == []
    assert service.repair_holds(page_size=1) == 1
    assert [h.hold_id for h in service.customer_holds(CUSTOMER)] == [f"fraud-{case.case_id}"]
    assert "fraud.hold_repaired" in _actions(service)
    assert service.repair_holds() == 0  # nothing left to repair


def test_the_timer_repair_never_holds_a_protected_customer(
    service: FraudService, store: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, FraudService, "place_hold")
    with pytest.raises(Crash):
        service.submit(_report(), idempotency_key=None, sender=None)
    now = datetime.now(UTC)
    profile = StoredProfile(name="VIP", protected=True, customer_id=CUSTOMER, created_at=now, updated_at=now)
    store.table("customers").insert(profile, CUSTOMER, PROFILE_ROW)
    assert service.repair_holds() == 0
    assert service.customer_holds(CUSTOMER) == []
