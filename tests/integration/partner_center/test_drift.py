"""The drift sweep against real Azurite and the simulator."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
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


def test_a_sweep_under_30_percent_5xx_finishes_and_enqueues_every_drifted_customer(env: Env) -> None:
    from tests.integration.partner_center.test_reconcile_faults import tenant

    env.sim.reset(tenant(24, 2))
    env.sim.set_rate_limit(10_000)
    customers = [c["id"] for c in env.sim.state()["customers"]]
    for cid in customers[:16]:  # held, never reconciled: drifted
        env.place_hold(cid)
    env.sim.add_fault("status", method="GET", status=503, rate=0.3)
    env.sim.add_fault("drop", method="GET", rate=0.05)
    report = sweep_with(env)
    assert report.checked == 16
    assert set(queued_all(env)) == set(customers[:16])  # drifted or not checked: all enqueued
    assert set(report.drifted) | set(report.failed) == set(customers[:16])
    assert report.failed, "the faults did not bite"
    entry = AuditLog(env.table).read(PARTNER_PARTITION).records[0]
    assert entry.action == "drift.sweep" and entry.details["failed"] == report.failed


def test_a_sweep_whose_failures_pass_the_threshold_alerts(env: Env) -> None:
    for cid in (C1, C3):
        env.place_hold(cid)
    env.sim.add_fault("status", method="GET", status=400, code=765432)  # every listing refused
    strict = dataclasses.replace(
        env.deps, settings=env.deps.settings.model_copy(update={"drift_alert_failures": 2})
    )
    report = run_drift_sweep(strict)
    assert report.failed == [C1, C3] and report.failures == {"unrecognised": 2}
    actions = [r.action for r in AuditLog(env.table).read(PARTNER_PARTITION).records]
    assert actions[:2] == ["alert.drift_sweep_failures", "drift.sweep"]


def test_the_sweep_logs_a_partner_center_error_without_colliding_keys(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.place_hold(C1)
    env.sim.add_fault("status", method="GET", status=403, code=900115)
    with caplog.at_level(logging.WARNING, logger="shared.services.reconcile.drift"):
        report = run_drift_sweep(env.deps)
    assert report.failed == [C1]
    (line,) = [r for r in caplog.records if r.getMessage() == "drift: customer not checked"]
    assert line.error_code == 900115 and line.http_status == 403  # type: ignore[attr-defined]
    logging.Formatter("%(message)s %(error_description)s").format(line)


def sweep_with(env: Env):  # type: ignore[no-untyped-def]
    return run_drift_sweep(env.deps)


def queued_all(env: Env) -> list[str]:
    found: list[str] = []
    while batch := list(env.queue.receive_messages(max_messages=32, visibility_timeout=30)):
        found += [json.loads(base64.b64decode(m.content))["customer_id"] for m in batch]
    return found


def test_a_tenant_partner_center_does_not_know_is_not_counted_as_a_failure(env: Env) -> None:
    import uuid

    stranger = str(uuid.uuid4())
    env.place_hold(stranger)
    strict = dataclasses.replace(
        env.deps, settings=env.deps.settings.model_copy(update={"drift_alert_failures": 1})
    )
    report = run_drift_sweep(strict)
    assert report.unknown_tenants == [stranger] and report.failed == []
    assert queued(env) == [stranger]  # the executor records its status (and alerts, once)
    assert [r.action for r in AuditLog(env.table).read(PARTNER_PARTITION).records] == ["drift.sweep"]
