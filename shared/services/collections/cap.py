"""The blast-radius cap of one scan (principle 6): suspensions, and warnings, beyond their limits
wait for approval."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.domain.policy import Policy


@dataclass
class CapGate:
    """The blast-radius cap of one scan: suspensions beyond `limit` wait in batch `batch_id`."""

    limit: int
    batch_id: str
    placed: int = 0
    held_back: list[str] = field(default_factory=list)
    on_hold_back: Callable[[str, str], None] | None = None  # (customer id, why it was due)
    warning_limit: int = 1_000_000
    warned: int = 0
    warnings_held_back: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_scan(cls, policy: Policy, evaluated: int, batch_id: str) -> CapGate:
        """min(N, ceil(P% of the customers evaluated)): a non-zero percent allows at least one;
        warnings by `BlastRadius.allowed_warnings`."""
        cap = policy.blast_radius
        share = math.ceil(cap.max_suspension_percent * evaluated / 100)
        return cls(
            limit=min(cap.max_suspensions_per_scan, share),
            batch_id=batch_id,
            warning_limit=cap.allowed_warnings(evaluated),
        )

    def admit(self, customer_id: str, reason: str = "") -> bool:
        """True: this suspension may go ahead; False: it waits (recorded in the batch first,
        with `reason`, why the suspension was due)."""
        with self._lock:
            if self.placed < self.limit:
                self.placed += 1
                return True
            self.held_back.append(customer_id)
        if self.on_hold_back is not None:
            self.on_hold_back(customer_id, reason)
        return False

    def admit_warning(self, customer_id: str, reason: str = "") -> bool:
        """True: this warning may go out; False: it waits in the batch like a suspension."""
        with self._lock:
            if self.warned < self.warning_limit:
                self.warned += 1
                return True
            self.warnings_held_back.append(customer_id)
        if self.on_hold_back is not None:
            self.on_hold_back(customer_id, reason)
        return False
