"""Fault injection, the per-tenant rate limit and the call log of the simulator."""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    STATUS = "status"  # answer with `status` (and error `code`) instead of doing the call
    LATENCY = "latency"  # wait `seconds` before doing the call (client timeouts)
    DROP = "drop"  # close the connection without doing the call
    LOSE_RESPONSE = "lose_response"  # do the call, then close the connection without answering
    THROTTLE = "throttle"  # 429 with Retry-After `seconds` (a burst from "another app")
    # Answer nothing (close the connection) and apply the call only when the test says so
    # (`apply_deferred()`): a PATCH that Partner Center applies after the client gave up.
    DEFER = "defer"


@dataclass
class FaultRule:
    """Applies to calls whose method and path match; fires with probability `rate`, at most
    `times` times (None: no limit)."""

    kind: FaultKind
    path: str = ".*"
    method: str = ".*"
    rate: float = 1.0
    times: int | None = None
    status: int = 503
    code: int = 0
    seconds: float = 0.0
    fired: int = 0
    rule_id: int = 0

    def matches(self, method: str, path: str) -> bool:
        return bool(re.fullmatch(self.method, method, re.IGNORECASE)) and bool(re.search(self.path, path))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    """Seeded randomness, so a test with a 30% failure rate fails the same calls every run."""

    def __init__(self, seed: int = 7) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)
        self._next_id = 1

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.rule_id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def clear(self, seed: int | None = None) -> None:
        with self._lock:
            self._rules.clear()
            if seed is not None:
                self._random = random.Random(seed)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def pick(
        self, method: str, path: str, kinds: tuple[FaultKind, ...], *, first_only: bool = False
    ) -> list[FaultRule]:
        """The rules of these kinds that fire for this call (each counted as fired); with
        `first_only`, at most one (a call fails in one way at a time)."""
        fired: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.kind not in kinds or not rule.matches(method, path):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                rule.fired += 1
                fired.append(rule)
                if first_only:
                    break
        return fired


class RateLimiter:
    """Sliding window per tenant: at most `limit` accepted requests in any `window_seconds`."""

    def __init__(self, limit: int = 500, window_seconds: float = 60.0) -> None:
        self._lock = threading.Lock()
        self.limit = limit
        self.window_seconds = window_seconds
        self._seen: dict[str, deque[float]] = {}

    def configure(self, limit: int, window_seconds: float = 60.0) -> None:
        with self._lock:
            self.limit = limit
            self.window_seconds = window_seconds
            self._seen.clear()

    def admit(self, tenant: str) -> float | None:
        """None when admitted; else the seconds until a slot frees up (Retry-After)."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(tenant, deque())
            while seen and seen[0] <= now - self.window_seconds:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1.0, math.ceil(seen[0] + self.window_seconds - now))
            seen.append(now)
            return None


@dataclass
class Call:
    seq: int
    at: float
    method: str
    path: str
    request_id: str | None
    correlation_id: str | None
    status: int = 0
    applied: bool = False  # the call changed state
    replayed: bool = False  # answered from the MS-RequestId replay cache
    fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    body: Any = None  # what a PATCH or POST sent (to check the client's requests)


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def start(self, method: str, path: str, request_id: str | None, correlation_id: str | None) -> Call:
        with self._lock:
            call = Call(len(self._calls) + 1, time.time(), method, path, request_id, correlation_id)
            self._calls.append(call)
            return call

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(c) for c in self._calls]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
