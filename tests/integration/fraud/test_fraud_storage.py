"""Integration: the case store, idempotency records and the intake service on a real Azurite.

Concurrency is real too: threads race on the same rows, and the ETag and insert-first guards
decide the winner.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions.http_support import answer_for
from shared import clock, runtime
from shared.adapters.cases import CaseStore, status_partition
from shared.adapters.idempotency import IdempotencyStore, ReservationOutcome
from shared.adapters.layout import CASES_TABLE, IDEMPOTENCY_TABLE, PROFILE_ROW
from shared.adapters.tables import TableStore
from shared.domain.customer import StoredProfile
from shared.domain.fraud import Case, CaseStatus, Category, FraudReport, Severity
from shared.errors import AppError
from shared.services.fraud import case_lists, cases, holds, intake
from shared.services.fraud.cases import ResolutionOutcome, ResolutionRequest
from shared.services.fraud.deps import FraudDeps
from tests.actors import TEST_ACTOR
from tests.integration.fraud.conftest import make_fraud

CUSTOMER = "c1111111-1111-4111-8111-111111111111"
REPO = Path(__file__).resolve().parents[3]


def _report(severity: Severity = Severity.LOW, customer: str = CUSTOMER) -> FraudReport:
    return FraudReport(
        customer_id=customer,
        category=Category.RESOURCE_ABUSE,
        severity=severity,
        source="monitor",
        reporter="risk",
        description="port scans from a VM",
    )


def test_concurrent_first_reports_open_exactly_one_case(fraud: FraudDeps) -> None:
    answers: list[str] = []
    lock = threading.Lock()

    def send() -> None:
        accepted = intake.submit(fraud, _report(), idempotency_key=None, sender=None, actor=TEST_ACTOR)
        with lock:
            answers.append(accepted.answer)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cases = list(fraud.cases.iter_customer_cases(CUSTOMER))
    assert len(cases) == 1
    assert cases[0].hit_count == 6


def test_concurrent_requests_with_one_idempotency_key_create_one_report(fraud: FraudDeps) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            intake.submit(fraud, _report(), idempotency_key="same-key", sender=None, actor=TEST_ACTOR)
            code = 202
        except AppError as exc:  # the loser while the winner is still working: 409
            code = answer_for(exc)[0]
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(statuses) <= {202, 409} and 202 in statuses
    cases = list(fraud.cases.iter_customer_cases(CUSTOMER))
    assert len(cases) == 1 and cases[0].hit_count == 1


def test_idempotency_takeover_after_a_crash(store: TableStore) -> None:
    records = IdempotencyStore(store.table(IDEMPOTENCY_TABLE))
    at = datetime(2026, 11, 25, tzinfo=UTC)
    first = records.reserve("s", "k", "h1", "R1", at)
    assert first.outcome is ReservationOutcome.RESERVED
    assert records.reserve("s", "k", "h1", "R2", at).outcome is ReservationOutcome.IN_PROGRESS
    assert records.reserve("s", "k", "h2", "R2", at).outcome is ReservationOutcome.MISMATCH
    taken = records.reserve("s", "k", "h1", "R2", at + timedelta(minutes=5))
    assert taken.outcome is ReservationOutcome.RESERVED
    assert taken.record.report_id == "R1"  # the retry carries on the crashed request's report
    records.complete(taken, '{"ok":true}')
    replay = records.reserve("s", "k", "h1", "R3", at + timedelta(minutes=6))
    assert replay.outcome is ReservationOutcome.REPLAY and replay.record.response == '{"ok":true}'


def test_status_index_follows_the_case_and_drops_stale_entries(fraud: FraudDeps, store: TableStore) -> None:
    body = intake.submit(fraud, _report(), idempotency_key=None, sender=None, actor=TEST_ACTOR).answer
    case_id = json.loads(body)["case_id"]
    case_store = CaseStore(store.table(CASES_TABLE))
    assert [c.case_id for c in case_store.list_by_status(CaseStatus.OPEN, 10, None).cases] == [case_id]
    cases.resolve_case(
        fraud, case_id, ResolutionRequest(outcome=ResolutionOutcome.DISMISSED, note="noise"), actor=TEST_ACTOR
    )
    assert case_store.list_by_status(CaseStatus.OPEN, 10, None).cases == []
    assert [c.case_id for c in case_store.list_by_status(CaseStatus.DISMISSED, 10, None).cases] == [case_id]
    # A stale entry (as a crash between the index and the case write would leave) is never listed.
    from shared.adapters.cases import CaseRef

    case_store.table.upsert(CaseRef(customer_id=CUSTOMER), status_partition(CaseStatus.OPEN), case_id)
    assert case_store.list_by_status(CaseStatus.OPEN, 10, None).cases == []
    assert case_store.table.get_raw(status_partition(CaseStatus.OPEN), case_id) is None
    # An entry whose case does not exist (a creation that died) is skipped, never listed.
    case_store.table.upsert(CaseRef(customer_id=CUSTOMER), status_partition(CaseStatus.OPEN), "0" * 26)
    assert case_store.list_by_status(CaseStatus.OPEN, 10, None).cases == []


def test_listing_pages_with_a_continuation_token(fraud: FraudDeps, store: TableStore) -> None:
    ids = []
    for n in range(5):
        customer = f"c222222{n}-2222-4222-8222-222222222222"
        ids.append(
            json.loads(
                intake.submit(
                    fraud, _report(customer=customer), idempotency_key=None, sender=None, actor=TEST_ACTOR
                ).answer
            )["case_id"]
        )
    seen: list[str] = []
    token = None
    for _ in range(5):
        page = case_lists.list_cases(fraud, status="open", limit=2, continuation_token=token)
        seen += [item.case_id for item in page.items]
        token = page.continuation_token
        if token is None:
            break
    assert seen == sorted(ids)


def test_escalation_after_reports_in_window_raises_severity(fraud: FraudDeps, store: TableStore) -> None:
    previous = clock.set_clock(clock.FixedClock(datetime(2026, 11, 25, 9, tzinfo=UTC)))
    try:
        for _ in range(3):  # FRAUD_ESCALATE_AFTER_REPORTS defaults to 3
            intake.submit(
                fraud, _report(Severity.MEDIUM), idempotency_key=None, sender=None, actor=TEST_ACTOR
            )
    finally:
        clock.set_clock(previous)
    (case,) = fraud.cases.iter_customer_cases(CUSTOMER)
    assert case.severity is Severity.HIGH and case.hit_count == 3


def test_protected_customer_gets_no_hold_but_an_alert(fraud: FraudDeps, store: TableStore) -> None:
    now = datetime.now(UTC)
    profile = StoredProfile(name="VIP", protected=True, customer_id=CUSTOMER, created_at=now, updated_at=now)
    store.table("customers").insert(profile, CUSTOMER, PROFILE_ROW)
    body = json.loads(
        intake.submit(
            fraud, _report(Severity.CRITICAL), idempotency_key=None, sender=None, actor=TEST_ACTOR
        ).answer
    )
    assert body["customer_known"] is True
    assert body["decision"]["action"] == "alert"
    assert "alert_protected_customer" in body["actions"]
    assert holds.customer_holds(fraud, CUSTOMER) == []
    trail = fraud.audit.read(CUSTOMER)
    assert trail.verified
    assert {"fraud.triage", "fraud.alert_protected_customer"} <= {r.action for r in trail.records}


def test_dry_run_records_would_hold_and_places_none(
    store: TableStore, storage_connection_string: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("ENFORCEMENT_MODE", "dry_run")
    monkeypatch.setenv("RECONCILE_QUEUE_NAME", f"{unique_name}-rq")
    runtime.reset()
    dry = make_fraud(store)
    body = json.loads(
        intake.submit(
            dry, _report(Severity.CRITICAL), idempotency_key=None, sender=None, actor=TEST_ACTOR
        ).answer
    )
    assert body["decision"]["dry_run"] is True
    assert body["actions"] == ["case_opened", "would_place_fraud_hold"]
    assert holds.customer_holds(dry, CUSTOMER) == []
    stored = dry.cases.table.get(Case, CUSTOMER, body["case_id"])
    assert stored is not None and stored.value.hold_decided is False


def _service_with_policy(store: TableStore, monkeypatch: pytest.MonkeyPatch, policy_file: Path) -> FraudDeps:
    monkeypatch.setenv("POLICY_FILE", str(policy_file))
    runtime.reset()
    return make_fraud(store)


def test_customer_on_the_policy_protected_list_gets_an_alert(
    fraud: FraudDeps, store: TableStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO / "policy" / "collections.toml").read_text(encoding="utf-8")
    listed = tmp_path / "collections.toml"
    listed.write_text(text.replace("protected_customers = []", f'protected_customers = ["{CUSTOMER}"]'))
    fraud = _service_with_policy(store, monkeypatch, listed)
    body = json.loads(
        intake.submit(
            fraud, _report(Severity.CRITICAL), idempotency_key=None, sender=None, actor=TEST_ACTOR
        ).answer
    )
    assert body["decision"]["action"] == "alert"
    assert "policy list" in body["decision"]["explanation"]
    assert holds.customer_holds(fraud, CUSTOMER) == []


def test_unreadable_policy_means_no_automatic_hold(
    fraud: FraudDeps, store: TableStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "collections.toml"
    broken.write_text("protected_customers = 'not a list'\n")
    fraud = _service_with_policy(store, monkeypatch, broken)
    body = json.loads(
        intake.submit(
            fraud, _report(Severity.CRITICAL), idempotency_key=None, sender=None, actor=TEST_ACTOR
        ).answer
    )
    assert body["decision"]["action"] == "alert"
    assert "unreadable" in body["decision"]["explanation"]
    assert holds.customer_holds(fraud, CUSTOMER) == []


def test_critical_report_about_an_unlisted_customer_places_the_hold(fraud: FraudDeps) -> None:
    body = json.loads(
        intake.submit(
            fraud, _report(Severity.CRITICAL), idempotency_key=None, sender=None, actor=TEST_ACTOR
        ).answer
    )
    assert body["actions"] == ["case_opened", "fraud_hold_placed", "reconcile_requested"]
    (hold,) = holds.customer_holds(fraud, CUSTOMER)
    assert hold.hold_id == f"fraud-{body['case_id']}" and hold.reason.value == "fraud"
