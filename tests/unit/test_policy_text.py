"""The published policy is rendered from the same policy object the scan enforces: no drift."""

from __future__ import annotations

import pytest

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
    assert "CNY 100.00" in text and "USD 15.00" in text
    assert "周一、周二、周三、周四、周五" in text and "09:00 至 17:00" in text
    assert "2026-10-01" in text and "2026-02-14" in text
    assert "暂停会立即解除" in text
    assert SHIPPED.how_to_pay.zh_cn in text
    assert "客户类别 `enterprise`" in text and "逾期 **45** 天" in text


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
        "zh-CN": ["逾期 **4** 天", "逾期 **12** 天", "逾期 **25** 天", "**9** 天", "CNY 250.00", "10:00"],
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
