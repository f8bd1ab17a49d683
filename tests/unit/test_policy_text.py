"""The published policy is rendered from the same policy object the scan enforces: no drift."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from shared.adapters.holiday_library import library_name
from shared.adapters.policy_files import load_policy
from shared.domain.policy_text import render_policy
from shared.settings import REPO_ROOT
from tests.unit.collections_builders import make_policy

SHIPPED = load_policy(REPO_ROOT / "policy" / "collections.toml")


def test_chinese_text_has_stages_notice_period_window_reinstatement_and_payment() -> None:
    text = render_policy(SHIPPED, "zh-CN")
    assert text.startswith("# 催收政策")
    assert f"`{SHIPPED.version}`" in text
    assert "逾期 **3** 天" in text and "逾期 **20** 天" in text and "暂停服务" in text
    assert "至少间隔 **7** 天" in text and "警告送达" in text
    assert "付款承诺最长 60 天" in text
    assert "人民币 100.00 元" in text and "美元 15.00" in text
    assert "周一、周二、周三、周四、周五" in text and "09:00 至 17:00" in text
    assert "2026-10-01" in text and "2026-02-14" in text
    assert "暂停会立即解除" in text
    assert SHIPPED.how_to_pay.zh_cn in text
    assert "客户类别：企业协议客户" in text and "逾期 **45** 天" in text


def test_the_chinese_text_is_chinese_throughout_and_shows_no_internal_code() -> None:
    text = render_policy(SHIPPED, "zh-CN", date(2026, 12, 2))
    for code in ("enterprise", "default", "Asia/Shanghai", "CNY", "USD", "Enterprise"):
        assert code not in text, code
    prose = (
        text.replace(SHIPPED.version, "")
        .replace(SHIPPED.how_to_pay.zh_cn, "")
        .replace(library_name().removesuffix(" (China)"), "")
    )
    # The time zone's offset, and nothing else (the holiday library is named by its own name).
    assert set(re.findall(r"[A-Za-z]{2,}", prose)) == {"UTC"}
    assert "北京时间（UTC+8）" in text


def test_the_days_off_of_this_year_and_the_next_are_listed() -> None:
    zh = render_policy(SHIPPED, "zh-CN", date(2026, 12, 2))
    en = render_policy(SHIPPED, "en", date(2026, 12, 2))
    assert "- 2026 年（来源：国务院办公厅关于2026年部分节假日安排的通知" in zh
    assert "  - 节假日：2026-01-01、2026-01-02" in zh and "- 2027 年（来源：暂定" in zh
    assert "- 2026 (source: " in en and "  - Public holidays: 2026-01-01, 2026-01-02" in en
    assert "- 2027 (source: provisional" in en
    days_off = (
        render_policy(SHIPPED, "en", date(2026, 1, 5)).split("## How access")[0].split("working days (")[1]
    )
    assert "- 2025" not in days_off and "- 2026 (source" in days_off and "- 2027 (source" in days_off
    # A year the policy does not list: the library's statutory holidays, said to be from it.
    later = render_policy(SHIPPED, "zh-CN", date(2028, 3, 1))
    assert "- 2028 年（本政策未列出：法定节假日取自" in later and "2028-01-01" in later
    assert "- 2029 年（本政策未列出" in later and "2026-" not in later.split("## 如何恢复服务")[0]
    flat = make_policy(
        enforcement_window__holidays=[date(2027, 2, 8)], enforcement_window__make_up_workdays=[]
    )
    assert "- 2027 年另行安排的日期\n  - 休息日：2027-02-08" in render_policy(
        flat, "zh-CN", date(2026, 12, 2)
    )
    assert "2027" not in render_policy(flat, "zh-CN", date(2025, 6, 1)).split("## 如何恢复服务")[0]
    none_known = render_policy(make_policy(), "en", date(2031, 1, 2))
    assert "- 2031: public holidays not yet published" in none_known


def test_english_text() -> None:
    text = render_policy(SHIPPED, "en")
    assert text.startswith("# Collections policy")
    assert "**10** days past due: Warning" in text
    assert "At least **7** days pass between the warning reaching you" in text
    assert "a warning that reaches you late moves the suspension date" in text
    assert "A promise to pay lasts at most 60 days" in text
    assert "Mon, Tue, Wed, Thu, Fri" in text and "between 09:00 and 17:00" in text
    assert "lifted at once, at any hour" in text
    assert SHIPPED.how_to_pay.en in text


def test_changing_the_policy_numbers_changes_the_published_text() -> None:
    base = make_policy()
    changed = make_policy(
        defaults__min_notice_days=9,
        defaults__stages=[
            {"action": "reminder", "days_past_due": 4},
            {"action": "warning", "days_past_due": 12},
            {"action": "suspension", "days_past_due": 25},
        ],
        defaults__minimum_overdue_balance={"CNY": "250.00"},
        enforcement_window__opens="10:00",
    )
    for lang, needles in {
        "en": [
            "**4** days past due",
            "**12** days past due",
            "**25** days past due",
            "**9** days",
            "CNY 250.00",
            "10:00",
        ],
        "zh-CN": [
            "逾期 **4** 天",
            "逾期 **12** 天",
            "逾期 **25** 天",
            "**9** 天",
            "人民币 250.00 元",
            "10:00",
        ],
    }.items():
        before, after = render_policy(base, lang), render_policy(changed, lang)
        for needle in needles:
            assert needle in after and needle not in before, (lang, needle)
    standard = render_policy(changed, "en").split("## Customer segment")[0]
    assert "Escalation" not in standard  # the stage was removed from the defaults
    assert "Escalation" in render_policy(base, "en").split("## Customer segment")[0]


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        render_policy(SHIPPED, "fr")


def test_the_suspension_stage_does_not_promise_that_data_is_kept_for_good() -> None:
    """Partner Center deletes the data of a subscription not reactivated by the end of its term."""
    en, zh = render_policy(SHIPPED, "en"), render_policy(SHIPPED, "zh-CN")
    assert "(data is kept)" not in en and "（数据保留）" not in zh
    assert "end of its term may have its data deleted" in en
    assert "订阅期结束时仍未恢复的订阅，其数据可能被删除" in zh


def test_the_published_policy_states_the_credit_and_usage_rules_customers_are_held_to() -> None:
    from shared.domain.policy import parse_policy

    shipped = parse_policy(open("policy/collections.toml", "rb").read())
    en, zh = render_policy(shipped, "en"), render_policy(shipped, "zh-CN")
    assert "## Credit limit" in en and "## 信用额度" in zh
    assert "CNY 50,000.00" in en and "人民币 50,000.00 元" in zh
    assert "**80%**" in en and "**80%**" in zh
    assert "1 day after the notice reached you" in en and "通知送达后满 **1** 天" in zh
    assert "## Unusual usage" in en and "## 异常用量" in zh
    assert "**20** times" in en and "**20** 倍" in zh
    quiet = shipped.model_copy(
        update={
            "credit": shipped.credit.model_copy(
                update={"hold_at_limit": False, "alert_percent": Decimal(90)}
            ),
            "usage_anomaly": shipped.usage_anomaly.model_copy(update={"enabled": False}),
        }
    )
    en, zh = render_policy(quiet, "en"), render_policy(quiet, "zh-CN")
    assert "services are not suspended for it" in en and "服务不会因此暂停" in zh
    assert "**90%**" in en and "Unusual usage" not in en and "异常用量" not in zh
