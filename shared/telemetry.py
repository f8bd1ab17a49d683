"""Custom metrics, correlation ids and the Application Insights exporter, one place for every flow.

`metric()` always writes a structured log line (so local runs and tests see it) and, when
OpenTelemetry is configured (Application Insights in Azure), also records it as a counter.

`correlation_scope(correlation_id)` makes a correlation id current for a block of code (a scan,
one reconcile message, one HTTP request); `CorrelationFilter` copies it onto every log record
that does not carry its own, so every line of that block can be found with one query.

`configure_telemetry(settings)` installs the Azure Monitor OpenTelemetry distro when
`APPLICATIONINSIGHTS_CONNECTION_STRING` is set, and does nothing otherwise (local runs, tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.settings import AppSettings

log = logging.getLogger("collections_guard.metrics")
_telemetry_log = logging.getLogger("collections_guard.telemetry")

METER_NAME = "collections_guard"

_lock = threading.Lock()
_meter: Any = None
_counters: dict[str, Any] = {}
_configured = False

_correlation_id: ContextVar[str | None] = ContextVar("collections_guard_correlation_id", default=None)


def set_meter(meter: Any) -> None:
    """Install an OpenTelemetry meter (done once at start-up when telemetry is configured)."""
    global _meter
    with _lock:
        _meter = meter
        _counters.clear()


# Attributes every LogRecord has: `logging` refuses them (KeyError) as keys of `extra`.
RESERVED_LOG_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def log_fields(fields: dict[str, Any] | None = None, /, **more: Any) -> dict[str, Any]:
    """The `extra=` of a log call built from keys that are not all literals (an error's
    `describe()`, metric attributes): a key a LogRecord reserves gets a `field_` prefix."""
    merged = {**(fields or {}), **more}
    return {(f"field_{key}" if key in RESERVED_LOG_KEYS else key): value for key, value in merged.items()}


def metric(name: str, value: int | float = 1, **attributes: str | int | bool) -> None:
    """Count `value` under `name` (e.g. `scan.holds_placed`), with low-cardinality attributes."""
    log.info("metric %s=%s", name, value, extra=log_fields(attributes, metric=name, value=value))
    with _lock:
        meter = _meter
        if meter is None:
            return
        counter = _counters.get(name)
        if counter is None:
            counter = meter.create_counter(name)
            _counters[name] = counter
    counter.add(value, attributes=dict(attributes))


# --- Correlation ids -------------------------------------------------------------------------


@contextmanager
def correlation_scope(correlation_id: str) -> Iterator[str]:
    """Make `correlation_id` current inside the block (nested scopes restore the outer one)."""
    token = _correlation_id.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation_id.reset(token)


def current_correlation_id() -> str | None:
    """The correlation id of the enclosing `correlation_scope`, or None outside any scope."""
    return _correlation_id.get()


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` from the current scope to records that do not already carry one.

    A filter (not a record factory) because callers also pass `extra={"correlation_id": ...}`,
    and the logging module refuses an `extra` key that the factory already set.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            current = _correlation_id.get()
            if current is not None:
                record.correlation_id = current
        return True


_FILTER = CorrelationFilter()


def install_correlation_filter(*handlers: logging.Handler) -> None:
    """Attach the correlation filter to `handlers`, or to every handler of the root logger.

    Handler filters see records propagated from every logger, which logger filters do not.
    Installing twice is harmless.
    """
    targets = handlers or tuple(logging.getLogger().handlers)
    for handler in targets:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


# --- Azure Monitor ---------------------------------------------------------------------------


def aad_client_id(authentication_string: str | None) -> str | None:
    """The managed identity client id when the string asks for Entra ID (AAD) auth, else None.

    The format is the Functions one: `Authorization=AAD;ClientId=<guid>` (ClientId optional:
    without it the system-assigned identity is meant, returned as an empty string).
    """
    if not authentication_string:
        return None
    parts: dict[str, str] = {}
    for item in authentication_string.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            parts[key.strip().lower()] = value.strip()
    if parts.get("authorization", "").upper() != "AAD":
        return None
    return parts.get("clientid", "")


def _azure_monitor_configurator() -> Callable[..., None]:
    from azure.monitor.opentelemetry import configure_azure_monitor

    return configure_azure_monitor


def _managed_identity(client_id: str) -> Any:
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()


def _default_meter() -> Any:
    from opentelemetry import metrics

    return metrics.get_meter(METER_NAME)


def configure_telemetry(
    settings: AppSettings,
    *,
    configure: Callable[..., None] | None = None,
    credential_factory: Callable[[str], Any] | None = None,
    meter_factory: Callable[[], Any] | None = None,
) -> bool:
    """Export logs, traces and metrics to Application Insights when its connection string is set.

    Returns True when telemetry is (or already was) configured, False when there is nothing to
    configure. The keyword arguments exist for tests; production passes only `settings`.
    """
    global _configured
    connection_string = settings.applicationinsights_connection_string
    if not connection_string:
        return False
    with _lock:
        if _configured:
            return True
        _configured = True
    options: dict[str, Any] = {"connection_string": connection_string}
    client_id = aad_client_id(settings.applicationinsights_authentication_string)
    if client_id is not None:
        # Local auth is off on the Application Insights resource: ingestion needs a token.
        options["credential"] = (credential_factory or _managed_identity)(client_id)
    try:
        (configure or _azure_monitor_configurator())(**options)
        set_meter((meter_factory or _default_meter)())
    except Exception:
        with _lock:
            _configured = False
        raise
    install_correlation_filter()
    _telemetry_log.info(
        "telemetry configured", extra={"exporter": "azure_monitor", "aad": client_id is not None}
    )
    return True


def reset_telemetry() -> None:
    """Forget the configured state and meter (tests only; the exporter itself stays installed)."""
    global _configured
    with _lock:
        _configured = False
    set_meter(None)
