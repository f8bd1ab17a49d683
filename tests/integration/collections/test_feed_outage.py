"""A payments-feed outage: warnings are capped like suspensions (the rest wait in the scan's batch
for approval, with an alert), and a feed that posts invoices but no payments raises an alert and
makes /api/health degraded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared import wiring
from shared.services.collections import alerts, approvals, ledger
from shared.services.collections import scan as collections
from shared.services.health import health_report
from tests.actors import BOB, TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer, payment

DUE = date(2026, 3, 2)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=UTC)


def test_warnings_beyond_the_policy_share_wait_for_approval_with_an_alert(env: Env) -> None:
    customers = [new_customer() for _ in range(30)]
    for cid in customers:
        ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    env.clock.set(_at(date(2026, 3, 5)))
    collections.run_scan(deps())
    assert len(env.notices()) == 30  # reminders are not capped
    env.clock.set(_at(date(2026, 3, 12)))
    report = collections.run_scan(deps())
    # 30 evaluated: max(10 always allowed, 50% = 15), at most 100 -> 15 warnings go out
    warned = [n["customer_id"] for n in env.notices()]
    assert len(warned) == 15 and len(report.warnings_held_back) == 15
    assert set(warned).isdisjoint(report.warnings_held_back)
    assert report.batch_id is not None
    batch = approvals.get_batch(deps(), report.batch_id)
    assert sorted(batch.customer_ids) == sorted(report.warnings_held_back)
    partner = [r.action for r in deps().customers.audit_log.read("_partner").records]
    assert "collections.cap_reached" in partner
    # the next scan does not send them either: they wait for a person
    env.clock.set(_at(date(2026, 3, 12), 11))
    collections.run_scan(deps())
    assert env.notices() == []
    released = approvals.release_batch(deps(), report.batch_id, actor=BOB, policy=deps().policy())
    assert all(r.startswith("send_notice:warning") for r in released.results.values()), released.results
    assert sorted(n["customer_id"] for n in env.notices()) == sorted(report.warnings_held_back)


def test_a_feed_with_invoices_and_no_payments_raises_an_alert_and_degrades_health(env: Env) -> None:
    cid = new_customer()
    env.clock.set(_at(date(2026, 3, 5)))
    ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    ledger.post_payment(deps(), payment(cid, "p1", "10"), actor=TEST_ACTOR, correlation_id="c")
    env.clock.set(_at(date(2026, 3, 10)))
    assert health_report(wiring.health_probes()).checks["payments_feed"].degraded is False
    env.clock.set(_at(date(2026, 3, 11)))
    ledger.post_invoice(
        deps(), invoice(cid, "i2", "500", date(2026, 4, 10)), actor=TEST_ACTOR, correlation_id="c"
    )
    env.clock.set(_at(date(2026, 3, 13)))  # Friday: Tue, Wed, Thu without a payment, invoices still coming
    report = health_report(wiring.health_probes())
    assert report.status == "degraded" and report.checks["payments_feed"].degraded
    assert "no payment was posted for 3 working days" in report.checks["payments_feed"].detail
    collections.run_scan(deps())
    assert [a["action"] for a in alerts.partner_alerts(deps())] == ["alert.payments_feed_quiet"]
    ledger.post_payment(deps(), payment(cid, "p2", "10"), actor=TEST_ACTOR, correlation_id="c")
    assert health_report(wiring.health_probes()).status == "ok"


def _seed_usual_days(days: int, per_day: int, until: date) -> None:
    """The scans of the `days` days before `until` each opened `per_day` overdue episodes."""
    from datetime import timedelta

    from shared.adapters.layout import PARTNER_PARTITION
    from shared.services.collections.feed import OVERDUE_PREFIX, OverdueDay

    table = deps().customers.table
    for n in range(1, days + 1):
        day = until - timedelta(days=n)
        table.upsert(OverdueDay(day=day, started=per_day), PARTNER_PARTITION, f"{OVERDUE_PREFIX}{day:%Y%m%d}")


def _overdue_on(due_day: date, customers: int) -> list[str]:
    """`customers` unpaid on `due_day`, and one other who paid (payments are still arriving, so
    the quiet-feed signal stays silent and only the overdue count speaks)."""
    ids = [new_customer() for _ in range(customers)]
    for cid in ids:
        ledger.post_invoice(deps(), invoice(cid, "i1", "1000", due_day), actor=TEST_ACTOR, correlation_id="c")
    payer = new_customer()
    ledger.post_invoice(deps(), invoice(payer, "i1", "10", due_day), actor=TEST_ACTOR, correlation_id="c")
    ledger.post_payment(deps(), payment(payer, "p1", "10"), actor=TEST_ACTOR, correlation_id="c")
    return ids


def test_many_more_customers_falling_overdue_than_usual_raises_an_alert_and_degrades_health(env: Env) -> None:
    _seed_usual_days(10, 2, date(2026, 3, 3))  # 2 customers a day usually fall overdue
    _overdue_on(DUE, 24)
    env.clock.set(_at(date(2026, 3, 3)))
    report = collections.run_scan(deps())
    assert report.episodes_started == 24
    assert "alert.overdue_jump" in [a["action"] for a in alerts.partner_alerts(deps())]
    health = health_report(wiring.health_probes())
    assert health.checks["payments_feed"].degraded
    assert "24 customers fell overdue today" in health.checks["payments_feed"].detail


def test_a_usual_day_and_a_new_installation_raise_no_overdue_alert(env: Env) -> None:
    _overdue_on(DUE, 24)  # no history yet: a first rollout imports many overdue customers at once
    env.clock.set(_at(date(2026, 3, 3)))
    assert collections.run_scan(deps()).episodes_started == 24
    assert "alert.overdue_jump" not in [a["action"] for a in alerts.partner_alerts(deps())]
    _seed_usual_days(10, 10, date(2026, 3, 4))  # then a history where ~10 a day is usual
    _overdue_on(date(2026, 3, 3), 12)
    env.clock.set(_at(date(2026, 3, 4)))
    assert collections.run_scan(deps()).episodes_started == 12
    assert "alert.overdue_jump" not in [a["action"] for a in alerts.partner_alerts(deps())]
    assert not health_report(wiring.health_probes()).checks["payments_feed"].degraded
