"""The demo ledger seed: the three demo customers, idempotent."""

from __future__ import annotations

from shared.services import ledger
from tests.integration.collections.conftest import Env
from tools import demo_ledger


def test_demo_seed_is_idempotent_and_shapes_the_demo(env: Env) -> None:
    demo_ledger.seed()
    demo_ledger.seed()
    first = ledger.customer_view("11111111-1111-4111-8111-111111111111")
    paid = ledger.customer_view("22222222-2222-4222-8222-222222222222")
    third = ledger.customer_view("33333333-3333-4333-8333-333333333333")
    assert first.overdue_balance == "12800.00 CNY" and first.days_past_due == 25
    assert paid.balance == "0 CNY" and paid.overdue_balance == "0 CNY"
    assert third.overdue_balance == "5400.00 CNY"
    assert first.profile.locale == "zh-CN" and paid.profile.locale == "en"
    entries = ledger.audit_trail("11111111-1111-4111-8111-111111111111")["entries"]
    assert sum(e["action"] == "ledger.invoice_added" for e in entries) == 1
