"""NCRONTAB parsing and next occurrence (tools/devhost/ncrontab.py), and timer past-due firing."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.devhost.ncrontab import CronSchedule, IntervalSchedule, ScheduleError, parse_schedule
from tools.devhost.timers import TimerRunner


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("* * * * * *", "2025-03-01T10:00:00.750", "2025-03-01T10:00:01"),
        ("*/1 * * * * *", "2025-03-01T10:00:59", "2025-03-01T10:01:00"),
        ("0 */5 * * * *", "2025-03-01T10:03:27", "2025-03-01T10:05:00"),
        ("0 */5 * * * *", "2025-03-01T10:05:00", "2025-03-01T10:10:00"),
        ("10-20/5 * * * * *", "2025-03-01T10:00:16", "2025-03-01T10:00:20"),
        ("10-20/5 * * * * *", "2025-03-01T10:00:20", "2025-03-01T10:01:10"),
        ("0 0 * * * *", "2025-12-31T23:00:00", "2026-01-01T00:00:00"),
        ("0 30 9 * * Mon-Fri", "2025-03-01T12:00:00", "2025-03-03T09:30:00"),  # Sat -> Mon
        ("0 30 9 * * 1-5", "2025-03-03T09:30:00", "2025-03-04T09:30:00"),
        ("0 0 12 1 Jan,Jul *", "2025-03-01T00:00:00", "2025-07-01T12:00:00"),
        ("0 0 12 1 january,JULY *", "2025-07-01T12:00:00", "2026-01-01T12:00:00"),
        ("0 0 0 * * 0", "2025-03-01T00:00:00", "2025-03-02T00:00:00"),  # Sunday
        ("0 0 0 * * Sun", "2025-03-01T00:00:00", "2025-03-02T00:00:00"),
        ("0 0 0 * * 5-6,0", "2025-03-03T00:00:00", "2025-03-07T00:00:00"),  # Fri, Sat, Sun
        ("0 0 0 29 2 *", "2025-01-01T00:00:00", "2028-02-29T00:00:00"),  # next leap day
        ("0 0 0 13 * Fri", "2025-01-01T00:00:00", "2025-06-13T00:00:00"),  # both day fields
        ("0 0 0 31 * *", "2025-04-01T00:00:00", "2025-05-31T00:00:00"),  # skips April 31
        ("0 15,45 8-10/2 * * *", "2025-03-01T08:46:00", "2025-03-01T10:15:00"),
        ("30 5/20 * * * *", "2025-03-01T08:46:00", "2025-03-01T09:05:30"),
        ("0 0 * * *", "2025-03-01T08:46:00", "2025-03-02T00:00:00"),  # five fields: seconds = 0
    ],
)
def test_next_occurrence(expression: str, after: str, expected: str) -> None:
    schedule = CronSchedule.parse(expression)
    assert schedule.next_after(at(after)) == at(expected)
    assert schedule.matches(at(expected))


def test_next_occurrence_is_computed_in_utc() -> None:
    schedule = CronSchedule.parse("0 0 9 * * *")
    tokyo = datetime(2025, 3, 2, 2, 0, tzinfo=timezone(timedelta(hours=9)))  # 2025-03-01 17:00Z
    assert schedule.next_after(tokyo) == at("2025-03-02T09:00:00")
    with pytest.raises(ValueError, match="aware"):
        schedule.next_after(datetime(2025, 3, 1))


def test_parsed_fields() -> None:
    schedule = CronSchedule.parse("*/15 0-10/5 1,2,3 * * *")
    assert schedule.seconds == {0, 15, 30, 45}
    assert schedule.minutes == {0, 5, 10}
    assert schedule.hours == {1, 2, 3}
    assert schedule.weekdays == set(range(7))


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "* * * *",
        "* * * * * * *",
        "60 * * * * *",
        "* 60 * * * *",
        "* * 24 * * *",
        "* * * 0 * *",
        "* * * 32 * *",
        "* * * * 0 *",
        "* * * * 13 *",
        "* * * * * 8",
        "* * * * * 7",  # NCrontab (Azure) takes 0-6 only: 7 would not index there
        "0 0 9 * * 1-7",
        "*/0 * * * * *",
        "5-1 * * * * *",
        "1- * * * * *",
        "1,,2 * * * * *",
        "? * * * * *",
        "L * * * * *",
        "* * * * Foo *",
        "* * * * Ju *",  # ambiguous prefix (June, July)
        "* * * * * Funday",
        "0 0 0 30 Feb *",  # never occurs
        "0 0 0 31 4,6,9,11 *",  # never occurs
    ],
)
def test_invalid_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ScheduleError):
        CronSchedule.parse(expression)


def test_timespan_schedules() -> None:
    schedule = parse_schedule("00:05:00")
    assert isinstance(schedule, IntervalSchedule)
    assert schedule.next_after(at("2025-03-01T10:00:00")) == at("2025-03-01T10:05:00")
    assert isinstance(parse_schedule("1.00:00:00"), IntervalSchedule)
    assert isinstance(parse_schedule("0 */5 * * * *"), CronSchedule)
    for bad in ("00:00:00", "25:00:00", "00:61:00", "aa:bb:cc"):
        with pytest.raises(ScheduleError):
            parse_schedule(bad)


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    values = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        values.map(str),
        st.tuples(values, values).map(lambda p: f"{min(p)}-{max(p)}"),
        st.integers(1, 20).map(lambda n: f"*/{n}"),
        st.lists(values, min_size=1, max_size=4).map(lambda v: ",".join(map(str, v))),
    )


@settings(max_examples=60, deadline=None)
@given(
    second=_field(0, 59),
    minute=_field(0, 59),
    hour=st.one_of(st.just("*"), _field(0, 23)),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_next_occurrence_is_the_first_match(second: str, minute: str, hour: str, start: datetime) -> None:
    schedule = CronSchedule.parse(f"{second} {minute} {hour} * * *")
    after = start.replace(tzinfo=UTC)
    found = schedule.next_after(after)
    assert found > after and found.microsecond == 0 and schedule.matches(found)
    # brute force, minute by minute: the first matching minute holds the first matching second
    minute_start = after.replace(second=0, microsecond=0)
    for step in range(2 * 24 * 60):
        candidate_minute = minute_start + timedelta(minutes=step)
        seconds = sorted(s for s in schedule.seconds if candidate_minute + timedelta(seconds=s) > after)
        if seconds and schedule.matches(first := candidate_minute + timedelta(seconds=seconds[0])):
            assert found == first
            return
    pytest.fail("a schedule without day restrictions must fire within two days")


class _JumpingClock:
    """Real UTC time plus an offset that a test can move forward (the machine 'slept')."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        return datetime.now(UTC) + self.offset


def test_a_timer_that_wakes_up_late_fires_past_due() -> None:
    clock = _JumpingClock()
    fired: list[bool] = []
    done = threading.Event()
    stop = threading.Event()

    def fire(request: object) -> None:
        fired.append(request.past_due)  # type: ignore[attr-defined]
        done.set()

    runner = TimerRunner("hourly", CronSchedule.parse("0 0 * * * *"), fire, stop, clock=clock)
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while clock.calls < 2 and time.monotonic() < deadline:  # it has computed its next due
            time.sleep(0.01)
        assert not fired
        clock.offset = timedelta(hours=2)  # woke up two hours later than planned
        assert done.wait(5)
        assert fired == [True]
    finally:
        stop.set()
        runner.join(5)


def test_run_on_startup_fires_once_not_past_due() -> None:
    fired: list[bool] = []
    stop = threading.Event()
    done = threading.Event()

    def fire(request: object) -> None:
        fired.append(request.past_due)  # type: ignore[attr-defined]
        done.set()

    runner = TimerRunner("yearly", CronSchedule.parse("0 0 0 1 1 *"), fire, stop, run_on_startup=True)
    runner.start()
    assert done.wait(5)
    stop.set()
    runner.join(5)
    assert fired == [False]
