"""The calendar never runs out silently: the policy's listed years, the holidays library for the
others (make-up working days unknown), and the shipped policy checked against the library."""

from __future__ import annotations

import re
from datetime import date, datetime

from shared.adapters.holiday_library import china_holidays, library_name
from shared.adapters.policy_files import load_policy
from shared.domain.policy_text import render_policy
from shared.settings import REPO_ROOT

SHIPPED = REPO_ROOT / "policy" / "collections.toml"


def test_the_shipped_2026_lists_agree_with_the_holidays_library() -> None:
    policy = load_policy(SHIPPED)
    listed = policy.enforcement_window.years[2026]
    library = set(china_holidays()[2026])
    # Every day off the library knows is in the policy; the policy's other days off are weekend
    # days of the same holiday periods (the library lists only the days off that fall on workdays).
    assert library <= set(listed.holidays)
    assert all(d.weekday() >= 5 for d in set(listed.holidays) - library)
    # The library names each substituted day off after the make-up working day it moves from.
    import holidays

    names = holidays.country_holidays("CN", years=2026)
    moved_from = {
        datetime.strptime(m.group(1), "%m/%d/%Y").date()
        for name in names.values()
        for m in [re.search(r"substituted from (\d\d/\d\d/\d{4})", name)]
        if m
    }
    assert moved_from == set(listed.make_up_workdays)


def test_the_shipped_policy_lists_next_year_so_december_is_not_degraded() -> None:
    policy = load_policy(SHIPPED)
    assert policy.missing_calendar_years(date(2026, 12, 2)) == []
    assert set(china_holidays()[2027]) <= set(policy.enforcement_window.years[2027].holidays)


def test_a_year_the_policy_does_not_list_takes_the_library_holidays_and_no_make_up_days() -> None:
    policy = load_policy(SHIPPED)
    calendar = policy.calendar()
    spring_festival_2028 = date(2028, 1, 26)  # a Wednesday
    assert spring_festival_2028 in china_holidays()[2028]
    assert not calendar.is_working_day(spring_festival_2028)
    assert not calendar.is_working_day(date(2028, 1, 29))  # a Saturday stays a day off
    assert calendar.is_working_day(date(2028, 1, 31))
    assert policy.missing_calendar_years(date(2027, 11, 30)) == []
    assert policy.missing_calendar_years(date(2027, 12, 1)) == [2028]
    assert policy.missing_calendar_years(date(2028, 3, 1)) == [2028]
    assert "2028" in policy.calendar_gap([2028]) and library_name() in policy.calendar_gap([2028])


def test_the_published_policy_says_which_days_off_apply_and_where_they_come_from() -> None:
    policy = load_policy(SHIPPED)
    zh, en = render_policy(policy, "zh-CN"), render_policy(policy, "en")
    assert "国务院办公厅关于2026年部分节假日安排的通知" in zh and "2027-02-08" in zh
    assert library_name().removesuffix(" (China)") in zh and "调休上班日未知" in zh
    assert "2027 (source: provisional" in en and library_name() in en
    assert "make-up working days are not known" in en
