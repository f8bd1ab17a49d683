"""Client-side pacing, so calls stay under Partner Center's per-tenant limit (500 requests a
minute) instead of finding it through 429s (which cost a reschedule each).

Two buckets with one interface (`acquire(max_wait_seconds)`):
- `TokenBucket`: one process (local runs, tests, the credential check);
- `FleetBucket`: every instance and worker process of the app together. The budget is one token
  bucket kept in a Table storage row (`pacing` table): a process takes a few tokens at a time
  (`CLAIM`), under the row's ETag, and spends them itself. However far the app scales out, the
  tokens handed out in any minute are at most the rate plus one burst, so all instances together
  stay under the limit (docs/partner-center-client.md, "Fleet-wide pacing", says why this and
  not an instance cap).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from pydantic import BaseModel

from shared.adapters.partner_center.errors import Throttled
from shared.adapters.tables import ConcurrencyConflict, Table

# A small burst: with a sliding one-minute window on the server, any 60 s then holds at most
# rate + burst requests, which stays under the limit when the rate is set below it.
DEFAULT_BURST = 5


class TokenBucket:
    """`rate_per_minute` tokens per minute, at most `burst` saved up; thread-safe."""

    def __init__(self, rate_per_minute: float, burst: int = DEFAULT_BURST) -> None:
        self.rate_per_second = rate_per_minute / 60.0
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take a token (possibly in the future); returns how long to wait for it."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_second)
            self._updated = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate_per_second

    def _give_back(self) -> None:
        with self._lock:
            self._tokens = min(self.burst, self._tokens + 1.0)

    def acquire(self, max_wait_seconds: float) -> None:
        """Wait for a token; Throttled (locally) when the wait would exceed `max_wait_seconds`."""
        wait = self._reserve()
        if wait > max_wait_seconds:
            self._give_back()
            raise Throttled(
                f"client-side pace: next slot in {wait:.0f} s", retry_after_seconds=wait, status=0
            )
        if wait > 0:
            time.sleep(wait)


class Bucket(Protocol):
    def acquire(self, max_wait_seconds: float) -> None: ...


class SharedBudget(BaseModel):
    """The fleet's bucket: `tokens` saved up as of `updated_at` (seconds since the epoch)."""

    tokens: float
    updated_at: float


CLAIM = 4  # tokens a process takes at a time (and the fleet bucket's burst)
BUDGET_ROW = "budget"
MAX_CLAIM_CONFLICTS = 50


class FleetBucket:
    """The partner tenant's budget shared by every process, in one Table storage row."""

    def __init__(
        self,
        table: Table,
        partner_key: str,
        rate_per_minute: float,
        *,
        claim: int = CLAIM,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table
        self.partition = hashlib.sha256(partner_key.encode()).hexdigest()[:32]
        self.rate_per_second = rate_per_minute / 60.0
        self.claim = max(1, claim)
        self.clock = clock
        self.sleep = sleep
        self._stock = 0
        self._lock = threading.Lock()  # one claimer per process; the others use its stock

    def acquire(self, max_wait_seconds: float) -> None:
        """One token: from this process's stock, else a claim on the shared row (waiting for the
        bucket to refill); Throttled (locally) when the wait would exceed `max_wait_seconds`."""
        deadline = time.monotonic() + max_wait_seconds
        with self._lock:
            while self._stock <= 0:
                wait = self._try_claim()
                if wait <= 0:
                    break
                if time.monotonic() + wait > deadline:
                    raise Throttled(
                        f"fleet pace: next slot in {wait:.0f} s", retry_after_seconds=wait, status=0
                    )
                self.sleep(wait)
            self._stock -= 1

    def _try_claim(self) -> float:
        """Take `claim` tokens from the row; 0 when taken, else the seconds until they are there."""
        for _ in range(MAX_CLAIM_CONFLICTS):
            stored = self.table.get(SharedBudget, self.partition, BUDGET_ROW)
            now = self.clock()
            if stored is None:
                tokens = float(self.claim)
            else:
                elapsed = max(0.0, now - stored.value.updated_at)
                tokens = min(float(self.claim), stored.value.tokens + elapsed * self.rate_per_second)
            if tokens < self.claim:
                return (self.claim - tokens) / self.rate_per_second
            left = SharedBudget(
                tokens=tokens - self.claim, updated_at=max(now, stored.value.updated_at if stored else now)
            )
            try:
                if stored is None:
                    self.table.insert(left, self.partition, BUDGET_ROW)
                else:
                    self.table.update(left, self.partition, BUDGET_ROW, stored.etag)
            except ConcurrencyConflict:
                continue  # another process claimed first: read again
            self._stock += self.claim
            return 0.0
        return 1.0 / self.rate_per_second  # a storm of claims: try again after one token's time


_buckets: dict[str, TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(partner_key: str, rate_per_minute: int) -> TokenBucket:
    """The process-wide bucket of one partner tenant (shared by every client instance)."""
    with _buckets_lock:
        bucket = _buckets.get(partner_key)
        if bucket is None or bucket.rate_per_second != rate_per_minute / 60.0:
            bucket = TokenBucket(rate_per_minute)
            _buckets[partner_key] = bucket
        return bucket


_fleet: dict[tuple[str, str], FleetBucket] = {}


def fleet_bucket_for(table: Table, partner_key: str, rate_per_minute: int) -> FleetBucket:
    """The process-wide handle on the fleet's budget in `table` (shared by every client)."""
    key = (table.name, partner_key)
    with _buckets_lock:
        bucket = _fleet.get(key)
        if bucket is None or bucket.rate_per_second != rate_per_minute / 60.0:
            bucket = FleetBucket(table, partner_key, rate_per_minute)
            _fleet[key] = bucket
        return bucket


class PacingPolicy(HTTPPolicy):  # type: ignore[type-arg]
    """Takes a token before every attempt (retries included: they count against the limit)."""

    def __init__(self, bucket: Bucket, max_wait_seconds: float) -> None:
        super().__init__()
        self.bucket = bucket
        self.max_wait_seconds = max_wait_seconds

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        self.bucket.acquire(self.max_wait_seconds)
        return self.next.send(request)
