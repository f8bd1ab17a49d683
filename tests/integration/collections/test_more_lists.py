"""More staff lists on Azurite, paged past 1,000 items and equal to a full read: alerts (raised by
their audit entries, acknowledged by a named person), pending changes, a suspension batch's
members, and fraud cases by status, customer, category, severity and dates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from shared import runtime, wiring
from shared.adapters.alerts import ALERTS_PARTITION, Alert, AlertStatus
from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.cases import CASE_ID_PARTITION, CaseRef, status_partition
from shared.adapters.changes import PARTITION as CHANGES_PARTITION
from shared.adapters.changes import change_row, status_row
from shared.adapters.layout import CASES_TABLE, CUSTOMERS_TABLE, PARTNER_PARTITION
from shared.domain.changes import ChangeKind, ChangeStatus, PendingChange
from shared.domain.fraud import Case, CaseStatus, Category, Severity, new_case_id
from shared.domain.identity import Actor
from shared.errors import NotFound
from shared.services.collections import alerts, approvals, batches, pending
from shared.services.fraud import case_lists
from tests.actors import ALICE, BOB
from tests.integration.collections.conftest import START, Env, deps, new_customer
from tests.integration.collections.test_lists import _bulk

COUNT = 1_050


def _all(read: Callable[[str | None], Any]) -> list[Any]:
    items: list[Any] = []
    token = None
    for _ in range(100):
        page = read(token)
        items += page.items
        token = page.continuation_token
        if token is None:
            return items
    raise AssertionError("did not end")


def test_alerts_are_raised_by_their_audit_entries_and_acknowledged_by_a_person(env: Env) -> None:
    cid = new_customer()
    entry = AuditEntry(
        at=env.clock.now(),
        actor=Actor.system("reconcile-executor"),
        action="alert.reconcile_failed",
        reason="Partner Center answered 503 twenty times",
        correlation_id="c-1",
        details={"customer_id": cid},
    )
    log = AuditLog(runtime.table_store().table(CUSTOMERS_TABLE))
    log.append(cid, [entry])
    log.append(cid, [entry.model_copy(update={"action": "hold.placed"})])  # not an alert
    [alert] = alerts.list_alerts(deps(), customer_id=cid).items
    assert (
        alert.kind == "reconcile_failed" and alert.title["zh-CN"] and alert.raised_by == "reconcile-executor"
    )
    with pytest.raises(NotFound):
        alerts.acknowledge_alert(
            deps(),
            "00000000000000-0000000000000000",
            alerts.Acknowledgement(),
            actor=ALICE,
            correlation_id="c",
        )
    done = alerts.acknowledge_alert(
        deps(), alert.alert_id, alerts.Acknowledgement(note="looked at it"), actor=ALICE, correlation_id="c"
    )
    assert done.status is AlertStatus.ACKNOWLEDGED and done.acknowledged_by is not None
    assert done.acknowledged_by.id == ALICE.id
    again = alerts.acknowledge_alert(
        deps(), alert.alert_id, alerts.Acknowledgement(), actor=BOB, correlation_id="c"
    )
    assert again.acknowledged_by is not None and again.acknowledged_by.id == ALICE.id  # the first stays
    assert alerts.list_alerts(deps(), customer_id=cid).items == []
    assert [a.alert_id for a in alerts.list_alerts(deps(), status="acknowledged").items] == [alert.alert_id]
    log.append(cid, [entry])  # the same entry again (a retried write) opens no second alert
    assert alerts.list_alerts(deps(), customer_id=cid).items == []
    trail = [e for e in log.read(cid).records if e.action == "alerts.acknowledged"]
    assert len(trail) == 1 and trail[0].actor_id == ALICE.id


def test_alerts_page_newest_first_past_a_thousand(env: Env) -> None:
    table = runtime.table_store().table(CUSTOMERS_TABLE)
    made = []
    for i in range(COUNT):
        at = START + timedelta(seconds=i)
        alert_id = f"{10**14 - int(at.timestamp() * 1000):014d}-{i:016X}"
        kind = "poison_message" if i % 4 == 0 else "reconcile_failed"
        made.append(
            (
                ALERTS_PARTITION,
                f"open:{alert_id}",
                Alert(
                    alert_id=alert_id, kind=kind, title={}, raised_at=at, raised_by="x", correlation_id="c"
                ),
            )
        )
    _bulk(table, made)
    got = _all(lambda t: alerts.list_alerts(deps(), limit=100, continuation_token=t))
    assert [a.alert_id for a in got] == sorted(m[2].alert_id for m in made)
    assert got[0].raised_at > got[-1].raised_at  # newest first
    poison = _all(
        lambda t: alerts.list_alerts(deps(), kind="poison_message", limit=100, continuation_token=t)
    )
    assert len(poison) == len([m for m in made if m[2].kind == "poison_message"])


def test_pending_changes_page_past_a_thousand(env: Env) -> None:
    table = runtime.table_store().table("changes")
    rows = []
    for i in range(COUNT):
        at = START + timedelta(milliseconds=i)
        change = PendingChange(
            change_id=f"CH{i:020d}",
            kind=ChangeKind.ENFORCEMENT_OFF,
            status=ChangeStatus.PENDING if i % 5 else ChangeStatus.REJECTED,
            customer_id=str(uuid.UUID(int=i + 1)),
            summary={"en": "x", "zh-CN": "x"},
            why={"en": "x", "zh-CN": "x"},
            policy_version="v",
            requested_by=ALICE.ref,
            requested_at=at,
            expires_at=at + timedelta(days=7),
        )
        rows += [
            (CHANGES_PARTITION, change_row(change.change_id), change),
            (CHANGES_PARTITION, status_row(change.status, change.change_id), change),
        ]
    _bulk(table, rows)
    got = _all(lambda t: pending.list_changes(deps(), limit=100, continuation_token=t))
    assert [c.change_id for c in got] == [f"CH{i:020d}" for i in range(COUNT) if i % 5]


def test_a_batch_lists_its_members_with_why_past_a_thousand(env: Env) -> None:
    policy = deps().policy()
    approvals.add_to_batch(
        deps(), "big", new_customer(), policy, env.clock.now(), reason="warned 20 days ago"
    )
    table = runtime.table_store().table(CUSTOMERS_TABLE)
    members = [
        (
            PARTNER_PARTITION,
            f"batchmember:big:{uuid.UUID(int=i + 7)}",
            approvals.BatchMember(customer_id=str(uuid.UUID(int=i + 7)), added_at=START, reason=f"due {i}"),
        )
        for i in range(COUNT)
    ]
    _bulk(table, members)
    got = _all(lambda t: _members(t))
    assert len(got) == COUNT + 1 and all(m.reason for m in got)
    listed = batches.list_batches(deps(), status="pending").items
    assert [b.batch_id for b in listed] == ["big"]
    assert batches.list_batches(deps(), status="released").items == []


def _members(token: str | None) -> Any:
    detail = batches.batch_detail(deps(), "big", limit=100, continuation_token=token)
    return type("Page", (), {"items": detail.members, "continuation_token": detail.continuation_token})


def _case(customer_id: str, i: int, opened: datetime) -> Case:
    return Case(
        case_id=new_case_id(opened),
        customer_id=customer_id,
        customer_known=True,
        category=list(Category)[i % 3],
        severity=list(Severity)[i % 4],
        status=CaseStatus.OPEN if i % 2 else CaseStatus.INVESTIGATING,
        opened_at=opened,
        updated_at=opened,
    )


def test_fraud_cases_page_past_a_thousand_by_status_customer_category_severity_and_date(env: Env) -> None:
    fraud = wiring.fraud()
    table = runtime.table_store().table(CASES_TABLE)
    customer = str(uuid.UUID(int=424242))
    made = [_case(customer, i, START + timedelta(hours=i)) for i in range(COUNT)]
    rows: list[tuple[str, str, Any]] = []
    for case in made:
        rows += [
            (customer, case.case_id, case),
            (status_partition(case.status), case.case_id, CaseRef(customer_id=customer)),
            (CASE_ID_PARTITION, case.case_id, CaseRef(customer_id=customer)),
        ]
    _bulk(table, rows)

    def read(**filters: Any) -> list[str]:
        return [
            c.case_id
            for c in _all(lambda t: case_lists.list_cases(fraud, limit=100, continuation_token=t, **filters))
        ]

    by_status = read(status="open")
    assert by_status == sorted(c.case_id for c in made if c.status is CaseStatus.OPEN)
    mine = read(status=None, customer_id=customer)
    assert mine == sorted(c.case_id for c in made)
    high = read(status=None, customer_id=customer, severity="high", category="payment_fraud")
    assert high == sorted(
        c.case_id for c in made if c.severity is Severity.HIGH and c.category is Category.PAYMENT_FRAUD
    )
    crypto = read(status="investigating", category="crypto_mining")
    assert crypto == sorted(
        c.case_id
        for c in made
        if c.status is CaseStatus.INVESTIGATING and c.category is Category.CRYPTO_MINING
    )
    first, last = date(2026, 3, 10), date(2026, 3, 20)  # local dates (Asia/Shanghai)
    window = read(status=None, customer_id=customer, opened_from=first, opened_to=last)
    expected = [c.case_id for c in made if first <= (c.opened_at + timedelta(hours=8)).date() <= last]
    assert window == sorted(expected) and len(window) == 11 * 24
    assert read(status="open", opened_from=first, opened_to=last) == sorted(
        c.case_id for c in made if c.case_id in expected and c.status is CaseStatus.OPEN
    )
