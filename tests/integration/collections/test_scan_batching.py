"""The scan's cheaper paths on Azurite: a review that decides nothing writes no transaction; the
due-index moves go in one transaction per hour bucket; a crash before or half way through those
moves converges on the next scan without a second action."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

from shared import runtime
from shared.adapters.customers import CustomerRepository
from shared.adapters.schedule import ScheduleBatch, ScheduleIndex
from shared.services.collections import customer_view
from shared.services.collections import scan as collections
from tests.integration.collections.conftest import Env, deps
from tests.integration.collections.test_scan import advance_to, overdue_customer


def _index() -> ScheduleIndex:
    return ScheduleIndex.of(runtime.table_store())


def _entries(cid: str, until: datetime) -> list[datetime]:
    return [d.due_at for d in _index().due(until) if d.customer_id == cid]


def test_a_review_that_decides_nothing_writes_no_transaction(env: Env) -> None:
    cid = overdue_customer()
    advance_to(env, date(2026, 3, 4))
    collections.run_scan(deps())  # the overdue episode starts: a state change, committed
    repo = CustomerRepository.of(runtime.table_store())
    before = repo.load(cid)
    trail_before = customer_view.audit_trail(deps(), cid)["entries"]
    # 5 March, 18:00 in Shanghai: the reminder is due, but the enforcement window is closed.
    env.clock.set(datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    report = collections.run_scan(deps())
    assert (report.due, report.evaluated, report.unchanged, report.actions) == (1, 1, 1, 0)
    after = repo.load(cid)
    assert after.record is not None and before.record is not None
    assert after.record.etag == before.record.etag  # no transaction on the customer
    assert after.audit_head == before.audit_head
    assert customer_view.audit_trail(deps(), cid)["entries"] == trail_before
    # only the index moved: to the window's opening, the due entry gone
    opening = datetime(2026, 3, 6, 1, 0, tzinfo=UTC)  # 6 March, 09:00 in Shanghai
    assert _entries(cid, env.clock.now()) == []
    assert _entries(cid, opening + timedelta(days=30)) == [opening]
    assert env.notices() == []
    # the customer view shows the live next review, not the state row's (left as it was)
    assert customer_view.customer_view(deps(), cid).next_review_at == opening
    # ... and nothing is lost: when the window opens, the reminder goes out once
    env.clock.set(opening + timedelta(hours=1))
    report = collections.run_scan(deps())
    assert (report.evaluated, report.unchanged, report.actions) == (1, 0, 1)
    assert [n["notice_id"].split(":")[1] for n in env.notices()] == ["reminder"]
    assert collections.run_scan(deps()).due == 0


def test_the_index_moves_of_a_scan_are_batched_per_hour_bucket(env: Env) -> None:
    customers = [overdue_customer() for _ in range(12)]
    advance_to(env, date(2026, 3, 5))
    with (
        mock.patch.object(ScheduleIndex, "put", autospec=True, side_effect=ScheduleIndex.put) as put,
        mock.patch.object(ScheduleIndex, "remove", autospec=True, side_effect=ScheduleIndex.remove) as remove,
        mock.patch.object(ScheduleBatch, "flush", autospec=True, side_effect=ScheduleBatch.flush) as flush,
    ):
        report = collections.run_scan(deps())
    assert report.evaluated == 12 and report.actions == 12 and report.errors == []
    assert put.call_count == 0 and remove.call_count == 0  # no call per customer
    (call,) = flush.call_args_list
    assert call.args[0].transactions == 2  # the new entries' bucket, then the old entries' bucket
    assert len(env.notices()) == 12
    assert list(_index().due(env.clock.now())) == []
    warning_day = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)  # 12 March, 09:00 in Shanghai
    for cid in customers:
        assert _entries(cid, warning_day + timedelta(days=1)) == [warning_day]


def test_crash_before_the_index_moves_converges_without_a_second_action(env: Env) -> None:
    customers = [overdue_customer() for _ in range(3)]
    advance_to(env, date(2026, 3, 5))
    with mock.patch.object(ScheduleBatch, "flush", side_effect=RuntimeError("crash")):
        report = collections.run_scan(deps())
    assert report.actions == 3 and report.errors  # committed and published; no index moved
    assert len(env.notices()) == 3
    assert len(list(_index().due(env.clock.now()))) == 3  # the due entries are still there
    report = collections.run_scan(deps())  # the next scan: each entry is stale, moved, nothing re-decided
    assert (report.due, report.stale, report.evaluated, report.actions) == (3, 3, 0, 0)
    assert env.notices() == []
    warning_day = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)
    for cid in customers:
        assert _entries(cid, warning_day + timedelta(days=1)) == [warning_day]


def test_crash_between_new_and_old_entries_leaves_both_then_converges(env: Env) -> None:
    cid = overdue_customer()
    advance_to(env, date(2026, 3, 5))
    with mock.patch.object(ScheduleBatch, "_drop", side_effect=RuntimeError("crash")):
        report = collections.run_scan(deps())
    assert report.actions == 1 and report.errors
    assert len(env.notices()) == 1
    warning_day = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)
    assert len(_entries(cid, warning_day)) == 2  # the new one is in before the old one goes
    report = collections.run_scan(deps())
    assert (report.stale, report.actions) == (1, 0)
    assert _entries(cid, warning_day) == [warning_day]
    assert env.notices() == []
