"""HTTP, timer and queue entry points (one Blueprint per module).

Telemetry (Application Insights when its connection string is set, and correlation ids on log
records) is configured once per process, by the first invocation (`ensure_telemetry`, called by
every entry point), not at import: indexing the app must stay cheap, and the OpenTelemetry
exporter alone takes longer to import than the rest of the app. Any failure is logged and
swallowed: telemetry must never stop a function.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_log = logging.getLogger("collections_guard.startup")

# The Azure SDKs log every request and response header at INFO: noise that buries the app's own
# lines (and costs ingestion in Application Insights). Warnings and errors still come through;
# AZURE_SDK_HTTP_LOGGING=true asks for the dumps (when debugging a storage or Service Bus call).
if os.environ.get("AZURE_SDK_HTTP_LOGGING", "").strip().lower() not in ("1", "true", "yes", "on"):
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
logging.getLogger("azure.identity").setLevel(logging.WARNING)


def configure_process_telemetry() -> bool:
    """Configure telemetry from the app settings; never raises. True when it is exporting."""
    try:
        from shared.settings import load_settings
        from shared.telemetry import configure_telemetry, install_correlation_filter

        install_correlation_filter()
        if not any(name.upper() == "APPLICATIONINSIGHTS_CONNECTION_STRING" for name in os.environ):
            return False  # nothing to export to; do not validate every other setting at import
        return configure_telemetry(load_settings())
    except Exception as exc:  # noqa: BLE001 - telemetry must never stop the functions from indexing
        # The type only: a message could echo the connection string.
        _log.warning("telemetry not configured: %s", type(exc).__name__)
        return False


_ready = threading.Event()
_ready_lock = threading.Lock()


def ensure_telemetry() -> None:
    """Configure telemetry on the first invocation of the process (cheap afterwards)."""
    if _ready.is_set():
        return
    with _ready_lock:
        if not _ready.is_set():
            configure_process_telemetry()
            _ready.set()


def entry_point(fn: F) -> F:
    """A timer or queue function: telemetry is ready before it runs."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ensure_telemetry()
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
