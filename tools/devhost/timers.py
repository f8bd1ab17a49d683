"""Timer triggers: one thread per timer function, firing on its NCRONTAB / TimeSpan schedule.

`runOnStartup` fires once when the timer starts. An occurrence fires with `past_due=True` when
the host reaches it more than `PAST_DUE_TOLERANCE` late (the machine slept, the host was
blocked). As in Azure, the next occurrence is computed from the time an invocation finishes,
so occurrences that pass while a slow invocation runs are skipped, not queued up.
Schedule status (Last/Next/LastUpdated) is kept in memory only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from tools.devhost.ncrontab import CronSchedule, IntervalSchedule

logger = logging.getLogger("tools.devhost.timers")

PAST_DUE_TOLERANCE = timedelta(seconds=3)
MAX_WAIT_SLICE_SECONDS = 1.0  # re-read the clock at least this often (clock changes, stop)
Clock = Callable[[], datetime]
Fire = Callable[[TimerRequest], None]


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def timer_request(
    *, past_due: bool, last: datetime | None, next_: datetime | None, now: datetime
) -> TimerRequest:
    """A TimerRequest with the ScheduleStatus shape the Functions host sends."""
    return TimerRequest(
        past_due=past_due,
        schedule_status={"Last": _iso(last), "Next": _iso(next_), "LastUpdated": _iso(now)},
        schedule={"AdjustForDST": True},
    )


class TimerRunner:
    """Fires one timer function on its schedule until `stop_event` is set."""

    def __init__(
        self,
        name: str,
        schedule: CronSchedule | IntervalSchedule,
        fire: Fire,
        stop_event: threading.Event,
        *,
        run_on_startup: bool = False,
        clock: Clock = utc_now,
        tolerance: timedelta = PAST_DUE_TOLERANCE,
    ) -> None:
        self.name = name
        self.schedule = schedule
        self._fire = fire
        self._stop = stop_event
        self._run_on_startup = run_on_startup
        self._clock = clock
        self._tolerance = tolerance
        self._thread = threading.Thread(target=self._run, name=f"devhost-timer-{name}", daemon=True)

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the timer thread to finish (after the stop event is set)."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _safe_fire(self, request: TimerRequest) -> None:
        try:
            self._fire(request)
        except Exception:
            logger.debug("timer %s invocation failed", self.name, exc_info=True)

    def _wait_until(self, due: datetime) -> bool:
        """Sleep until `due`; False if stopped first."""
        while not self._stop.is_set():
            remaining = (due - self._clock()).total_seconds()
            if remaining <= 0:
                return True
            self._stop.wait(min(remaining, MAX_WAIT_SLICE_SECONDS))
        return False

    def _run(self) -> None:
        start = self._clock()
        due = self.schedule.next_after(start)
        last: datetime | None = None
        logger.debug(
            "timer %s: schedule %r, next occurrence %s", self.name, self.schedule.expression, due.isoformat()
        )
        if self._run_on_startup and not self._stop.is_set():
            self._safe_fire(timer_request(past_due=False, last=None, next_=due, now=start))
        while self._wait_until(due):
            fired_at = self._clock()
            past_due = fired_at - due > self._tolerance
            following = self.schedule.next_after(max(due, fired_at))
            self._safe_fire(timer_request(past_due=past_due, last=last, next_=following, now=fired_at))
            last = due
            due = self.schedule.next_after(max(due, self._clock()))
