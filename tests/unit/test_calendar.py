"""The enforcement window: working days, hours, holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shared.adapters.policy_files import load_policy
from shared.domain.calendar import WorkCalendar
from shared.settings import REPO_ROOT
from tests.unit.collections_builders import local

SHIPPED = load_policy(REPO_ROOT / "policy" / "collections.toml").calendar()


def test_weekdays_weekends_holidays_and_make_up_days() -> None:
    assert SHIPPED.is_working_day(date(2026, 3, 2))  # Monday
    assert not SHIPPED.is_working_day(date(2026, 3, 7))  # Saturday
    assert not SHIPPED.is_working_day(date(2026, 10, 1))  # National Day, a Thursday
    assert not SHIPPED.is_working_day(date(2026, 2, 16))  # Spring Festival, a Monday
    assert SHIPPED.is_working_day(date(2026, 2, 14))  # make-up Saturday
    assert SHIPPED.is_working_day(date(2026, 1, 4))  # make-up Sunday


def test_window_hours_open_inclusive_close_exclusive() -> None:
    assert not SHIPPED.is_open(local(2026, 3, 2, 8, 59))
    assert SHIPPED.is_open(local(2026, 3, 2, 9, 0))
    assert SHIPPED.is_open(local(2026, 3, 2, 16, 59))
    assert not SHIPPED.is_open(local(2026, 3, 2, 17, 0))
    assert SHIPPED.is_open(local(2026, 2, 14, 10))  # make-up Saturday
    assert not SHIPPED.is_open(local(2026, 10, 1, 10))


def test_local_date_changes_at_16_utc_in_shanghai() -> None:
    assert SHIPPED.local_date(datetime(2026, 3, 4, 15, 59, tzinfo=UTC)) == date(2026, 3, 4)
    assert SHIPPED.local_date(datetime(2026, 3, 4, 16, 0, tzinfo=UTC)) == date(2026, 3, 5)
    assert SHIPPED.start_of_day(date(2026, 3, 5)) == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)


def test_next_open_over_the_spring_festival() -> None:
    # Friday 13 Feb 2026 after closing -> make-up Saturday 14 Feb 09:00.
    assert SHIPPED.next_open(local(2026, 2, 13, 18)) == local(2026, 2, 14, 9)
    # Saturday 14 Feb after closing -> Spring Festival 15-23 Feb -> Tuesday 24 Feb.
    assert SHIPPED.next_open(local(2026, 2, 14, 17)) == local(2026, 2, 24, 9)
    # inside the window: the moment itself
    assert SHIPPED.next_open(local(2026, 2, 24, 11, 30)) == local(2026, 2, 24, 11, 30)
    # before opening on a working day: that day's opening; on a holiday: the next working day's
    assert SHIPPED.next_open(local(2026, 2, 24, 6)) == local(2026, 2, 24, 9)
    assert SHIPPED.next_open(local(2026, 10, 1, 6)) == local(2026, 10, 8, 9)


def test_working_day_on_or_after() -> None:
    assert SHIPPED.working_day_on_or_after(date(2026, 10, 1)) == date(2026, 10, 8)
    assert SHIPPED.working_day_on_or_after(date(2026, 3, 2)) == date(2026, 3, 2)
    assert SHIPPED.working_day_on_or_after(date(2026, 3, 7)) == date(2026, 3, 9)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        SHIPPED.is_open(datetime(2026, 3, 2, 10))


def test_a_calendar_needs_a_working_day_and_ordered_hours() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    with pytest.raises(ValueError, match="working weekday"):
        WorkCalendar(zone, frozenset(), time(9), time(17), frozenset(), frozenset())
    with pytest.raises(ValueError, match="open before"):
        WorkCalendar(zone, frozenset({0}), time(17), time(9), frozenset(), frozenset())
