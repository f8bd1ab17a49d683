"""HTTP, timer and queue entry points (one Blueprint per module).

Importing this package configures telemetry once per process (Application Insights when its
connection string is set) and adds correlation ids to log records. It lives here, not in
`function_app.py`, which only registers Blueprints; any failure is logged and swallowed,
because an exception during import means "0 functions found" and a silently dead app.
"""

from __future__ import annotations

import logging
import os

from shared.settings import load_settings
from shared.telemetry import configure_telemetry, install_correlation_filter

_log = logging.getLogger("collections_guard.startup")

# The Azure SDKs log every request and response header at INFO: noise that buries the app's own
# lines (and costs ingestion in Application Insights). Warnings and errors still come through.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
logging.getLogger("azure.identity").setLevel(logging.WARNING)


def configure_process_telemetry() -> bool:
    """Configure telemetry from the app settings; never raises. True when it is exporting."""
    try:
        install_correlation_filter()
        if not any(name.upper() == "APPLICATIONINSIGHTS_CONNECTION_STRING" for name in os.environ):
            return False  # nothing to export to; do not validate every other setting at import
        return configure_telemetry(load_settings())
    except Exception as exc:  # noqa: BLE001 - telemetry must never stop the functions from indexing
        # The type only: a message could echo the connection string.
        _log.warning("telemetry not configured: %s", type(exc).__name__)
        return False


configure_process_telemetry()
