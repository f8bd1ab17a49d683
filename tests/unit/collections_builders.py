"""Builders for the collections policy and evaluation unit tests (pure data, no I/O)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain.collections import InvoiceRef, LedgerSummary
from shared.domain.customer import CustomerProfile, Exemption, ExemptionKind
from shared.domain.holds import NON_PAYMENT_HOLD_ID, Hold, HoldReason
from shared.domain.money import Money
from shared.domain.policy import Policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
CUSTOMER_ID = "11111111-1111-4111-8111-111111111111"

BASE_POLICY: dict[str, Any] = {
    "time_zone": "Asia/Shanghai",
    "protected_customers": [],
    "defaults": {
        "min_notice_days": 7,
        "minimum_overdue_balance": {"CNY": "100.00", "USD": "15.00"},
        "stages": [
            {"action": "reminder", "days_past_due": 3},
            {"action": "warning", "days_past_due": 10},
            {"action": "suspension", "days_past_due": 20},
            {"action": "escalation", "days_past_due": 45},
        ],
    },
    "segments": {
        "enterprise": {
            "title": {"zh-CN": "企业客户", "en": "Enterprise customers"},
            "description": {"zh-CN": "更长的宽限期", "en": "longer grace"},
            "min_notice_days": 14,
            "minimum_overdue_balance": {"CNY": "1000.00"},
            "stages": [
                {"action": "reminder", "days_past_due": 7},
                {"action": "warning", "days_past_due": 21},
                {"action": "suspension", "days_past_due": 45},
                {"action": "escalation", "days_past_due": 75},
            ],
        }
    },
    "how_to_pay": {"zh-CN": "请转账至 工商银行 1001 2345。", "en": "Pay by bank transfer to ICBC 1001 2345."},
    "enforcement_window": {
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "opens": "09:00",
        "closes": "17:00",
        "holidays": [date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18), date(2026, 4, 6)],
        "make_up_workdays": [date(2026, 2, 14), date(2026, 2, 28)],
    },
    "blast_radius": {"max_suspensions_per_scan": 20, "max_suspension_percent": "5"},
}


def policy_data(**changes: Any) -> dict[str, Any]:
    """A deep copy of the base policy with top-level keys replaced (`defaults__min_notice_days=3`
    replaces one nested key)."""
    data = copy.deepcopy(BASE_POLICY)
    for key, value in changes.items():
        target = data
        parts = key.split("__")
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value
    return data


def make_policy(**changes: Any) -> Policy:
    return Policy.model_validate(policy_data(**changes)).model_copy(update={"version": "test0000"})


def local(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI).astimezone(UTC)


def cny(amount: str, currency: str = "CNY") -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def ledger(amount: str, due: date | None, currency: str = "CNY", not_yet_due: str = "0") -> LedgerSummary:
    """One overdue invoice of `amount` due on `due` (plus an optional amount not yet due)."""
    invoices = []
    if due is not None and Decimal(amount) > 0:
        invoices = [
            InvoiceRef(
                invoice_id="inv-1", number="INV-2026-001", amount_due=cny(amount, currency), due_date=due
            )
        ]
    overdue = cny(amount, currency)
    return LedgerSummary(
        currency=currency,
        overdue_balance=overdue,
        open_balance=overdue + cny(not_yet_due, currency),
        credit_balance=Money.zero(currency),
        earliest_unpaid_due_date=due,
        overdue_invoices=invoices,
    )


def profile(**changes: Any) -> CustomerProfile:
    return CustomerProfile(name="上海示例科技有限公司", **changes)


def np_hold(at: datetime) -> Hold:
    return Hold(
        hold_id=NON_PAYMENT_HOLD_ID, reason=HoldReason.NON_PAYMENT, placed_at=at, placed_by="collections-scan"
    )


def manual_hold(at: datetime) -> Hold:
    return Hold(hold_id="manual-1", reason=HoldReason.MANUAL, placed_at=at, placed_by="ops@example.cn")


def exemption(kind: ExemptionKind, until: date) -> Exemption:
    return Exemption(
        exemption_id=f"{kind.value}-{until}",
        kind=kind,
        until=until,
        reason="agreed with the customer",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        created_by="finance@example.cn",
    )
