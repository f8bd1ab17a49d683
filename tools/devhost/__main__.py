"""`python -m tools.devhost`: run function_app.py locally, like `func start`.

Exit codes: 0 after SIGINT/SIGTERM and a clean stop; 2 for configuration errors (malformed
local.settings.json or host.json, app import failure, unresolvable settings, Service Bus
triggers, port in use).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import azure.functions as func

from tools.devhost.errors import ConfigurationError, DevHostError
from tools.devhost.host import DevHost
from tools.devhost.settings import apply_values, load_host_json, load_local_settings

logger = logging.getLogger("tools.devhost")
DEFAULT_PORT = 7071


def load_app(spec: str) -> func.FunctionApp:
    """Import `module:attribute` (attribute defaults to `app`) and return the FunctionApp."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app", None)
    if not isinstance(app, func.FunctionApp):
        raise ConfigurationError(f"{spec}: {attribute or 'app'} is not a func.FunctionApp")
    return app


def load_settings_defaults() -> dict[str, str]:
    """`shared.settings.default_app_settings()`, or {} when that cannot be imported."""
    try:
        from shared.settings import default_app_settings  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        logger.info("shared.settings.default_app_settings not available; no setting defaults")
        return {}
    return {str(name): str(value) for name, value in default_app_settings().items()}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.devhost", description="Run a Functions app locally."
    )
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="HTTP port (default: Host.LocalHttpPort in the settings file, else 7071)",
    )
    parser.add_argument("--settings", default="local.settings.json", help="local.settings.json path")
    parser.add_argument("--host-json", default="host.json", help="host.json path")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; return the exit code."""
    args = parse_args(argv)
    from tools import logs

    # The host's own lines and the app's at INFO; the per-function listing, the app's metrics and
    # its Partner Center call lines only when verbose (LOCAL_RUN_VERBOSE=1).
    logs.configure(
        ["tools.devhost"],
        quiet_app=[
            "tools.devhost.functions",
            "collections_guard.metrics",
            "shared.adapters.partner_center.http",
        ],
    )
    try:
        local = load_local_settings(Path(args.settings))
        host_json = load_host_json(Path(args.host_json))
    except ConfigurationError as exc:
        print(f"devhost: {exc}", file=sys.stderr)
        return 2
    overridden = sorted(k for k, v in local.values.items() if k in os.environ and os.environ[k] != v)
    apply_values(local.values, os.environ)
    if overridden and not os.environ.get("LOCAL_RUN_LAUNCHER"):
        # Only what the person should know: a value of the file that does not apply (under
        # `make run`, the launcher sets storage, simulator and SMTP addresses on purpose).
        logger.warning(
            "%s: %s set in the environment too; the environment's value is used",
            args.settings,
            ", ".join(overridden),
        )
    port = args.port if args.port is not None else local.http_port or DEFAULT_PORT
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        app = load_app(args.app)
    except ConfigurationError as exc:
        print(f"devhost: {exc}", file=sys.stderr)
        return 2
    except Exception:
        logger.exception("cannot import the app %s", args.app)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl+C kills at once

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            host = DevHost(
                app,
                host=args.host,
                port=port,
                host_json=host_json,
                settings_defaults=load_settings_defaults(),
            )
            host.start()
        except DevHostError as exc:
            print(f"devhost: {exc}", file=sys.stderr)
            return 2
        try:
            while not stop.wait(0.5):
                pass
        finally:
            host.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
