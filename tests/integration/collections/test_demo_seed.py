"""The demo ledger seed: the three demo customers with their history, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.services.collections import customer_view
from tests.integration.collections.conftest import Env, deps
from tools import demo_ledger

FIRST = "11111111-1111-4111-8111-111111111111"
PAID = "22222222-2222-4222-8222-222222222222"
THIRD = "33333333-3333-4333-8333-333333333333"


# A Wednesday with no public holiday in the 35 days before it (the Chinese New Year of the
# fixture's March date would rightly delay the warning, and with it the suspension).
TODAY = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_demo_seed_replays_history_so_the_demo_shows_a_suspension(env: Env) -> None:
    env.clock.set(TODAY)
    demo_ledger.seed_with_history()
    first = customer_view.customer_view(deps(), FIRST)
    paid = customer_view.customer_view(deps(), PAID)
    third = customer_view.customer_view(deps(), THIRD)
    assert first.overdue_balance == "12800.00 CNY" and first.days_past_due == 25
    assert paid.balance == "0.00 CNY" and paid.overdue_balance == "0.00 CNY"
    assert third.overdue_balance == "5400.00 CNY"
    assert first.profile.locale == "zh-CN" and paid.profile.locale == "en"
    # 25 days overdue: reminder and warning sent in the replayed weeks, notice period over, held.
    actions = [e["action"] for e in customer_view.audit_trail(deps(), FIRST)["entries"]]
    assert "notice.send_notice" in actions and "hold.placed" in actions
    assert [h.reason for h in first.holds] == ["non_payment"]
    assert any(m["customer_id"] == FIRST for m in env.reconciles())  # waiting for the executor
    # 12 days overdue: warned, not yet suspended; the paid customer is left alone.
    assert third.holds == [] and paid.holds == []


def test_demo_seed_is_idempotent(env: Env) -> None:
    env.clock.set(TODAY)
    demo_ledger.seed_with_history()
    before = customer_view.audit_trail(deps(), FIRST)["entries"]
    env.reconciles()
    demo_ledger.seed_with_history()
    assert customer_view.audit_trail(deps(), FIRST)["entries"] == before
    assert env.reconciles() == []
    assert sum(e["action"] == "ledger.invoice_added" for e in before) == 1
