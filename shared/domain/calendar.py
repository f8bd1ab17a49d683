"""The enforcement window: working days and hours in the policy's time zone.

Pure functions over a `WorkCalendar`. A working day is a listed weekday that is not a holiday, or
a make-up working day (调休: a weekend day that China's State Council declares a working day).
The window is open on working days from `opens` (inclusive) to `closes` (exclusive), local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WorkCalendar:
    """When notices and holds may happen: weekdays (0 = Monday), hours and exceptions."""

    time_zone: ZoneInfo
    weekdays: frozenset[int]
    opens: time
    closes: time
    holidays: frozenset[date]
    make_up_workdays: frozenset[date]

    def __post_init__(self) -> None:
        if not self.weekdays and not self.make_up_workdays:
            raise ValueError("a work calendar needs at least one working weekday")
        if not self.opens < self.closes:
            raise ValueError("the window must open before it closes")

    def is_working_day(self, day: date) -> bool:
        """A make-up working day always counts; a holiday never does; else the weekday decides."""
        if day in self.make_up_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() in self.weekdays

    def local_date(self, moment: datetime) -> date:
        """The calendar date of an aware moment in this calendar's time zone."""
        return _aware(moment).astimezone(self.time_zone).date()

    def start_of_day(self, day: date) -> datetime:
        """Local midnight of `day`, in UTC."""
        return datetime.combine(day, time(0, 0), tzinfo=self.time_zone).astimezone(UTC)

    def opening(self, day: date) -> datetime:
        """When the window opens on `day` (whether or not it is a working day), in UTC."""
        return datetime.combine(day, self.opens, tzinfo=self.time_zone).astimezone(UTC)

    def closing(self, day: date) -> datetime:
        """When the window closes on `day`, in UTC."""
        return datetime.combine(day, self.closes, tzinfo=self.time_zone).astimezone(UTC)

    def is_open(self, moment: datetime) -> bool:
        """Is `moment` inside the enforcement window?"""
        day = self.local_date(moment)
        if not self.is_working_day(day):
            return False
        return self.opening(day) <= _aware(moment) < self.closing(day)

    def working_day_on_or_after(self, day: date) -> date:
        """The first working day that is `day` or later."""
        # Every run of non-working days is bounded by the listed holidays plus one week.
        for offset in range(len(self.holidays) + len(self.make_up_workdays) + 8):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day found on or after {day.isoformat()}")

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when the window is open then, else the next time it opens (UTC)."""
        moment = _aware(moment).astimezone(UTC)
        if self.is_open(moment):
            return moment
        day = self.local_date(moment)
        if self.is_working_day(day) and moment < self.opening(day):
            return self.opening(day)
        return self.opening(self.working_day_on_or_after(day + timedelta(days=1)))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused; give a time zone (UTC)")
    return moment
