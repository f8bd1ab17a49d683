"""The collections scan against Azurite: the stage walk, payment races, crashes, dry run, the cap."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, timedelta
from unittest import mock

import pytest

from shared import runtime
from shared.adapters.customers import CustomerRepository
from shared.adapters.schedule import ScheduleIndex
from shared.services.collections import approvals, controls, customer_view, four_eyes, ledger, preview
from shared.services.collections import scan as collections
from shared.services.outcomes import Effect
from tests.actors import ALICE, BOB, TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer, payment

DUE = date(2026, 3, 2)  # reminder on 5 March, warning on 12 March, suspension from 22 March


def overdue_customer(amount: str = "1000") -> str:
    cid = new_customer()
    ledger.post_invoice(deps(), invoice(cid, "i1", amount, DUE), actor=TEST_ACTOR, correlation_id="c")
    return cid


def advance_to(env: Env, day: date) -> None:
    """Local 10:00 (02:00 UTC) on `day`."""
    from datetime import UTC, datetime

    env.clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))


def walk_to_suspension(env: Env) -> None:
    for day in (date(2026, 3, 5), date(2026, 3, 12), date(2026, 3, 23)):
        advance_to(env, day)
        collections.run_scan(deps())
        env.notices()  # the notice sender delivers them (a suspension needs a delivered warning)


def test_stage_walk_reminder_warning_suspension_then_payment_reinstates(env: Env) -> None:
    cid = overdue_customer()
    advance_to(env, date(2026, 3, 4))
    assert collections.run_scan(deps()).actions == 0  # nothing to do before the reminder day
    assert env.notices() == []
    advance_to(env, date(2026, 3, 5))
    report = collections.run_scan(deps())
    assert report.evaluated == 1
    assert [n["notice_id"] for n in env.notices()] == [f"{_episode(cid)}:reminder"]
    advance_to(env, date(2026, 3, 12))
    collections.run_scan(deps())
    assert [n["notice_id"].split(":")[1] for n in env.notices()] == ["warning"]
    assert env.reconciles() == []
    advance_to(env, date(2026, 3, 23))
    collections.run_scan(deps())
    assert [m["reason"] for m in env.reconciles()] == ["non_payment hold placed"]
    assert [n["notice_id"].split(":")[1] for n in env.notices()] == ["suspension"]
    view = customer_view.customer_view(deps(), cid)
    assert view.stage == "suspension" and [h.hold_id for h in view.holds] == ["non_payment"]
    # a second scan the same day does nothing more
    assert collections.run_scan(deps()).actions == 0
    assert env.reconciles() == [] and env.notices() == []
    ledger.post_payment(deps(), payment(cid, "p1", "1000"), actor=TEST_ACTOR, correlation_id="c")
    assert [m["reason"] for m in env.reconciles()] == ["non_payment hold lifted"]
    assert customer_view.customer_view(deps(), cid).holds == []
    assert customer_view.audit_trail(deps(), cid)["verified"]


def _episode(cid: str) -> str:
    record = CustomerRepository.of(runtime.table_store()).get_record(cid)
    assert record is not None
    return str(record.value.state.episode_id)


def test_payment_keeps_other_holds(env: Env) -> None:
    cid = overdue_customer()
    walk_to_suspension(env)
    controls.place_manual_hold(
        deps(), cid, controls.ManualHoldIn(reason="keep"), actor=TEST_ACTOR, correlation_id="c"
    )
    env.reconciles()
    ledger.post_payment(deps(), payment(cid, "p1", "1000"), actor=TEST_ACTOR, correlation_id="c")
    assert [h.reason for h in customer_view.customer_view(deps(), cid).holds] == ["manual"]
    assert [m["reason"] for m in env.reconciles()] == ["non_payment hold lifted"]


@pytest.mark.parametrize("status", ["void", "disputed"])
def test_void_or_disputed_invoice_reinstates(env: Env, status: str) -> None:
    cid = overdue_customer()
    walk_to_suspension(env)
    env.reconciles()
    ledger.patch_invoice(
        deps(),
        "i1",
        ledger.InvoicePatch(customer_id=cid, status=status),
        actor=TEST_ACTOR,
        correlation_id="c",
    )
    assert customer_view.customer_view(deps(), cid).holds == []
    assert [m["reason"] for m in env.reconciles()] == ["non_payment hold lifted"]


def test_concurrent_scan_and_payment_no_double_action(env: Env) -> None:
    for _ in range(5):
        cid = overdue_customer()
        for day in (date(2026, 3, 5), date(2026, 3, 12)):
            advance_to(env, day)
            collections.run_scan(deps())
            env.notices()
        env.notices()
        env.reconciles()
        advance_to(env, date(2026, 3, 23))
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def run(fn: object) -> None:
            try:
                barrier.wait()
                fn()  # type: ignore[operator]
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(lambda: collections.run_scan(deps()),)),
            threading.Thread(target=run, args=(lambda: collections.run_scan(deps()),)),
            threading.Thread(
                target=run,
                args=(
                    lambda c=cid: ledger.post_payment(
                        deps(), payment(c, "p1", "1000"), actor=TEST_ACTOR, correlation_id="c"
                    ),
                ),
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert (
            customer_view.customer_view(deps(), cid).holds == []
        )  # paid: whatever the order, no hold remains
        trail = customer_view.audit_trail(deps(), cid)
        placed = [e for e in trail["entries"] if e["action"] == "hold.placed"]
        lifted = [e for e in trail["entries"] if e["action"] == "hold.lifted"]
        assert len(placed) <= 1 and len(lifted) == len(placed)
        reasons = [m["reason"] for m in env.reconciles()]
        assert reasons.count("non_payment hold placed") == len(placed)
        suspension_notices = [n for n in env.notices() if n["notice_id"].endswith(":suspension")]
        assert len(suspension_notices) == len(placed)
        assert trail["verified"]


def test_crash_after_commit_before_publish_converges(env: Env) -> None:
    cid = overdue_customer()
    advance_to(env, date(2026, 3, 5))
    with mock.patch.object(collections, "publish_outbox", side_effect=RuntimeError("crash")):
        report = collections.run_scan(deps())
    assert report.errors and env.notices() == []
    record = CustomerRepository.of(runtime.table_store()).get_record(cid)
    assert record is not None and len(record.value.outbox) == 1
    # Within the grace period the committing writer is presumed to be publishing: hands off.
    assert collections.run_scan(deps()).published == 0
    assert env.notices() == []
    env.clock.advance(timedelta(minutes=3))
    report = collections.run_scan(deps())  # the old index entry is still there: the next scan finishes
    assert report.published == 1
    assert [n["notice_id"].split(":")[1] for n in env.notices()] == ["reminder"]
    record = CustomerRepository.of(runtime.table_store()).get_record(cid)
    assert record is not None and record.value.outbox == []
    assert collections.run_scan(deps()).due == 0
    assert env.notices() == []


def test_dry_run_changes_nothing_outside_the_audit(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = overdue_customer()
    monkeypatch.setenv("ENFORCEMENT_MODE", "dry_run")
    runtime.reset()
    repo = CustomerRepository.of(runtime.table_store())
    before = repo.load(cid)
    for day in (date(2026, 3, 5), date(2026, 3, 12), date(2026, 3, 23)):
        advance_to(env, day)
        collections.run_scan(deps())
    after = repo.load(cid)
    assert after.record is not None and before.record is not None
    assert after.record.etag == before.record.etag
    assert after.holds == {} and after.notices == {}
    assert env.notices() == [] and env.reconciles() == []
    actions = [e["action"] for e in customer_view.audit_trail(deps(), cid)["entries"]]
    assert "would.send_notice" in actions


def test_cap_holds_a_batch_back_and_approval_releases_it(env: Env) -> None:
    customers = [overdue_customer() for _ in range(3)]
    for day in (date(2026, 3, 5), date(2026, 3, 12)):
        advance_to(env, day)
        collections.run_scan(deps())
        env.notices()
    env.notices()
    advance_to(env, date(2026, 3, 23))
    policy = deps().policy()
    capped = policy.model_copy(
        update={"blast_radius": policy.blast_radius.model_copy(update={"max_suspensions_per_scan": 1})}
    )
    capped_deps = dataclasses.replace(deps(), policy_source=lambda: capped)
    report = collections.run_scan(capped_deps)
    assert report.batch_id is not None and len(report.held_back) == 2
    holds = {cid: [h.hold_id for h in customer_view.customer_view(deps(), cid).holds] for cid in customers}
    assert sorted(len(v) for v in holds.values()) == [0, 0, 1]
    assert len(env.reconciles()) == 1
    batch = approvals.get_batch(deps(), report.batch_id)
    assert sorted(batch.customer_ids) == sorted(report.held_back)
    # held-back customers are not re-batched by the next scan
    advance_to(env, date(2026, 3, 24))
    assert collections.run_scan(capped_deps).held_back == []
    released = approvals.release_batch(deps(), report.batch_id, actor=BOB, policy=deps().policy())
    assert released.status == "released"
    assert all(customer_view.customer_view(deps(), cid).holds for cid in customers)
    assert len(env.reconciles()) == 2
    held = report.held_back[0]
    assert "collections.batch_approved" in [
        e["action"] for e in customer_view.audit_trail(deps(), held)["entries"]
    ]


def test_a_customer_held_back_in_an_already_released_batch_is_placed(env: Env) -> None:
    # The race: the scan adds the customer to its batch, the batch is released (the customer is
    # not marked held back yet, so the release skips it), then the scan's commit marks it held
    # back. The next scan must place the hold instead of holding it back for ever.
    cid = overdue_customer()
    for day in (date(2026, 3, 5), date(2026, 3, 12)):
        advance_to(env, day)
        collections.run_scan(deps())
        env.notices()
    advance_to(env, date(2026, 3, 23))
    policy = deps().policy()
    approvals.add_to_batch(deps(), "late", cid, policy, env.clock.now())
    released = approvals.release_batch(deps(), "late", actor=BOB, policy=policy)
    assert released.results[cid].startswith("not held back")
    repo = CustomerRepository.of(runtime.table_store())
    stored = repo.get_record(cid)
    assert stored is not None
    marked = stored.value.model_copy(update={"held_back_batch": "late"})
    repo.update_record(cid, marked, stored.etag)  # the scan's commit landing after the release
    env.reconciles()
    collections.run_scan(deps())
    view = customer_view.customer_view(deps(), cid)
    assert [h.hold_id for h in view.holds] == ["non_payment"]
    assert [m["reason"] for m in env.reconciles()] == ["non_payment hold placed"]
    actions = [e["action"] for e in customer_view.audit_trail(deps(), cid)["entries"]]
    assert "collections.batch_approved" in actions
    record = repo.get_record(cid)
    assert record is not None and record.value.held_back_batch is None


def test_invalid_policy_stops_the_scan(env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    overdue_customer()
    bad = __import__("pathlib").Path(str(tmp_path)) / "bad.toml"
    bad.write_text("time_zone = 'Nowhere/City'\n")
    monkeypatch.setenv("POLICY_FILE", str(bad))
    runtime.reset()
    advance_to(env, date(2026, 3, 5))
    report = collections.run_scan(deps())
    assert report.policy_error and "invalid policy" in report.policy_error
    assert report.due == 0 and env.notices() == []


def test_stale_index_entry_is_tolerated(env: Env) -> None:
    cid = overdue_customer()
    index = ScheduleIndex.of(runtime.table_store())
    index.put(cid, env.clock.now() - timedelta(hours=1))  # stale: the state says 5 March
    report = collections.run_scan(deps())
    assert report.stale == 1 and report.evaluated == 0
    assert list(index.due(env.clock.now())) == []


def test_a_ledger_change_leaves_a_due_suspension_to_the_scan(env: Env) -> None:
    cid = overdue_customer()
    for day in (date(2026, 3, 5), date(2026, 3, 12)):
        advance_to(env, day)
        collections.run_scan(deps())
        env.notices()
    env.notices()
    advance_to(env, date(2026, 3, 23))
    ledger.post_invoice(
        deps(), invoice(cid, "i2", "50", date(2026, 4, 30)), actor=TEST_ACTOR, correlation_id="c"
    )
    assert customer_view.customer_view(deps(), cid).holds == [] and env.reconciles() == []
    actions = [e["action"] for e in customer_view.audit_trail(deps(), cid)["entries"]]
    assert "collections.suspension_deferred" in actions
    report = collections.run_scan(deps())
    assert report.evaluated == 1
    assert [m["reason"] for m in env.reconciles()] == ["non_payment hold placed"]


def test_exemption_reinstates(env: Env) -> None:
    cid = overdue_customer()
    walk_to_suspension(env)
    env.reconciles()
    body = controls.ExemptionIn(kind="promise_to_pay", until=date(2026, 4, 10), reason="CFO promised")
    asked = controls.add_exemption(deps(), cid, body, actor=ALICE, correlation_id="c")
    assert asked.effect is Effect.PENDING  # a long promise: a second person approves it
    assert customer_view.customer_view(deps(), cid).holds != [] and env.reconciles() == []
    four_eyes.approve_change(
        deps(), asked.value.change_id, four_eyes.ApprovalNote(), actor=BOB, correlation_id="c"
    )
    assert customer_view.customer_view(deps(), cid).holds == []
    assert [m["reason"] for m in env.reconciles()] == ["non_payment hold lifted"]


def test_preview_writes_nothing_and_explains(env: Env) -> None:
    cid = overdue_customer()
    advance_to(env, date(2026, 3, 5))
    repo = CustomerRepository.of(runtime.table_store())
    before = repo.load(cid)
    result = preview.preview(deps(), deps().policy())
    (item,) = result.customers
    assert item.customer_id == cid and item.actions == ["send_notice:reminder"]
    assert any("3 days past due" in r for r in item.reasons)
    after = repo.load(cid)
    assert after.record is not None and before.record is not None
    assert after.record.etag == before.record.etag and after.audit_head == before.audit_head
    assert env.notices() == []


def test_cap_size(env: Env) -> None:
    from shared.services.collections.cap import CapGate

    policy = deps().policy()  # 20 per scan, 5 percent
    assert CapGate.for_scan(policy, 3, "b").limit == 1
    assert CapGate.for_scan(policy, 100, "b").limit == 5
    assert CapGate.for_scan(policy, 10000, "b").limit == 20
    gate = CapGate(limit=1, batch_id="b")
    assert gate.admit("a") and not gate.admit("b") and gate.held_back == ["b"]
