"""The executor under faults, throttling, conflicts, concurrency and permanent failure."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from shared.adapters.layout import RECONCILE_LEASE
from shared.adapters.lease import Lease
from shared.services.reconcile.common import ReconcileOutcome as Outcome
from tests.integration.partner_center.conftest import C1, C1_BASE, C1_OTHER, C3, C3_ACTIVE, Env


def tenant(customers: int, subscriptions: int) -> dict[str, Any]:
    data: dict[str, Any] = {"customers": []}
    for c in range(customers):
        cid = f"{c + 1:08x}-0000-4000-8000-00000000f001"
        subs = [
            {
                "id": f"{c + 1:08x}-{s + 1:04x}-4000-8000-00000000a001",
                "offerName": "E3",
                "status": "active",
                "quantity": 1,
            }
            for s in range(subscriptions)
        ]
        data["customers"].append(
            {"id": cid, "companyProfile": {"companyName": f"C{c}"}, "subscriptions": subs}
        )
    return data


def statuses(env: Env) -> dict[str, set[str]]:
    return {c["id"]: {s["status"] for s in c["subscriptions"]} for c in env.sim.state()["customers"]}


def test_every_customer_converges_under_faults_without_double_patches(env: Env) -> None:
    env.sim.reset(tenant(6, 3))
    env.sim.set_rate_limit(10_000)
    customers = [c["id"] for c in env.sim.state()["customers"]]
    held = customers[:4]
    env.sim.add_fault("status", status=503, rate=0.3)
    env.sim.add_fault("throttle", seconds=1, times=4)
    env.sim.add_fault("latency", method="PATCH", seconds=2.5, rate=0.05)  # the client times out at 2 s
    env.sim.add_fault("lose_response", method="PATCH", rate=0.15)
    env.sim.add_fault("drop", rate=0.05)
    for cid in held:
        env.place_hold(cid)
    for cid in customers:
        env.enqueue(cid)
    env.drain(timeout=120)
    now = statuses(env)
    assert all(now[cid] == {"suspended"} for cid in held)
    assert all(now[cid] == {"active"} for cid in customers[4:])

    env.lift_hold(held[0])
    env.lift_hold(held[1])
    for cid in customers:
        env.enqueue(cid)
    env.drain(timeout=120)
    now = statuses(env)
    assert now[held[0]] == now[held[1]] == {"active"}
    assert now[held[2]] == now[held[3]] == {"suspended"}

    applied: dict[str, int] = {}
    for call in env.sim.calls():
        if call["method"] == "PATCH" and call["applied"] and not call["replayed"]:
            sub = call["path"].rsplit("/", 1)[1]
            applied[sub] = applied.get(sub, 0) + 1
    for cid in held:
        for sub in env.sim.state()["customers"][customers.index(cid)]["subscriptions"]:
            expected = 2 if cid in held[:2] else 1
            assert applied[sub["id"]] == expected, sub["id"]
    assert any(c["fault"] for c in env.sim.calls())  # the faults did fire


def test_throttle_reschedules_after_retry_after_instead_of_raising(env: Env) -> None:
    env.place_hold(C1)
    throttle = env.sim.add_fault("throttle", path=f"/customers/{C1}/", seconds=7, times=1)  # C1's calls only
    result = env.reconcile(C1)
    assert result.outcome is Outcome.RESCHEDULED and result.delay_seconds == 7
    assert throttle.fired == 1
    messages = env.queue.peek_messages()
    assert messages == []  # invisible for the Retry-After
    assert env.pending_messages() == 1


def test_renewal_window_conflict_reschedules_that_subscription_and_does_the_rest(env: Env) -> None:
    env.place_hold(C1)
    env.sim.renewal_window(C1_BASE, times=1)
    result = env.reconcile(C1)
    assert result.outcome is Outcome.RESCHEDULED and result.delay_seconds == 1  # the setting (2 min default)
    assert env.status(C1, C1_OTHER) == "suspended"
    assert env.status(C1, C1_BASE) == "active"
    env.drain()
    assert env.status(C1, C1_BASE) == "suspended"
    actions = [r.action for r in env.deps.audit.read(C1).records]
    assert "pc.suspend.failed" in actions and "reconcile.rescheduled" in actions


def test_two_executors_on_one_customer_do_not_both_patch(env: Env) -> None:
    env.place_hold(C3)
    env.sim.add_fault("latency", method="GET", seconds=0.5, times=2)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(env.reconcile(C3))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r.outcome.value for r in results) == ["busy", "converged"]
    assert len(env.patches_applied(C3_ACTIVE)) == 1
    env.drain()  # the busy one was rescheduled: it finds nothing left to do
    assert len(env.patches_applied(C3_ACTIVE)) == 1


def test_a_crashed_holders_lease_expires(env: Env) -> None:
    env.place_hold(C3)
    taken = env.deps.leases.acquire(C3, RECONCILE_LEASE, timedelta(seconds=-1), holder="crashed")
    assert isinstance(taken, Lease) and taken.holder == "crashed"
    assert env.reconcile(C3).outcome is Outcome.CONVERGED


def test_an_unexpected_error_raises_and_alerts_on_the_last_delivery(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not Partner Center's: a storage failure (here: reading the holds) raises for redelivery,
    and the last delivery records the alert before the poison queue."""
    from shared.services.reconcile import executor as module

    def broken(*_: object) -> list[str]:
        raise RuntimeError("storage unavailable")

    monkeypatch.setattr(module, "read_hold_ids", broken)
    with pytest.raises(RuntimeError):
        env.reconcile(C1, delivery=1)
    assert not any(r.action == "alert.reconcile_failed" for r in env.deps.audit.read(C1).records)
    with pytest.raises(RuntimeError):
        env.reconcile(C1, delivery=env.deps.settings.reconcile_max_deliveries)
    alerts = [r for r in env.deps.audit.read(C1).records if r.action == "alert.reconcile_failed"]
    assert len(alerts) == 1 and "delivery 5" in alerts[0].reason


