"""The reconcile executor against real Azurite tables and queues and the Partner Center simulator."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from shared.adapters.layout import subscription_row
from shared.domain.suspensions import SuspensionRecord, SuspensionState
from shared.services.reconcile.common import ReconcileOutcome as Outcome
from shared.settings import EnforcementMode
from tests.integration.partner_center.conftest import (
    C1,
    C1_ADDON,
    C1_BASE,
    C1_OTHER,
    C3,
    C3_ACTIVE,
    C3_SUSPENDED_ELSEWHERE,
    Env,
)


def record(env: Env, customer_id: str, subscription_id: str) -> SuspensionRecord | None:
    stored = env.table.get(SuspensionRecord, customer_id, subscription_row(subscription_id))
    return stored.value if stored else None


def test_hold_suspends_bases_and_records_add_ons_then_payment_reactivates(env: Env) -> None:
    env.place_hold(C1)
    result = env.reconcile(C1)
    assert result.outcome is Outcome.CONVERGED and result.patches == 2
    for sub in (C1_BASE, C1_ADDON, C1_OTHER):
        assert env.status(C1, sub) == "suspended"
        rec = record(env, C1, sub)
        assert rec is not None and rec.state is SuspensionState.SUSPENDED_BY_US
        assert rec.status_before == "active" and rec.suspended_under_holds == ["non_payment"]
    assert record(env, C1, C1_ADDON).parent_subscription_id == C1_BASE  # type: ignore[union-attr]
    assert env.patches_applied(C1_ADDON) == []  # the add-on followed its base

    env.lift_hold(C1)
    assert env.reconcile(C1).outcome is Outcome.CONVERGED
    for sub in (C1_BASE, C1_ADDON, C1_OTHER):
        assert env.status(C1, sub) == "active"
        assert record(env, C1, sub).state is SuspensionState.REACTIVATED  # type: ignore[union-attr]
    # suspend, reactivate, then auto-renew back on (new commerce: the suspension turned it off)
    assert env.status_patches(C1_BASE) == ["suspended", "active"]
    assert env.status_patches(C1_OTHER) == ["suspended", "active"]


def test_subscription_suspended_by_someone_else_stays_suspended_after_payment(env: Env) -> None:
    env.place_hold(C3)
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert record(env, C3, C3_SUSPENDED_ELSEWHERE) is None
    env.lift_hold(C3)
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "active"
    assert env.status(C3, C3_SUSPENDED_ELSEWHERE) == "suspended"
    assert env.patches_applied(C3_SUSPENDED_ELSEWHERE) == []


def test_duplicate_and_out_of_order_messages_are_harmless(env: Env) -> None:
    env.place_hold(C1)
    for _ in range(3):
        env.enqueue(C1)
    env.drain()
    env.lift_hold(C1)
    env.enqueue(C1)
    env.enqueue(C1)
    env.drain()
    # a late "suspend" message (its hold already lifted) changes nothing
    env.enqueue(C1)
    env.drain()
    assert env.status(C1, C1_BASE) == "active" and env.status(C1, C1_OTHER) == "active"
    assert env.status_patches(C1_BASE) == ["suspended", "active"]
    assert env.status_patches(C1_OTHER) == ["suspended", "active"]


def test_dry_run_records_what_it_would_call_and_patches_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    dry = env.deps.settings.model_copy(update={"enforcement_mode": EnforcementMode.DRY_RUN})
    env.deps = dataclasses.replace(env.deps, settings=dry)
    env.place_hold(C1)
    assert env.reconcile(C1).outcome is Outcome.DRY_RUN
    assert [c for c in env.sim.calls() if c["method"] == "PATCH"] == []
    assert record(env, C1, C1_BASE) is None
    actions = [r.action for r in env.deps.audit.read(C1).records]
    assert actions.count("dry_run.would_suspend") == 2


def test_response_lost_after_patch_then_next_attempt_patches_nothing(env: Env) -> None:
    env.place_hold(C1)
    # The PATCH is applied but its response, and those of both in-call retries, are lost.
    env.sim.add_fault("lose_response", method="PATCH", path=C1_BASE, times=3)
    first = env.reconcile(C1)
    assert first.outcome is Outcome.RESCHEDULED
    assert env.status(C1, C1_BASE) == "suspended"
    unknown = record(env, C1, C1_BASE)
    assert unknown is not None and unknown.state is SuspensionState.UNKNOWN  # waiting for a read
    assert unknown.pending is not None and unknown.pending.request_id == unknown.request_id
    env.drain()
    assert record(env, C1, C1_BASE).state is SuspensionState.SUSPENDED_BY_US  # type: ignore[union-attr]
    assert len(env.patches_applied(C1_BASE)) == 1
    request_ids = {
        c["request_id"] for c in env.sim.calls() if c["method"] == "PATCH" and C1_BASE in c["path"]
    }
    assert len(request_ids) == 1  # the retries reused the MS-RequestId; no second logical PATCH


def test_crash_after_patch_before_record_is_left_for_a_person_not_guessed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash after Partner Center answered and before the record: from the next run's side this
    looks exactly like someone else suspending it after our intent, so it is not guessed ours."""
    from shared.services.reconcile.outcomes import Outcomes

    env.place_hold(C3)

    def worker_dies(self: Outcomes, *_: object) -> None:
        raise RuntimeError("worker died")

    monkeypatch.setattr(Outcomes, "suspended", worker_dies)
    with pytest.raises(RuntimeError):
        env.reconcile(C3)
    monkeypatch.undo()
    assert env.status(C3, C3_ACTIVE) == "suspended"
    result = env.reconcile(C3, delivery=2)
    assert result.outcome is Outcome.CONVERGED and result.patches == 0
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.UNDECIDED  # type: ignore[union-attr]
    assert len(env.patches_applied(C3_ACTIVE)) == 1
    env.lift_hold(C3)
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"  # never reactivated on a guess


def test_hold_lifted_while_suspension_in_flight_ends_active(env: Env) -> None:
    env.place_hold(C3)
    env.sim.add_fault("latency", method="PATCH", seconds=1.0, times=1)
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(env.reconcile(C3)))
    worker.start()
    deadline = time.monotonic() + 10
    while not any(c["method"] == "PATCH" for c in env.sim.calls()) and time.monotonic() < deadline:
        time.sleep(0.02)
    env.lift_hold(C3)  # the payment arrives while the PATCH is in flight
    worker.join(timeout=30)
    assert outcome and outcome[0].outcome is Outcome.CONVERGED  # type: ignore[attr-defined]
    assert env.status(C3, C3_ACTIVE) == "active"
    assert env.status(C3, C3_SUSPENDED_ELSEWHERE) == "suspended"
