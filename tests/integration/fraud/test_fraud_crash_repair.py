"""Integration: the case (table `cases`) and the hold (table `customers`) are two writes in two
tables. A crash or a race between them must leave something that a retry repairs, and never a
hold on a protected customer or on a dismissed case.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.adapters.idempotency import IdempotencyStore, ReservationOutcome
from shared.adapters.layout import IDEMPOTENCY_TABLE, PROFILE_ROW
from shared.adapters.tables import TableStore
from shared.domain.customer import StoredProfile
from shared.domain.fraud import Case, Category, FraudReport, Severity
from shared.errors import Conflict
from shared.services.fraud import cases, holds, intake, repair
from shared.services.fraud.cases import PC_OUTBOX_PARTITION, ResolutionOutcome, ResolutionRequest
from shared.services.fraud.deps import FraudDeps
from tests.actors import TEST_ACTOR
from tests.integration.fraud.conftest import accepted

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

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, crashing)


def _actions(fraud: FraudDeps) -> list[str]:
    trail = fraud.audit.read(CUSTOMER)
    assert trail.verified
    return [r.action for r in trail.records]


def _only_case(fraud: FraudDeps) -> Case:
    (case,) = fraud.cases.iter_customer_cases(CUSTOMER)
    return case


def test_intake_crash_between_the_case_and_the_hold_is_repaired_by_the_retry(
    fraud: FraudDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, intake, "place_fraud_hold")
    with pytest.raises(Crash):
        intake.submit(fraud, _report(), idempotency_key="k-1", sender=None, actor=TEST_ACTOR)
    case = _only_case(fraud)
    assert case.hold_decided and holds.customer_holds(fraud, CUSTOMER) == []
    answer = intake.submit(fraud, _report(), idempotency_key="k-1", sender=None, actor=TEST_ACTOR)
    body = json.loads(answer.answer)
    assert not answer.replayed and body["case_id"] == case.case_id
    assert "fraud_hold_placed" in body["actions"]
    assert _only_case(fraud).hit_count == 1  # the retry is not counted as a second report
    assert [h.hold_id for h in holds.customer_holds(fraud, CUSTOMER)] == [f"fraud-{case.case_id}"]


def test_a_hold_decided_before_a_crash_is_not_placed_once_the_customer_is_protected(
    fraud: FraudDeps, store: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, intake, "place_fraud_hold")
    with pytest.raises(Crash):
        intake.submit(fraud, _report(), idempotency_key=None, sender=None, actor=TEST_ACTOR)
    assert _only_case(fraud).hold_decided
    now = datetime.now(UTC)
    profile = StoredProfile(name="VIP", protected=True, customer_id=CUSTOMER, created_at=now, updated_at=now)
    store.table("customers").insert(profile, CUSTOMER, PROFILE_ROW)
    body = accepted(fraud, _report())
    assert body["decision"]["action"] == "alert"
    assert "fraud_hold_placed" not in body["actions"]
    assert holds.customer_holds(fraud, CUSTOMER) == []


def test_dismissal_crash_before_its_effects_is_repaired_by_resolving_again(
    fraud: FraudDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = intake.intake(
        fraud, _report(), "R1", actor=TEST_ACTOR, config=_triage(fraud), pc_event_ids=[f"{CUSTOMER}/ev-1"]
    )
    assert holds.customer_holds(fraud, CUSTOMER)
    request = ResolutionRequest(outcome=ResolutionOutcome.DISMISSED, note="false alarm")
    _crash_once(monkeypatch, cases, "_queue_pc_update")
    with pytest.raises(Crash):
        cases.resolve_case(fraud, accepted.case_id, request, actor=TEST_ACTOR)
    assert _only_case(fraud).status.value == "dismissed"
    assert holds.customer_holds(fraud, CUSTOMER)  # the crash left the hold: the customer stays suspended
    view = cases.resolve_case(
        fraud, accepted.case_id, request, actor=TEST_ACTOR
    )  # the repair: resolve again with the same outcome
    assert view.hold_active is False and holds.customer_holds(fraud, CUSTOMER) == []
    assert {"fraud.case_dismissed_again", "hold.lifted"} <= set(_actions(fraud))
    outbox = list(fraud.cases.table.partition(PC_OUTBOX_PARTITION))
    assert [row["RowKey"] for row in outbox] == [accepted.case_id]


def test_confirmation_crash_before_its_audit_entry_is_repaired_by_resolving_again(
    fraud: FraudDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = intake.intake(fraud, _report(), "R1", actor=TEST_ACTOR, config=_triage(fraud))
    request = ResolutionRequest(outcome=ResolutionOutcome.CONFIRMED, note="real fraud")
    _crash_once(monkeypatch, cases, "_resolution_effects")
    with pytest.raises(Crash):
        cases.resolve_case(fraud, accepted.case_id, request, actor=TEST_ACTOR)
    cases.resolve_case(fraud, accepted.case_id, request, actor=TEST_ACTOR)
    assert "fraud.case_confirmed_again" in _actions(fraud)
    assert holds.customer_holds(fraud, CUSTOMER)  # confirmed keeps the hold


def test_a_dismissal_between_the_case_write_and_the_hold_does_not_leave_a_hold(
    fraud: FraudDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = intake.place_fraud_hold

    def dismissed_first(deps: FraudDeps, case: Case, *args: Any, **kwargs: Any) -> bool:
        # Risk staff dismiss the case after this intake wrote it and before it wrote the hold.
        dismissal = ResolutionRequest(outcome=ResolutionOutcome.DISMISSED, note="no")
        cases.resolve_case(deps, case.case_id, dismissal, actor=TEST_ACTOR)
        return original(deps, case, *args, **kwargs)

    monkeypatch.setattr(intake, "place_fraud_hold", dismissed_first)
    body = accepted(fraud, _report())
    assert _only_case(fraud).status.value == "dismissed"
    assert holds.customer_holds(fraud, CUSTOMER) == []
    assert "fraud_hold_lifted_case_dismissed" in body["actions"]
    assert "fraud.case_dismissed_hold_late" in _actions(fraud)


def _triage(fraud: FraudDeps) -> Any:
    return fraud.triage()


def test_a_slow_request_whose_key_was_taken_over_still_answers(store: TableStore) -> None:
    records = IdempotencyStore(store.table(IDEMPOTENCY_TABLE))
    at = datetime(2026, 11, 25, tzinfo=UTC)
    slow = records.reserve("s", "k", "h", "R1", at)
    taken = records.reserve("s", "k", "h", "R1", at + timedelta(minutes=5))
    assert taken.outcome is ReservationOutcome.RESERVED
    assert records.complete(slow, '{"first":true}') is False  # no ConcurrencyConflict (a 500)
    assert records.complete(taken, '{"second":true}') is True
    replay = records.reserve("s", "k", "h", "R9", at + timedelta(minutes=6))
    assert replay.outcome is ReservationOutcome.REPLAY and replay.record.response == '{"second":true}'


def test_after_a_failed_attempt_the_key_still_refuses_another_body(
    fraud: FraudDeps, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, intake, "place_fraud_hold")
    with pytest.raises(Crash):
        intake.submit(fraud, _report(), idempotency_key="k-2", sender=None, actor=TEST_ACTOR)
    other = _report().model_copy(update={"description": "another report under the same key"})
    with pytest.raises(Conflict):  # the failed attempt already wrote its case under this key
        intake.submit(fraud, other, idempotency_key="k-2", sender=None, actor=TEST_ACTOR)
    answer = intake.submit(
        fraud, _report(), idempotency_key="k-2", sender=None, actor=TEST_ACTOR
    )  # the same body: at once
    assert not answer.replayed and "fraud_hold_placed" in json.loads(answer.answer)["actions"]
    assert _only_case(fraud).hit_count == 1


def test_the_timer_repair_places_a_hold_an_interrupted_intake_left_undone(
    fraud: FraudDeps, store: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, intake, "place_fraud_hold")
    with pytest.raises(Crash):
        intake.submit(
            fraud, _report(), idempotency_key=None, sender=None, actor=TEST_ACTOR
        )  # no key: no retry will come
    case = _only_case(fraud)
    assert case.hold_decided and holds.customer_holds(fraud, CUSTOMER) == []
    assert repair.repair_holds(fraud, page_size=1) == 1
    assert [h.hold_id for h in holds.customer_holds(fraud, CUSTOMER)] == [f"fraud-{case.case_id}"]
    assert "fraud.hold_repaired" in _actions(fraud)
    assert repair.repair_holds(fraud) == 0  # nothing left to repair


def test_the_timer_repair_never_holds_a_protected_customer(
    fraud: FraudDeps, store: TableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_once(monkeypatch, intake, "place_fraud_hold")
    with pytest.raises(Crash):
        intake.submit(fraud, _report(), idempotency_key=None, sender=None, actor=TEST_ACTOR)
    now = datetime.now(UTC)
    profile = StoredProfile(name="VIP", protected=True, customer_id=CUSTOMER, created_at=now, updated_at=now)
    store.table("customers").insert(profile, CUSTOMER, PROFILE_ROW)
    assert repair.repair_holds(fraud) == 0
    assert holds.customer_holds(fraud, CUSTOMER) == []
