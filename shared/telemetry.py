"""Custom metrics and structured events, one call site for every flow.

`metric()` always writes a structured log line (so local runs and tests see it) and, when
OpenTelemetry is configured (Application Insights in Azure), also records it as a counter.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("collections_guard.metrics")

_lock = threading.Lock()
_meter: Any = None
_counters: dict[str, Any] = {}


def set_meter(meter: Any) -> None:
    """Install an OpenTelemetry meter (done once at start-up when telemetry is configured)."""
    global _meter
    with _lock:
        _meter = meter
        _counters.clear()


def metric(name: str, value: int | float = 1, **attributes: str | int | bool) -> None:
    """Count `value` under `name` (e.g. `scan.holds_placed`), with low-cardinality attributes."""
    log.info("metric %s=%s", name, value, extra={"metric": name, "value": value, **attributes})
    with _lock:
        meter = _meter
        if meter is None:
            return
        counter = _counters.get(name)
        if counter is None:
            counter = meter.create_counter(name)
            _counters[name] = counter
    counter.add(value, attributes=dict(attributes))
