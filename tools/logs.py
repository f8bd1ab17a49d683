"""How the local tools log: one readable line per thing a person should know, unless asked for more.

`make run` (tools/run_local.py) and the programs it starts (the demo ledger, the list reindex,
the local Functions host) show their own lines and the app's warnings only. With
`LOCAL_RUN_VERBOSE=1` (`make run RUN_ARGS=--verbose` sets it) they log everything at INFO, the
app's metrics and Partner Center calls included. The Azure SDK's HTTP logging (every request's
and response's headers) stays off in both cases unless `AZURE_SDK_HTTP_LOGGING=true` asks for it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable

VERBOSE_ENV = "LOCAL_RUN_VERBOSE"
SDK_HTTP_LOGGER = "azure.core.pipeline.policies.http_logging_policy"
_TRUE = ("1", "true", "yes", "on")


def verbose() -> bool:
    """True when the person asked for every component's own log lines."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in _TRUE


def sdk_http_logging() -> bool:
    """True when the Azure SDK's request/response header dumps were asked for."""
    return os.environ.get("AZURE_SDK_HTTP_LOGGING", "").strip().lower() in _TRUE


class _Short(logging.Formatter):
    """`  name: message`, with the level named only when it is not INFO."""

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        text = f"  {level}{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure(own: Iterable[str], *, quiet_app: Iterable[str] = ()) -> bool:
    """Set up logging for a local tool; answer whether it is verbose.

    `own` are the tool's loggers, shown at INFO. When not verbose, everything else shows
    warnings only, except that `quiet_app` lists loggers kept at WARNING while the rest of the
    app stays at INFO (the host: invocations and alerts yes, metrics no); an empty `quiet_app`
    means the whole app at WARNING.
    """
    loud = verbose()
    quiet_app = tuple(quiet_app)
    handler = logging.StreamHandler(sys.stderr)
    if loud:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.INFO
    else:
        handler.setFormatter(_Short())
        root = logging.INFO if quiet_app else logging.WARNING
    logging.basicConfig(level=root, handlers=[handler], force=True)
    for name in own:
        logging.getLogger(name).setLevel(logging.INFO)
    if not loud:
        for name in quiet_app:
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("azure").setLevel(logging.WARNING)
    logging.getLogger(SDK_HTTP_LOGGER).setLevel(logging.INFO if sdk_http_logging() else logging.WARNING)
    return loud
