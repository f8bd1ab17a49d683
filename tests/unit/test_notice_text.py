"""Notice wording in zh-CN and en: amounts, invoice numbers, local dates, suspension date, how to pay."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.domain.collections import InvoiceRef, NoticeContent, Stage
from shared.domain.customer import Locale
from shared.domain.money import Money
from shared.domain.notice_text import format_date, format_money, render_notice


def content(stage: Stage, locale: Locale = Locale.ZH_CN, suspension: date | None = None) -> NoticeContent:
    invoices = [
        InvoiceRef(
            invoice_id="i1",
            number="INV-2026-001",
            amount_due=Money(amount=Decimal("1200.5")),
            due_date=date(2026, 3, 2),
        ),
        InvoiceRef(
            invoice_id="i2",
            number="INV-2026-007",
            amount_due=Money(amount=Decimal("300")),
            due_date=date(2026, 3, 9),
        ),
    ]
    return NoticeContent(
        stage=stage,
        customer_name="上海示例科技有限公司" if locale is Locale.ZH_CN else "Fabrikam Trading Ltd",
        locale=locale,
        amount_overdue=Money(amount=Decimal("1500.50")),
        invoices=invoices,
        earliest_due_date=date(2026, 3, 2),
        days_past_due=10,
        suspension_date=suspension,
        how_to_pay="请转账至 工商银行 1001 2345。" if locale is Locale.ZH_CN else "Pay to ICBC 1001 2345.",
    )


def test_formats() -> None:
    assert format_money(Money(amount=Decimal("1234.5"))) == "CNY 1,234.50"
    assert format_money(Money(amount=Decimal("15"), currency="USD")) == "USD 15.00"
    assert format_date(date(2026, 3, 23), Locale.ZH_CN) == "2026年3月23日（星期一）"
    assert format_date(date(2026, 3, 23), Locale.EN) == "Monday, 23 March 2026"


def test_chinese_warning_names_the_date_amounts_invoices_and_how_to_pay() -> None:
    notice = render_notice(content(Stage.WARNING, suspension=date(2026, 3, 23)))
    assert notice.locale is Locale.ZH_CN
    assert "2026年3月23日（星期一）" in notice.subject
    body = notice.body_text
    assert "尊敬的上海示例科技有限公司" in body
    assert "CNY 1,500.50" in body
    assert "INV-2026-001" in body and "CNY 1,200.50" in body and "INV-2026-007" in body
    assert "2026年3月2日（星期一）" in body
    assert "Asia/Shanghai" in body
    assert "请转账至 工商银行 1001 2345。" in body


def test_english_warning() -> None:
    notice = render_notice(content(Stage.WARNING, Locale.EN, suspension=date(2026, 3, 23)))
    assert (
        notice.subject
        == "Suspension warning: services will be suspended from Monday, 23 March 2026 unless paid"
    )
    assert "Dear Fabrikam Trading Ltd" in notice.body_text
    assert "USD" not in notice.body_text and "CNY 1,500.50" in notice.body_text
    assert "Invoice INV-2026-007: CNY 300.00 unpaid, due Monday, 9 March 2026" in notice.body_text
    assert "How to pay:\nPay to ICBC 1001 2345." in notice.body_text


def test_the_locale_argument_overrides_the_content_locale() -> None:
    notice = render_notice(content(Stage.REMINDER, Locale.ZH_CN), "en")
    assert notice.locale is Locale.EN
    assert notice.subject == "Payment reminder: CNY 1,500.50 overdue"


@pytest.mark.parametrize(
    ("stage", "zh", "en"),
    [
        (Stage.REMINDER, "付款提醒", "Payment reminder"),
        (Stage.SUSPENSION, "服务已暂停", "Services suspended"),
        (Stage.ESCALATION, "内部升级", "Escalation"),
    ],
)
def test_every_stage_has_both_languages(stage: Stage, zh: str, en: str) -> None:
    assert render_notice(content(stage), Locale.ZH_CN).subject.startswith(zh)
    assert render_notice(content(stage, Locale.EN), Locale.EN).subject.startswith(en)


def test_suspension_notice_says_how_access_comes_back() -> None:
    assert "暂停将自动解除" in render_notice(content(Stage.SUSPENSION)).body_text
    assert "lifted automatically" in render_notice(content(Stage.SUSPENSION, Locale.EN)).body_text


def test_escalation_is_for_staff_and_not_addressed_to_the_customer() -> None:
    body = render_notice(content(Stage.ESCALATION, Locale.EN)).body_text
    assert "Dear" not in body and "How to pay" not in body
    assert "recommend" in body.lower() and "INV-2026-001" in body


def test_escalation_says_suspended_only_when_the_subscriptions_are() -> None:
    suspended = render_notice(content(Stage.ESCALATION, Locale.EN, suspension=date(2026, 3, 23))).body_text
    assert "suspended since Monday, 23 March 2026" in suspended
    zh = render_notice(content(Stage.ESCALATION, Locale.ZH_CN, suspension=date(2026, 3, 23))).body_text
    assert "订阅自 2026年3月23日（星期一） 起已暂停" in zh
    # a policy without a suspension stage escalates a customer whose access was never blocked
    assert "suspended" not in render_notice(content(Stage.ESCALATION, Locale.EN)).body_text
    assert "暂停" not in render_notice(content(Stage.ESCALATION, Locale.ZH_CN)).body_text
