"""The one idiom for optimistic concurrency: run a read-modify-write again when it lost an
ETag race, with jittered back-off, and give up with one typed error (`Contended`).

Every write of a row that was read carries its ETag (`tables.py`), so two writers never
overwrite each other: the slower one gets `ConcurrencyConflict` and must read again and decide
again. `retry_on_conflict(attempt)` calls `attempt()` (which reads, decides and writes) until it
returns without a conflict. Between attempts it sleeps a random time up to a doubling ceiling
("full jitter"), so that writers that collided once do not collide again in lock step.

`retry_on_conflict(..., key=...)` also serialises the attempts of one process on that key (a
customer id): twenty requests for one customer arriving at one instance at once then run one
after the other instead of losing nineteen races each round; writers on other instances still
meet ETag conflicts, which the attempts absorb (16 attempts, back-off up to 0.5 s: about 4 s of
waiting in the worst case before `Contended`, answered 409 with Retry-After).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from shared.adapters.tables import ConcurrencyConflict
from shared.errors import Contended

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ATTEMPTS = 16
BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.5
RETRY_AFTER_SECONDS = 1  # what a caller that got `Contended` is told to wait

__all__ = [
    "DEFAULT_ATTEMPTS",
    "ConcurrencyConflict",
    "Contended",
    "backoff_seconds",
    "retry_on_conflict",
    "serialised",
]

_keys_lock = threading.Lock()
_key_locks: dict[str, tuple[threading.Lock, int]] = {}  # key -> (lock, holders and waiters)


@contextmanager
def serialised(key: str) -> Iterator[None]:
    """Run the block alone among this process's blocks on the same `key` (re-entrant per
    thread is NOT supported: never nest two blocks on one key). The lock is dropped when no
    thread holds or waits for it, so the table of locks stays as small as the work in flight."""
    with _keys_lock:
        lock, users = _key_locks.get(key, (threading.Lock(), 0))
        _key_locks[key] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _keys_lock:
            lock, users = _key_locks[key]
            if users <= 1:
                del _key_locks[key]
            else:
                _key_locks[key] = (lock, users - 1)


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
    key: str | None = None,
) -> T:
    """`attempt()` until it does not raise `ConcurrencyConflict`; then its result.

    `attempt` must read what it changes afresh each time (a conflict means what it read is
    stale). After `attempts` conflicts, raises `Contended` naming `what` (nothing was written
    by the failed attempts: each conflict refused the whole write). With `key`, each attempt
    runs alone among this process's attempts on the same key (`serialised`); the back-off
    sleeps outside it.
    """
    for failures in range(1, attempts + 1):
        try:
            if key is None:
                return attempt()
            with serialised(key):
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
