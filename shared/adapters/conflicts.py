"""The one idiom for optimistic concurrency: run a read-modify-write again when it lost an
ETag race, with jittered back-off, and give up with one typed error (`Contended`).

Every write of a row that was read carries its ETag (`tables.py`), so two writers never
overwrite each other: the slower one gets `ConcurrencyConflict` and must read again and decide
again. `retry_on_conflict(attempt)` calls `attempt()` (which reads, decides and writes) until it
returns without a conflict. Between attempts it sleeps a random time up to a doubling ceiling
("full jitter"), so that writers that collided once do not collide again in lock step.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared.adapters.tables import ConcurrencyConflict
from shared.errors import Contended

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.25
RETRY_AFTER_SECONDS = 1  # what a caller that got `Contended` is told to wait

__all__ = ["DEFAULT_ATTEMPTS", "ConcurrencyConflict", "Contended", "backoff_seconds", "retry_on_conflict"]


def backoff_seconds(failures: int, rng: Callable[[], float] = random.random) -> float:
    """The wait after `failures` conflicts in a row: uniform in [0, min(cap, base * 2**n))."""
    ceiling: float = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** max(0, failures - 1))
    return ceiling * rng()


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    what: str,
    attempts: int = DEFAULT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`attempt()` until it does not raise `ConcurrencyConflict`; then its result.

    `attempt` must read what it changes afresh each time (a conflict means what it read is
    stale). After `attempts` conflicts, raises `Contended` naming `what` (nothing was written
    by the failed attempts: each conflict refused the whole write).
    """
    for failures in range(1, attempts + 1):
        try:
            return attempt()
        except ConcurrencyConflict:
            if failures == attempts:
                break
            sleep(backoff_seconds(failures))
    log.warning("write contended", extra={"what": what, "attempts": attempts})
    raise Contended(
        f"{what} kept changing while this request was applied; nothing was written, send it again",
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )
