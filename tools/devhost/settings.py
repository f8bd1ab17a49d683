"""App settings, `%NAME%` expressions, local.settings.json and host.json for the local host.

Resolution order for a setting: the process environment first (local.settings.json `Values` are
copied into it without overriding what is already set, as Core Tools do), then the app's own
defaults (`settings_defaults`, e.g. `shared.settings.default_app_settings()`). Azure and Core
Tools have no such fallback: a `%NAME%` that is not an app setting stops the function from
indexing there, so the host logs a warning each time it falls back on a default.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tools.devhost.errors import ConfigurationError

logger = logging.getLogger("tools.devhost")

SETTING_EXPRESSION = re.compile(r"%([^%\s]+)%")
DEFAULT_STORAGE_SETTING = "AzureWebJobsStorage"
_TIMESPAN = re.compile(
    r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{1,2})(?::(?P<s>\d{1,2})(?:\.(?P<frac>\d{1,7}))?)?$"
)


class SettingsResolver:
    """Looks up app settings: environment first, then the app's defaults."""

    def __init__(
        self,
        defaults: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._defaults = dict(defaults or {})
        self._environ = environ

    def get(self, name: str) -> str | None:
        """The value of setting `name`, or None if neither the environment nor defaults have it."""
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(name)
        if value is None:
            value = self._defaults.get(name)
        return value

    def resolve(self, expression: str, *, context: str) -> str:
        """Replace every `%NAME%` in `expression`; raise ConfigurationError naming a missing one."""

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            value = self.get(name)
            if value is None:
                raise ConfigurationError(
                    f"{context}: app setting {name!r} (used as %{name}%) is not set; "
                    "set it in the environment or in local.settings.json Values"
                )
            environ = os.environ if self._environ is None else self._environ
            if name not in environ:
                logger.warning(
                    "%s: %%%s%% is not an app setting; using the app's default %r. Azure and "
                    "`func start` would not index this function: set %s (local.settings.json Values)",
                    context,
                    name,
                    value,
                    name,
                )
            return value

        return SETTING_EXPRESSION.sub(substitute, expression)

    def connection_string(self, connection: str | None, *, context: str) -> tuple[str, str]:
        """Resolve a binding's `connection` (a setting name) to (setting name, connection string).

        An empty connection means `AzureWebJobsStorage`; like the Functions host, a name `X` that
        is not set is also tried as `AzureWebJobsX`.
        """
        name = (connection or "").strip()
        match = SETTING_EXPRESSION.fullmatch(name)
        if match:
            name = match.group(1)
        if not name:
            name = DEFAULT_STORAGE_SETTING
        for candidate in (name, f"AzureWebJobs{name}"):
            value = self.get(candidate)
            if value:
                return candidate, value
        raise ConfigurationError(
            f"{context}: connection setting {name!r} is not set (it must hold a storage "
            "connection string; identity-based connections are not supported by the local host)"
        )


def parse_timespan(value: object, *, what: str) -> timedelta:
    """Parse a .NET TimeSpan (`hh:mm:ss`, `hh:mm:ss.fff`, `d.hh:mm:ss`) or milliseconds (int)."""
    if isinstance(value, bool):
        raise ConfigurationError(f"{what}: expected a TimeSpan like '00:00:02', got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ConfigurationError(f"{what}: must not be negative, got {value!r}")
        return timedelta(milliseconds=value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return timedelta(milliseconds=int(text))
        match = _TIMESPAN.match(text)
        if match:
            hours, minutes = int(match["h"]), int(match["m"])
            seconds = int(match["s"] or 0)
            if hours < 24 and minutes < 60 and seconds < 60:
                fraction = float("0." + match["frac"]) if match["frac"] else 0.0
                return timedelta(
                    days=int(match["days"] or 0),
                    hours=hours,
                    minutes=minutes,
                    seconds=seconds + fraction,
                )
    raise ConfigurationError(f"{what}: expected a TimeSpan like '00:00:02', got {value!r}")


def _get_ci(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """Case-insensitive lookup, the way .NET configuration reads host.json."""
    if not isinstance(mapping, Mapping):
        return None
    for candidate, value in mapping.items():
        if isinstance(candidate, str) and candidate.lower() == key.lower():
            return value
    return None


def _positive_int(value: object, *, what: str, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{what}: expected a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{what}: must be at most {maximum}, got {value!r}")
    return value


@dataclass(frozen=True)
class QueueOptions:
    """host.json `extensions.queues`, with this dev host's defaults."""

    max_polling_interval: timedelta = timedelta(seconds=2)
    batch_size: int = 16
    max_dequeue_count: int = 5
    visibility_timeout: timedelta = timedelta(0)
    message_encoding: str = "base64"


@dataclass(frozen=True)
class HostOptions:
    """The host.json keys that the local host honours."""

    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)
    functions: tuple[str, ...] | None = None

    @classmethod
    def from_host_json(cls, host_json: Mapping[str, Any] | None) -> HostOptions:
        """Read `extensions.http.routePrefix`, `extensions.queues.*` and `functions`."""
        if host_json is None:
            return cls()
        if not isinstance(host_json, Mapping):
            raise ConfigurationError("host.json: the top level must be a JSON object")
        extensions = _get_ci(host_json, "extensions")
        http = _get_ci(extensions, "http")
        prefix = _get_ci(http, "routePrefix")
        if prefix is None:
            prefix = "api"
        if not isinstance(prefix, str):
            raise ConfigurationError(f"host.json extensions.http.routePrefix: not a string: {prefix!r}")
        queues = _get_ci(extensions, "queues")
        defaults = QueueOptions()
        where = "host.json extensions.queues."
        raw_interval = _get_ci(queues, "maxPollingInterval")
        raw_visibility = _get_ci(queues, "visibilityTimeout")
        raw_batch = _get_ci(queues, "batchSize")
        raw_dequeue = _get_ci(queues, "maxDequeueCount")
        raw_encoding = _get_ci(queues, "messageEncoding")
        encoding = defaults.message_encoding if raw_encoding is None else str(raw_encoding).lower()
        if encoding not in ("base64", "none"):
            raise ConfigurationError(
                f"{where}messageEncoding: expected 'base64' or 'none', got {raw_encoding!r}"
            )
        interval = (
            defaults.max_polling_interval
            if raw_interval is None
            else parse_timespan(raw_interval, what=f"{where}maxPollingInterval")
        )
        if interval < timedelta(milliseconds=100):
            raise ConfigurationError(f"{where}maxPollingInterval: must be at least 100 ms")
        queue_options = QueueOptions(
            max_polling_interval=interval,
            batch_size=defaults.batch_size
            if raw_batch is None
            else _positive_int(raw_batch, what=f"{where}batchSize", maximum=32),
            max_dequeue_count=defaults.max_dequeue_count
            if raw_dequeue is None
            else _positive_int(raw_dequeue, what=f"{where}maxDequeueCount"),
            visibility_timeout=defaults.visibility_timeout
            if raw_visibility is None
            else parse_timespan(raw_visibility, what=f"{where}visibilityTimeout"),
            message_encoding=encoding,
        )
        functions = _get_ci(host_json, "functions")
        if functions is not None and (
            not isinstance(functions, list) or not all(isinstance(f, str) for f in functions)
        ):
            raise ConfigurationError("host.json functions: expected a list of function names")
        return cls(
            route_prefix=prefix.strip("/"),
            queues=queue_options,
            functions=None if functions is None else tuple(functions),
        )


@dataclass(frozen=True)
class LocalSettings:
    """What local.settings.json contributes: `Values` and `Host.LocalHttpPort`."""

    values: dict[str, str] = field(default_factory=dict)
    http_port: int | None = None
    found: bool = False


def load_local_settings(path: Path) -> LocalSettings:
    """Read local.settings.json; a missing file is empty, a malformed one a ConfigurationError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return LocalSettings()
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: the top level must be a JSON object")
    if data.get("IsEncrypted") is True:
        raise ConfigurationError(f"{path}: encrypted settings are not supported by the local host")
    values = data.get("Values", {}) or {}
    if not isinstance(values, dict):
        raise ConfigurationError(f"{path}: Values must be a JSON object of strings")
    for name, value in values.items():
        if not isinstance(value, str):
            raise ConfigurationError(f"{path}: Values.{name} must be a string, got {value!r}")
    host = data.get("Host", {}) or {}
    if not isinstance(host, dict):
        raise ConfigurationError(f"{path}: Host must be a JSON object")
    port = host.get("LocalHttpPort")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
        raise ConfigurationError(f"{path}: Host.LocalHttpPort must be a port number, got {port!r}")
    return LocalSettings(values=dict(values), http_port=port, found=True)


def apply_values(values: Mapping[str, str], environ: MutableMapping[str, str]) -> list[str]:
    """Copy `values` into `environ` without overriding existing variables; return names set."""
    applied = []
    for name, value in values.items():
        if name not in environ:
            environ[name] = value
            applied.append(name)
    return applied


def load_host_json(path: Path) -> dict[str, Any] | None:
    """Read host.json; None when missing; ConfigurationError when malformed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: the top level must be a JSON object")
    return data


def with_app_http(overrides: Mapping[str, Any] | None = None, root: Path | None = None) -> dict[str, Any]:
    """`overrides` (a test's or bench's host.json) with the app's own `extensions.http` (its
    routePrefix) from the repository's host.json, so those hosts serve the app's real URLs."""
    base = load_host_json((root or Path(__file__).resolve().parents[2]) / "host.json") or {}
    http = _get_ci(_get_ci(base, "extensions"), "http")
    out = dict(overrides or {})
    extensions = dict(_get_ci(out, "extensions") or {})
    out.pop("extensions", None)
    if http is not None:
        extensions.setdefault("http", http)
    if extensions:
        out["extensions"] = extensions
    return out
