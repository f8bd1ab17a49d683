"""Principle 2 under races: the executor never reactivates a subscription someone else
suspended, including one it suspended itself that someone else suspended again since, one
suspended by someone else between the listing and the PATCH, and one whose suspension by this
app was refused (its intent record must not survive)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.adapters.layout import subscription_row
from shared.domain.suspensions import SuspensionRecord, SuspensionState
from shared.services.reconcile.common import ReconcileOutcome as Outcome
from tests.integration.partner_center.conftest import C1, C1_ADDON, C1_BASE, C3, C3_ACTIVE, Env


def record(env: Env, customer_id: str, subscription_id: str) -> SuspensionRecord | None:
    stored = env.table.get(SuspensionRecord, customer_id, subscription_row(subscription_id))
    return stored.value if stored else None


def actions(env: Env, customer_id: str) -> list[str]:
    return [r.action for r in env.deps.audit.read(customer_id).records]


def after_listing(env: Env, monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Run `change` (someone else, in the portal) right after the executor's next listing."""
    pc = env.deps.partner_center
    original = pc.list_subscriptions
    done: list[bool] = []

    def listing(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not done:
            done.append(True)
            change()
        return result

    monkeypatch.setattr(pc, "list_subscriptions", listing)


def test_ours_then_resuspended_by_someone_else_stays_suspended_after_payment(env: Env) -> None:
    env.place_hold(C3)
    env.reconcile(C3)
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.SUSPENDED_BY_US  # type: ignore[union-attr]
    # Reactivated by hand, then suspended again for another reason, before any reconcile ran.
    env.sim.set_subscription_status(C3, C3_ACTIVE, "active", "")
    env.sim.set_subscription_status(C3, C3_ACTIVE, "suspended", "Fraud")
    env.lift_hold(C3)
    assert env.reconcile(C3).outcome is Outcome.CONVERGED
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert len(env.patches_applied(C3_ACTIVE)) == 1  # our suspension only
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.RELEASED  # type: ignore[union-attr]
    assert "alert.suspension_left_alone" in actions(env, C3)


def test_resuspended_while_our_reactivation_is_in_flight_is_not_retried(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.place_hold(C3)
    env.reconcile(C3)
    env.lift_hold(C3)

    def resuspend() -> None:
        env.sim.set_subscription_status(C3, C3_ACTIVE, "active", "")
        env.sim.set_subscription_status(C3, C3_ACTIVE, "suspended", "Fraud")

    after_listing(env, monkeypatch, resuspend)
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert len(env.patches_applied(C3_ACTIVE)) == 1
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.RELEASED  # type: ignore[union-attr]


def test_suspended_by_someone_else_between_listing_and_patch_is_not_ours(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.place_hold(C3)
    after_listing(
        env, monkeypatch, lambda: env.sim.set_subscription_status(C3, C3_ACTIVE, "suspended", "Fraud")
    )
    assert env.reconcile(C3).outcome is Outcome.CONVERGED
    assert "alert.suspension_left_alone" in actions(env, C3)
    monkeypatch.undo()
    env.lift_hold(C3)
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert env.patches_applied(C3_ACTIVE) == []
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.RELEASED  # type: ignore[union-attr]


def test_a_refused_suspension_leaves_no_intent_that_could_later_reactivate_anything(env: Env) -> None:
    env.place_hold(C3)
    env.sim.renewal_window(C3_ACTIVE)
    assert env.reconcile(C3).outcome is Outcome.RESCHEDULED
    env.sim.clear_faults()
    env.sim.set_subscription_status(C3, C3_ACTIVE, "suspended", "Fraud")  # someone else, meanwhile
    env.lift_hold(C3)
    env.drain()
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert env.patches_applied(C3_ACTIVE) == []
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.RELEASED  # type: ignore[union-attr]


def test_an_add_on_someone_else_suspended_again_stays_suspended_when_the_base_is_reactivated(
    env: Env,
) -> None:
    env.place_hold(C1)
    env.reconcile(C1)
    env.sim.set_subscription_status(C1, C1_ADDON, "active", "")
    env.sim.set_subscription_status(C1, C1_ADDON, "suspended", "Fraud")
    env.lift_hold(C1)
    assert env.reconcile(C1).outcome is Outcome.CONVERGED
    assert env.status(C1, C1_BASE) == "active"
    assert env.status(C1, C1_ADDON) == "suspended"
    # not recorded as reactivated: released with an alert for a person to look at
    assert record(env, C1, C1_ADDON).state is SuspensionState.RELEASED  # type: ignore[union-attr]
    assert "alert.suspension_left_alone" in actions(env, C1)


def test_the_messages_correlation_id_reaches_every_partner_center_call_audit_entry_and_retry(
    env: Env,
) -> None:
    import base64
    import json

    from shared.adapters.partner_center.http import correlation_guid

    env.place_hold(C1)
    env.sim.renewal_window(C1_BASE, times=1)  # one subscription waits: a retry message follows
    body = env.request(C1, correlation_id="coll-scan-2026-11-25T02")
    from shared.services.reconcile.handler import handle_reconcile_message

    assert handle_reconcile_message(env.deps, body, 1).outcome is Outcome.RESCHEDULED
    calls = env.sim.calls()
    assert calls and {c["correlation_id"] for c in calls} == {correlation_guid("coll-scan-2026-11-25T02")}
    assert {r.correlation_id for r in env.deps.audit.read(C1).records} == {"coll-scan-2026-11-25T02"}
    deadline = time.monotonic() + 10
    retries: list[Any] = []
    while not retries and time.monotonic() < deadline:  # the retry is invisible for its delay
        retries = list(env.queue.receive_messages(visibility_timeout=1))
        time.sleep(0.2)
    assert retries, "no retry message"
    assert json.loads(base64.b64decode(retries[0].content))["correlation_id"] == "coll-scan-2026-11-25T02"


def test_the_lease_is_kept_through_every_call_of_a_slow_stale_etag_retry(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from shared import clock
    from shared.adapters.layout import RECONCILE_LEASE
    from shared.adapters.lease import LeaseTaken

    env.place_hold(C3)
    # someone else touches it after the listing: the PATCH meets a stale etag, re-reads, retries
    after_listing(env, monkeypatch, lambda: env.sim.set_subscription_status(C3, C3_ACTIVE, "active", ""))
    fixed = clock.FixedClock(datetime.now(UTC))
    previous = clock.set_clock(fixed)
    ttl = timedelta(seconds=env.deps.settings.reconcile_lease_seconds)
    pc = env.deps.partner_center
    rivals: list[object] = []

    def slow(original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            finally:
                fixed.advance(ttl * 0.4)  # each call takes a good part of the lease
                rivals.append(env.deps.leases.acquire(C3, RECONCILE_LEASE, ttl, holder="rival"))

        return call

    monkeypatch.setattr(pc, "set_status", slow(pc.set_status))
    monkeypatch.setattr(pc, "get_subscription", slow(pc.get_subscription))
    try:
        assert env.reconcile(C3).outcome is Outcome.CONVERGED
    finally:
        clock.set_clock(previous)
    assert len(rivals) == 3 and all(isinstance(r, LeaseTaken) for r in rivals)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.SUSPENDED_BY_US  # type: ignore[union-attr]
