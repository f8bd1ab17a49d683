"""The current time, injectable: tests move time forward instead of sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (thread-safe)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


_clock: Clock = SystemClock()


class ProcessClock:
    """The process clock as a dependency: asks `now()` each time, so a test or the demo seed
    that replaces the process clock (`set_clock`) moves every use case that holds this one."""

    def now(self) -> datetime:
        return _clock.now()


PROCESS_CLOCK = ProcessClock()


def now() -> datetime:
    """The app's current time (UTC, aware)."""
    return _clock.now()


def set_clock(clock: Clock) -> Clock:
    """Replace the process clock; returns the previous one so tests can restore it."""
    global _clock
    previous, _clock = _clock, clock
    return previous
