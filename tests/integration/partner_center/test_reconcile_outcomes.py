"""Per-subscription outcomes on the real simulator and Azurite: one refusal never blocks the rest,
each kind of documented error is acted on as classified, auto-renew comes back, and a tenant
Partner Center does not know is one status and one alert."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared import clock
from shared.adapters.layout import subscription_row
from shared.domain.enforcement import ENFORCEMENT_ROW, EnforcementSnapshot, EnforcementState, RunOutcome
from shared.domain.suspensions import SuspensionRecord, SuspensionState
from shared.services.reconcile.common import ReconcileOutcome as Outcome
from tests.integration.partner_center.conftest import (
    C1,
    C1_ADDON,
    C1_BASE,
    C1_OTHER,
    C3,
    C3_ACTIVE,
    Env,
)


def record(env: Env, customer_id: str, subscription_id: str) -> SuspensionRecord:
    stored = env.table.get(SuspensionRecord, customer_id, subscription_row(subscription_id))
    assert stored is not None, f"no record of {subscription_id}"
    return stored.value


def snapshot(env: Env, customer_id: str) -> EnforcementSnapshot:
    stored = env.table.get(EnforcementSnapshot, customer_id, ENFORCEMENT_ROW)
    assert stored is not None, "no enforcement snapshot"
    return stored.value


def actions(env: Env, customer_id: str) -> list[str]:
    return [r.action for r in env.deps.audit.read(customer_id).records]


@pytest.mark.parametrize(
    ("code", "status"), [(900115, 403), (800096, 400)], ids=["azure-plan", "not-updatable"]
)
def test_one_refused_subscription_never_stops_the_others_and_is_recorded_and_alerted_once(
    env: Env, code: int, status: int
) -> None:
    env.place_hold(C1)
    env.sim.refuse(C1_OTHER, code=code)
    for delivery in range(1, 6):  # five deliveries, as the field report measured
        assert env.reconcile(C1, delivery=delivery).outcome is Outcome.CONVERGED
    assert env.status(C1, C1_BASE) == env.status(C1, C1_ADDON) == "suspended"
    assert env.status(C1, C1_OTHER) == "active"
    refused = record(env, C1, C1_OTHER)
    assert refused.state is SuspensionState.REFUSED and refused.refusal is not None
    assert refused.refusal.code == str(code) and refused.refusal.http_status == status
    assert refused.refusal.description and refused.refusal.at
    patches = [c for c in env.sim.calls() if c["method"] == "PATCH" and C1_OTHER in c["path"]]
    assert len(patches) == 1  # not retried
    assert actions(env, C1).count("alert.subscription_refused") == 1
    assert "alert.reconcile_failed" not in actions(env, C1)
    states = {s.subscription_id: s for s in snapshot(env, C1).subscriptions}
    assert states[C1_BASE].state is EnforcementState.SUSPENDED_BY_US
    assert states[C1_ADDON].state is EnforcementState.SUSPENDED_BY_US
    assert states[C1_OTHER].state is EnforcementState.REFUSED and states[C1_OTHER].code == str(code)
    # the hold lifted and placed again: a new episode tries once more
    env.lift_hold(C1)
    env.reconcile(C1)
    assert record(env, C1, C1_OTHER).state is SuspensionState.RELEASED
    env.sim.clear_faults()
    env.place_hold(C1)
    env.reconcile(C1)
    assert env.status(C1, C1_OTHER) == "suspended"


def test_a_pending_operation_waits_24_hours_without_using_attempts(env: Env) -> None:
    env.place_hold(C3)
    env.sim.refuse(C3_ACTIVE, code=900278)
    result = env.reconcile(C3)
    assert result.outcome is Outcome.RESCHEDULED and result.delay_seconds == 24 * 3600
    waiting = record(env, C3, C3_ACTIVE)
    assert waiting.state is SuspensionState.WAITING and waiting.waiting and waiting.waiting.code == "900278"
    assert "reconcile.suspend_waiting" in actions(env, C3)


def test_the_renewal_window_is_retried_until_its_budget_then_counts_as_refused(env: Env) -> None:
    fixed = clock.FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    env.deps = dataclasses.replace(env.deps, clock=fixed)
    env.place_hold(C3)
    env.sim.renewal_window(C3_ACTIVE)
    first = env.reconcile(C3)
    assert first.outcome is Outcome.RESCHEDULED and first.delay_seconds == 1  # the setting (2 min default)
    started = record(env, C3, C3_ACTIVE).waiting
    assert started is not None
    fixed.advance(timedelta(hours=23))
    env.reconcile(C3)
    assert record(env, C3, C3_ACTIVE).waiting.since == started.since  # type: ignore[union-attr]
    fixed.advance(timedelta(hours=1, minutes=1))
    assert env.reconcile(C3).outcome is Outcome.CONVERGED
    gave_up = record(env, C3, C3_ACTIVE)
    assert gave_up.state is SuspensionState.REFUSED and gave_up.refusal and gave_up.refusal.kind == "gave_up"
    assert actions(env, C3).count("alert.subscription_refused") == 1


def test_a_child_that_cannot_be_enabled_is_a_refusal_not_a_timing_problem(env: Env) -> None:
    env.place_hold(C3)
    env.sim.refuse(C3_ACTIVE, code=27009)
    assert env.reconcile(C3).outcome is Outcome.CONVERGED  # no reschedule for a 409 of this kind
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.REFUSED


def test_an_unrecognised_code_is_not_repeated_and_alerts_naming_it(env: Env) -> None:
    env.place_hold(C3)
    env.sim.refuse(C3_ACTIVE, code=765432, status=400)
    env.reconcile(C3)
    env.reconcile(C3)
    held_back = record(env, C3, C3_ACTIVE)
    assert held_back.state is SuspensionState.REFUSED and held_back.refusal
    assert held_back.refusal.kind == "unrecognised" and held_back.refusal.code == "765432"
    alerts = [
        r for r in env.deps.audit.read(C3).records if r.action == "alert.partner_center_unrecognised_error"
    ]
    assert len(alerts) == 1 and "765432" in str(alerts[0].details)
    assert len([c for c in env.sim.calls() if c["method"] == "PATCH"]) == 1


def test_our_token_refused_reschedules_with_one_alert_and_leaves_no_intent(env: Env) -> None:
    env.place_hold(C3)
    env.sim.add_fault("status", method="PATCH", status=403, code=900309, times=1)  # conditional access
    result = env.reconcile(C3)
    assert result.outcome is Outcome.RESCHEDULED
    assert env.table.get(SuspensionRecord, C3, subscription_row(C3_ACTIVE)).value.state is (  # type: ignore[union-attr]
        SuspensionState.RELEASED
    )
    env.sim.add_fault("status", method="GET", status=401, code=800001, times=1)
    assert env.reconcile(C3).outcome is Outcome.RESCHEDULED
    assert actions(env, C3).count("alert.partner_center_token_refused") == 1
    assert env.reconcile(C3).outcome is Outcome.CONVERGED
    assert env.status(C3, C3_ACTIVE) == "suspended"


def test_a_tenant_partner_center_does_not_know_is_one_status_and_one_alert(env: Env) -> None:
    stranger = str(uuid.uuid4())
    env.place_hold(stranger, "fraud-case")
    for delivery in range(1, 6):
        assert env.reconcile(stranger, delivery=delivery).outcome is Outcome.CUSTOMER_UNKNOWN  # never raises
    assert actions(env, stranger).count("alert.customer_unknown_at_partner_center") == 1
    assert snapshot(env, stranger).outcome is RunOutcome.CUSTOMER_UNKNOWN
    assert env.pending_messages() == 0  # nothing rescheduled: the daily sweep comes back


def test_a_new_commerce_reactivation_turns_auto_renew_back_on_confirmed_by_a_read(env: Env) -> None:
    env.place_hold(C1)
    env.reconcile(C1)
    assert env.sim.subscription(C1, C1_BASE)["autoRenewEnabled"] is False  # the suspension turned it off
    assert record(env, C1, C1_BASE).auto_renew_before is True
    env.sim.clear_calls()
    env.lift_hold(C1)
    assert env.reconcile(C1).outcome is Outcome.CONVERGED
    for sub in (C1_BASE, C1_ADDON, C1_OTHER):
        assert env.sim.subscription(C1, sub)["autoRenewEnabled"] is True, sub
        assert record(env, C1, sub).auto_renew_restored
    calls = [(c["method"], c["path"].rsplit("/", 1)[-1]) for c in env.sim.calls()]
    turned_on = next(
        i
        for i, c in enumerate(env.sim.calls())
        if c["method"] == "PATCH" and (c["body"] or {}).get("autoRenewEnabled") is True
    )
    assert ("GET", calls[turned_on][1]) in calls[turned_on + 1 :]  # confirmed by a read
    assert "pc.auto_renew_restored" in actions(env, C1)


def test_auto_renew_that_was_off_stays_off_and_legacy_needs_nothing(env: Env) -> None:
    seed = env.sim.state()
    for customer in seed["customers"]:
        for sub in customer["subscriptions"]:
            if sub["id"] == C1_OTHER:
                sub["autoRenewEnabled"] = False
    env.sim.reset({"customers": seed["customers"], "fraudEvents": seed["fraudEvents"]})
    env.sim.set_rate_limit(10_000)
    for customer_id in (C1, C3):
        env.place_hold(customer_id)
        env.reconcile(customer_id)
        env.lift_hold(customer_id)
        env.reconcile(customer_id)
    assert env.sim.subscription(C1, C1_OTHER)["autoRenewEnabled"] is False
    assert env.sim.subscription(C3, C3_ACTIVE)["autoRenewEnabled"] is True  # legacy: never turned off
    assert env.status_patches(C3_ACTIVE) == ["suspended", "active"]
    assert len(env.patches_applied(C3_ACTIVE)) == 2  # no auto-renew PATCH


def test_add_ons_that_do_not_come_back_with_their_base_are_reactivated_when_ours(env: Env) -> None:
    env.sim.set_addons_follow_reactivation(False)
    env.place_hold(C1)
    env.reconcile(C1)
    env.lift_hold(C1)
    assert env.reconcile(C1).outcome is Outcome.CONVERGED
    assert env.status(C1, C1_BASE) == env.status(C1, C1_ADDON) == "active"
    assert env.status_patches(C1_ADDON) == ["active"]  # patched on its own, after its base
    assert record(env, C1, C1_ADDON).state is SuspensionState.REACTIVATED
    assert env.sim.subscription(C1, C1_ADDON)["autoRenewEnabled"] is True
