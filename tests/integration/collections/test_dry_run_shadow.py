"""Dry run shows the real plan: one ledger and clock path run in both modes gives the same
actions on the same dates (the shadow's would-be actions = enforce's actions), across a weekend,
the Spring Festival holidays and a missed-scan gap; switching to enforce starts from the real
state and reconciles held customers at once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared import runtime
from shared.adapters.customers import CustomerRepository
from shared.services.collections import controls, customer_view, ledger
from shared.services.collections import scan as collections
from tests.actors import TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer, payment

DUE = date(2026, 1, 26)  # a Monday: reminder 29 Jan, warning 5 Feb, suspension day 15 Feb (holiday)
GAP = (date(2026, 1, 28), date(2026, 2, 8))  # no scan ran on these days (an outage)
PAID_ON = date(2026, 2, 26)


def _moment(day: date, hour: int) -> datetime:
    """`hour` o'clock in Shanghai on `day`, as UTC."""
    return datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=UTC)


def _use_mode(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setenv("ENFORCEMENT_MODE", mode)
    monkeypatch.setenv("TABLE_PREFIX", "t" + uuid.uuid4().hex[:10])
    runtime.reset()


def _run_path(env: Env, customer_id: str, *, deliver: bool) -> None:
    """The same days for both modes: scans at 08:00 (window closed) and 10:00, daily, but for
    the outage; a payment clears the balance on PAID_ON."""
    day = DUE
    while day <= date(2026, 3, 2):
        if not GAP[0] <= day <= GAP[1]:
            for hour in (8, 10):
                env.clock.set(_moment(day, hour))
                collections.run_scan(deps())
                if deliver:
                    env.notices()
                else:
                    assert env.published_notices() == []  # dry run sends nothing
        if day == PAID_ON:
            env.clock.set(_moment(day, 11))
            ledger.post_payment(
                deps(), payment(customer_id, "p1", "1000"), actor=TEST_ACTOR, correlation_id="c"
            )
        day += timedelta(days=1)


_ENFORCED = {"hold.placed": "place_hold", "hold.lifted": "lift_hold"}


def _actions(customer_id: str, *, shadow: bool) -> list[tuple[str, str, str]]:
    """(local time, action, stage) of what was done (enforce) or would have been (dry run)."""
    out = []
    for entry in reversed(customer_view.audit_trail(deps(), customer_id)["entries"]):
        action, details = entry["action"], entry["details"]
        at = datetime.fromisoformat(entry["at"]).astimezone(UTC) + timedelta(hours=8)
        if (
            shadow
            and action.startswith("would.")
            and action[6:] in ("send_notice", "place_hold", "lift_hold")
        ):
            stage = details["stage"] if action == "would.send_notice" else ""
            out.append((f"{at:%Y-%m-%d %H:%M}", action[6:], stage))
        elif not shadow and action == "notice.send_notice":
            out.append((f"{at:%Y-%m-%d %H:%M}", "send_notice", details["notice_id"].split(":")[1]))
        elif not shadow and action in _ENFORCED:
            out.append((f"{at:%Y-%m-%d %H:%M}", _ENFORCED[action], ""))
    # a hold and its notice are one decision: compare them as a set per moment
    return sorted(out)


def _named_dates(customer_id: str, *, shadow: bool) -> list[str]:
    entries = customer_view.audit_trail(deps(), customer_id)["entries"]
    if shadow:
        return sorted(
            e["details"]["suspension_date"]
            for e in entries
            if e["action"] == "would.send_notice" and e["details"]["stage"] == "warning"
        )
    aggregate = CustomerRepository.of(runtime.table_store()).load(customer_id)
    return sorted(
        str(n.value.content.suspension_date) for n in aggregate.notices.values() if n.value.stage == "warning"
    )


def _one_mode(env: Env, monkeypatch: pytest.MonkeyPatch, mode: str) -> dict[str, Any]:
    _use_mode(monkeypatch, mode)
    env.clock.set(_moment(DUE - timedelta(days=5), 10))
    cid = new_customer()
    ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    _run_path(env, cid, deliver=mode == "enforce")
    shadow = mode == "dry_run"
    return {"actions": _actions(cid, shadow=shadow), "named": _named_dates(cid, shadow=shadow), "cid": cid}


def test_the_shadow_does_what_enforce_does_on_the_same_dates(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    enforced = _one_mode(env, monkeypatch, "enforce")
    shadowed = _one_mode(env, monkeypatch, "dry_run")
    assert enforced["actions"] == shadowed["actions"]
    # What the path is: the outage skipped the reminder day and the warning day, so only the
    # warning goes out (catch-up) on Monday 9 Feb; the suspension day and the notice period end
    # in the Spring Festival holidays, so the hold waits for the first working day after them.
    assert enforced["actions"] == [
        ("2026-02-09 10:00", "send_notice", "warning"),
        ("2026-02-24 10:00", "place_hold", ""),
        ("2026-02-24 10:00", "send_notice", "suspension"),
        ("2026-02-26 11:00", "lift_hold", ""),
    ]
    assert enforced["named"] == shadowed["named"] == ["2026-02-24"]


def test_the_customer_view_shows_the_would_be_plan_in_dry_run(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_mode(monkeypatch, "dry_run")
    env.clock.set(_moment(DUE, 10))
    cid = new_customer()
    ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    for day in (date(2026, 2, 5), date(2026, 2, 24)):
        env.clock.set(_moment(day, 10))
        collections.run_scan(deps())
        view = customer_view.customer_view(deps(), cid)
        if day == date(2026, 2, 5):
            assert view.stage == "warning" and view.holds == []
            assert view.planned_suspension_on == date(2026, 2, 24)
        else:
            assert view.stage == "suspension" and view.holds == []  # no real hold
    assert view.dry_run is not None and view.dry_run.would_be_hold_placed_at == _moment(date(2026, 2, 24), 10)
    assert [n.stage for n in view.dry_run.notices] == ["warning", "suspension"]
    # the real state was never touched
    record = CustomerRepository.of(runtime.table_store()).get_record(cid)
    assert record is None or record.value.state.episode_id is None


def test_switching_to_enforce_starts_from_the_real_state_and_reconciles_held_customers_at_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_mode(monkeypatch, "dry_run")
    env.clock.set(_moment(DUE, 10))
    overdue = new_customer()
    ledger.post_invoice(deps(), invoice(overdue, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    held = new_customer()
    controls.place_manual_hold(
        deps(), held, controls.ManualHoldIn(reason="checking"), actor=TEST_ACTOR, correlation_id="c"
    )
    for day in (date(2026, 1, 29), date(2026, 2, 5), date(2026, 2, 24)):
        env.clock.set(_moment(day, 10))
        collections.run_scan(deps())
    assert env.reconciles() == [] and env.published_notices() == []
    # The switch: the next scan (an hour later) sees ENFORCEMENT_MODE=enforce.
    monkeypatch.setenv("ENFORCEMENT_MODE", "enforce")
    runtime.reset()
    env.clock.set(_moment(date(2026, 2, 24), 11))
    collections.run_scan(deps())
    reconciled = {m["customer_id"]: m["reason"] for m in env.reconciles()}
    assert reconciled == {held: "enforcement switched on"}  # the manual hold, now, not at the sweep
    # The overdue customer starts from its real state: a real warning now, no hold before the
    # notice period (the shadow's suspension of today is not copied).
    notices = env.notices()
    assert [n["notice_id"].split(":")[1] for n in notices if n["customer_id"] == overdue] == ["warning"]
    view = customer_view.customer_view(deps(), overdue)
    assert view.holds == [] and view.stage == "warning"
    assert view.planned_suspension_on == date(2026, 3, 3)  # 24 Feb + 7 days -> Tuesday 3 March
    entries = customer_view.audit_trail(deps(), overdue)["entries"]
    assert "hold.placed" not in [e["action"] for e in entries]
