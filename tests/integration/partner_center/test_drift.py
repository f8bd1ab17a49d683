"""The drift sweep against real Azurite and the simulator."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime

import pytest

from shared.adapters.audit import AuditLog
from shared.adapters.layout import PARTNER_PARTITION
from shared.services.reconcile.drift import candidate_customers, run_drift_sweep
from tests.integration.partner_center.conftest import C1, C1_BASE, C2, C3, C3_ACTIVE, Env


@pytest.fixture
def sweep(env: Env):  # type: ignore[no-untyped-def]
    return lambda: run_drift_sweep(env.deps)


def queued(env: Env) -> list[str]:
    return [
        json.loads(base64.b64decode(m.content))["customer_id"]
        for m in env.queue.peek_messages(max_messages=32)
    ]


def test_only_held_or_enforced_customers_are_checked_and_drift_is_enqueued(env: Env, sweep) -> None:  # type: ignore[no-untyped-def]
    env.place_hold(C1)
    env.place_hold(C3)
    env.reconcile(C3)  # C3 converged; C1 not yet: drifted
    assert candidate_customers(env.table, datetime.now(UTC), 7) == [C1, C3]
    report = sweep()
    assert report.checked == 2 and report.drifted == [C1]
    assert queued(env) == [C1]
    entry = AuditLog(env.table).read(PARTNER_PARTITION).records[0]
    assert entry.action == "drift.sweep" and entry.details["drifted"] == [C1]


def test_reactivated_by_hand_while_held_is_drift(env: Env, sweep) -> None:  # type: ignore[no-untyped-def]
    env.place_hold(C1)
    env.reconcile(C1)
    env.sim.set_subscription_status(C1, C1_BASE, "active", "")
    assert sweep().drifted == [C1]
    env.drain()
    assert env.status(C1, C1_BASE) == "suspended"


def test_suspended_by_us_after_the_hold_is_gone_is_drift_but_others_are_not(env: Env, sweep) -> None:  # type: ignore[no-untyped-def]
    env.place_hold(C3)
    env.reconcile(C3)
    env.lift_hold(C3)  # ... and the reconcile message was lost
    report = sweep()
    assert report.drifted == [C3] and C2 not in report.drifted
    env.drain()
    assert env.status(C3, C3_ACTIVE) == "active"
    assert sweep().drifted == []  # closed in the lookback: looked at, nothing to do
    nothing_left = dataclasses.replace(
        env.deps, settings=env.deps.settings.model_copy(update={"drift_lookback_days": 0})
    )
    assert run_drift_sweep(nothing_left).checked == 0  # no hold, nothing open: not even looked at


def test_out_of_time_the_rest_is_enqueued_unchecked_and_the_sweep_still_recorded(env: Env) -> None:
    env.place_hold(C1)
    env.place_hold(C3)
    report = run_drift_sweep(env.deps, time_budget_seconds=0)
    assert report.checked == 0 and report.not_checked == [C1, C3]
    assert sorted(queued(env)) == [C1, C3]
    assert not [c for c in env.sim.calls() if c["method"] == "GET"]  # nothing listed
    entry = AuditLog(env.table).read(PARTNER_PARTITION).records[0]
    assert entry.action == "drift.sweep" and entry.details["not_checked"] == 2
