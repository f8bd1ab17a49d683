"""Client-side pacing: a token bucket per partner tenant, so calls stay under Partner Center's
per-tenant limit instead of finding it through 429s (which cost a reschedule each)."""

from __future__ import annotations

import threading
import time
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

from shared.adapters.partner_center.errors import Throttled

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


class PacingPolicy(HTTPPolicy):  # type: ignore[type-arg]
    """Takes a token before every attempt (retries included: they count against the limit)."""

    def __init__(self, bucket: TokenBucket, max_wait_seconds: float) -> None:
        super().__init__()
        self.bucket = bucket
        self.max_wait_seconds = max_wait_seconds

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        self.bucket.acquire(self.max_wait_seconds)
        return self.next.send(request)