def test_too_many_attempts_give_up_with_an_alert(env: Env) -> None:
    env.place_hold(C1)
    env.sim.add_fault("status", status=503)
    body = env.request(C1, attempt=env.deps.settings.reconcile_max_attempts)
    from shared.services.reconcile.handler import handle_reconcile_message

    result = handle_reconcile_message(env.deps, body, 1)
    assert result.outcome is Outcome.GAVE_UP
    assert env.pending_messages() == 0
    assert any(r.action == "alert.reconcile_failed" for r in env.deps.audit.read(C1).records)


def test_malformed_message_raises(env: Env) -> None:
    from shared.services.reconcile.handler import handle_reconcile_message

    with pytest.raises(ValueError):
        handle_reconcile_message(env.deps, b'{"customer_id": "not-a-guid"}', 1)


def test_a_subscription_gone_since_listing_does_not_stop_the_others(env: Env) -> None:
    env.place_hold(C1)
    env.sim.refuse(C1_OTHER, code=20003, times=1)  # 404: deleted since it was listed
    assert env.reconcile(C1).outcome is Outcome.CONVERGED
    assert env.status(C1, C1_BASE) == "suspended"
    failed = [r for r in env.deps.audit.read(C1).records if r.action == "pc.suspend.failed"]
    assert failed and failed[0].details["error"] == "PartnerCenterNotFound"


def test_a_long_run_keeps_its_lease_so_no_rival_takes_the_customer_over(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from shared import clock
    from shared.adapters.lease import LeaseTaken
    from shared.services.reconcile import executor as module

    fixed = clock.FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    ttl = timedelta(seconds=env.deps.settings.reconcile_lease_seconds)
    rivals: list[object] = []
    original = module.Executor._execute

    def slow_execute(self: module.Executor, action: Any) -> Any:
        fixed.advance(ttl * 0.6)  # each step takes most of the lease
        rivals.append(env.deps.leases.acquire(C1, RECONCILE_LEASE, ttl, holder="rival"))
        return original(self, action)

    monkeypatch.setattr(module.Executor, "_execute", slow_execute)
    try:
        env.place_hold(C1)
        assert env.reconcile(C1).outcome is Outcome.CONVERGED
    finally:
        clock.set_clock(previous)
    # two suspensions, then the add-on's suspension confirmed by a second read
    assert len(rivals) == 3 and all(isinstance(r, LeaseTaken) for r in rivals)
