"""NCRONTAB schedules (the timer-trigger format of Azure Functions), evaluated in UTC.

Six fields, `second minute hour day month day-of-week`; five fields (no seconds) are accepted
too, as the Functions host does. Each field takes `*`, numbers, lists `a,b`, ranges `a-b`,
steps `*/n`, `a-b/n` and `a/n`; month and day-of-week also take names (`Jan`, `January`,
`Mon`, `Monday`; case-insensitive). Day-of-week is 0-6 with 0 = Sunday; 7 is refused, as
NCrontab (and so Azure) refuses it: a schedule that would not index in Azure must not run here.
As in the NCrontab library that Functions uses, a time matches when every field matches (a
restricted day-of-month AND a restricted day-of-week must both match, unlike Vixie cron).

A timer schedule may also be a TimeSpan (`hh:mm:ss`, `d.hh:mm:ss`): a fixed interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tools.devhost.errors import ConfigurationError
from tools.devhost.settings import parse_timespan

MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
SEARCH_YEARS = 30  # `0 0 0 29 Feb Mon` recurs within 28 years; anything rarer never fires


class ScheduleError(ValueError):
    """The schedule expression is not valid NCRONTAB / TimeSpan, or never fires."""


class Schedule(Protocol):
    """Anything that can tell the next occurrence strictly after a moment."""

    expression: str

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly later than `moment` (aware datetime, result in UTC)."""
        ...


@dataclass(frozen=True)
class _Field:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY = _Field("day", 1, 31)
_MONTH = _Field("month", 1, 12, MONTH_NAMES, 1)
_WEEKDAY = _Field("day-of-week", 0, 6, DAY_NAMES, 0)  # NCrontab: 0-6, no 7


def _value(text: str, spec: _Field) -> int:
    if text.isdigit():
        number = int(text)
    else:
        lowered = text.lower()
        matches = [
            index for index, name in enumerate(spec.names) if len(lowered) >= 3 and name.startswith(lowered)
        ]
        if len(matches) != 1:
            raise ScheduleError(f"{spec.label}: {text!r} is not a number or a known name")
        number = matches[0] + spec.name_base
    if not spec.low <= number <= spec.high:
        raise ScheduleError(f"{spec.label}: {number} is outside {spec.low}-{spec.high}")
    return number


def _parse_field(text: str, spec: _Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ScheduleError(f"{spec.label}: empty list item in {text!r}")
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"{spec.label}: bad step in {item!r}")
            step = int(step_text)
        if base == "*":
            first, last = spec.low, spec.high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            first, last = _value(start_text, spec), _value(end_text, spec)
            if first > last:
                raise ScheduleError(f"{spec.label}: range {base!r} runs backwards")
        else:
            first = _value(base, spec)
            last = spec.high if slash else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed NCRONTAB expression."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Parse a 6-field (or 5-field, seconds = 0) NCRONTAB expression; ScheduleError if bad."""
        parts = expression.split()
        if len(parts) == 5:
            parts = ["0", *parts]
        if len(parts) != 6:
            raise ScheduleError(
                f"{expression!r}: expected 6 fields (second minute hour day month day-of-week)"
            )
        specs = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)
        try:
            fields = [_parse_field(part, spec) for part, spec in zip(parts, specs, strict=True)]
        except ScheduleError as exc:
            raise ScheduleError(f"{expression!r}: {exc}") from None
        schedule = cls(expression, *fields)
        schedule.next_after(datetime(2000, 1, 1, tzinfo=UTC))  # rejects e.g. `0 0 0 30 Feb *`
        return schedule

    def matches(self, moment: datetime) -> bool:
        """True if the whole second `moment` (taken in UTC) is an occurrence."""
        moment = moment.astimezone(UTC)
        return (
            moment.second in self.seconds
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and self._day_matches(moment)
        )

    def _day_matches(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7  # Python: Monday = 0; cron: Sunday = 0
        return moment.month in self.months and moment.day in self.days and weekday in self.weekdays

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after `moment` (aware), in UTC, whole seconds."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs an aware datetime")
        current = moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        limit = current.year + SEARCH_YEARS
        while current.year <= limit:
            if not self._day_matches(current):
                current = current.replace(hour=0, minute=0, second=0) + timedelta(days=1)
            elif current.hour not in self.hours:
                current = current.replace(minute=0, second=0) + timedelta(hours=1)
            elif current.minute not in self.minutes:
                current = current.replace(second=0) + timedelta(minutes=1)
            elif current.second not in self.seconds:
                current += timedelta(seconds=1)
            else:
                return current
        raise ScheduleError(f"{self.expression!r}: never occurs")


@dataclass(frozen=True)
class IntervalSchedule:
    """A TimeSpan schedule: fires every `interval`."""

    expression: str
    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        """`moment` plus the interval, in UTC."""
        return moment.astimezone(UTC) + self.interval


def parse_schedule(expression: str) -> CronSchedule | IntervalSchedule:
    """Parse a timer schedule: NCRONTAB, or a TimeSpan such as `00:05:00`."""
    text = expression.strip()
    if ":" in text and " " not in text:
        try:
            interval = parse_timespan(text, what="schedule")
        except ConfigurationError:
            raise ScheduleError(f"{expression!r}: not a valid TimeSpan") from None
        if interval <= timedelta(0):
            raise ScheduleError(f"{expression!r}: the interval must be positive")
        return IntervalSchedule(text, interval)
    return CronSchedule.parse(text)
