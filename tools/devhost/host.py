"""DevHost: runs a `func.FunctionApp` locally (HTTP, timer and Storage queue triggers)."""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
from azure.core.exceptions import AzureError
from azure.functions.queue import QueueMessage as FunctionMessage
from azure.functions.timer import TimerRequest

from tools.devhost.easyauth import EasyAuth
from tools.devhost.errors import (
    SERVICE_BUS_MESSAGE,
    ConfigurationError,
    DevHostError,
    FunctionNotFoundError,
    UnsupportedTriggerError,
)
from tools.devhost.gateway import HttpGateway
from tools.devhost.http import HttpServerThread
from tools.devhost.invoker import FunctionSpec, Invoker, discover_functions
from tools.devhost.ncrontab import CronSchedule, IntervalSchedule, ScheduleError, parse_schedule
from tools.devhost.queues import (
    QueueListener,
    QueueOutput,
    encode_text,
    ensure_queue,
    queue_client,
)
from tools.devhost.settings import HostOptions, SettingsResolver
from tools.devhost.timers import TimerRunner, timer_request

logger = logging.getLogger("tools.devhost")

DEFAULT_FUNCTION_KEY = "local-dev-key"
FUNCTION_KEY_SETTING = "DEVHOST_FUNCTION_KEY"
EASY_AUTH_SETTING = "WEBSITE_AUTH_ENABLED"  # what App Service sets while its authentication is on
_QUEUE_NAME = re.compile(r"^(?=.{3,56}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")  # room for -poison


@dataclass(frozen=True)
class _QueueBinding:
    function: FunctionSpec
    argument: str
    queue_name: str
    connection_string: str


@dataclass(frozen=True)
class _TimerBinding:
    function: FunctionSpec
    schedule: CronSchedule | IntervalSchedule
    run_on_startup: bool


class DevHost:
    """A small local Azure Functions host for one FunctionApp.

    Construction validates everything (settings, schedules, routes, triggers) and raises
    ConfigurationError / UnsupportedTriggerError; `start()` binds the port, creates queues and
    starts the background threads; `stop()` stops and joins them.
    """

    def __init__(
        self,
        app: func.FunctionApp,
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        host_json: Mapping[str, Any] | None = None,
        settings_defaults: Mapping[str, str] | None = None,
        function_key: str | None = None,
        easy_auth: bool = True,
    ) -> None:
        self.options = HostOptions.from_host_json(host_json)
        self.settings = SettingsResolver(settings_defaults)
        self._host, self._port = host, port
        self._key = function_key or os.environ.get(FUNCTION_KEY_SETTING) or DEFAULT_FUNCTION_KEY
        self.functions: dict[str, FunctionSpec] = {}
        self._timers: list[_TimerBinding] = []
        self._triggers: list[_QueueBinding] = []
        self._outputs: dict[str, list[_QueueBinding]] = {}
        for spec in discover_functions(app):
            if self._disabled(spec.name):
                logger.info("function %s is disabled", spec.name)
                continue
            self._validate(spec)
            self.functions[spec.name] = spec
        self._invoker = Invoker()
        # App Service Authentication, emulated: the app sees WEBSITE_AUTH_ENABLED as in Azure.
        self.easy_auth = EasyAuth() if easy_auth else None
        if easy_auth:
            os.environ[EASY_AUTH_SETTING] = "True"
        else:
            os.environ.pop(EASY_AUTH_SETTING, None)
        self._gateway = HttpGateway(
            self.functions.values(),
            route_prefix=self.options.route_prefix,
            function_key=self._key,
            run=self._run,
            admin_submit=self._submit,
            easy_auth=self.easy_auth,
        )
        self._stop_event = threading.Event()
        self._http: HttpServerThread | None = None
        self._runners: list[TimerRunner] = []
        self._listeners: list[QueueListener] = []
        self._background: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._ensured: set[tuple[str, str]] = set()
        self._started = self._stopped = False

    # -- configuration -------------------------------------------------------------------

    def _disabled(self, name: str) -> bool:
        allowed = self.options.functions
        if allowed is not None and name.lower() not in {n.lower() for n in allowed}:
            return True
        flag = self.settings.get(f"AzureWebJobs.{name}.Disabled") or ""
        return flag.strip().lower() in ("true", "1")

    def _queue(self, spec: FunctionSpec, binding: Mapping[str, Any], what: str) -> _QueueBinding:
        context = f"function {spec.name!r} ({what})"
        # like the WebJobs SDK: resolve %SETTING%, then lower-case, then validate
        name = self.settings.resolve(str(binding.get("queueName") or ""), context=context).lower()
        if not _QUEUE_NAME.match(name):
            raise ConfigurationError(f"{context}: {name!r} is not a valid storage queue name")
        _, connection = self.settings.connection_string(binding.get("connection"), context=context)
        return _QueueBinding(spec, str(binding.get("name")), name, connection)

    def _validate(self, spec: FunctionSpec) -> None:
        kind = spec.trigger_type
        if kind == "serviceBusTrigger":
            raise UnsupportedTriggerError(f"{SERVICE_BUS_MESSAGE} (function {spec.name!r})")
        if kind == "timerTrigger":
            raw = str(spec.trigger.get("schedule") or "")
            expression = self.settings.resolve(raw, context=f"function {spec.name!r} schedule")
            try:
                schedule = parse_schedule(expression)
            except ScheduleError as exc:
                shown = raw if raw == expression else f"{raw} = {expression!r}"
                raise ConfigurationError(
                    f"function {spec.name!r}: invalid schedule {shown!r}: {exc}"
                ) from None
            self._timers.append(_TimerBinding(spec, schedule, bool(spec.trigger.get("runOnStartup"))))
        elif kind == "queueTrigger":
            self._triggers.append(self._queue(spec, spec.trigger, "queue trigger"))
        elif kind != "httpTrigger":
            raise UnsupportedTriggerError(
                f"function {spec.name!r}: trigger type {kind!r} is not supported by the local host "
                "(supported: httpTrigger, timerTrigger, queueTrigger)"
            )
        for binding in spec.other_bindings:
            if binding.get("type") != "queue":
                raise ConfigurationError(
                    f"function {spec.name!r}: binding {binding.get('type')!r} "
                    f"({binding.get('name')}) is not supported by the local host"
                )
            output = self._queue(spec, binding, f"queue output {binding.get('name')}")
            self._outputs.setdefault(spec.name, []).append(output)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The HTTP port (the bound one once started, useful with port=0)."""
        return self._http.port if self._http is not None else self._port

    @property
    def base_url(self) -> str:
        """E.g. `http://127.0.0.1:7071`."""
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Create queues, bind the HTTP port and start all background threads (non-blocking)."""
        if self._started:
            raise RuntimeError("DevHost.start() was already called")
        self._started = True
        try:
            for binding in self._triggers:
                listener = QueueListener(
                    binding.function.name,
                    binding.queue_name,
                    binding.connection_string,
                    self.options.queues,
                    self._queue_handler(binding.function),
                    self._stop_event,
                )
                self._listeners.append(listener)
                try:
                    listener.prepare()
                except AzureError as exc:
                    raise DevHostError(
                        f"function {binding.function.name!r}: cannot create queue "
                        f"{binding.queue_name!r}: {exc}"
                    ) from exc
            try:
                self._http = HttpServerThread(self._host, self._port, self._gateway)
            except OSError as exc:
                raise DevHostError(f"cannot listen on {self._host}:{self._port}: {exc}") from exc
            self._http.start()
            for listener in self._listeners:
                listener.start()
            self._log_started()
            for timer in self._timers:
                runner = TimerRunner(
                    timer.function.name,
                    timer.schedule,
                    self._timer_handler(timer.function),
                    self._stop_event,
                    run_on_startup=timer.run_on_startup,
                )
                self._runners.append(runner)
                runner.start()
        except BaseException:
            self.stop()
            raise

    def _log_started(self) -> None:
        logger.info("DevHost listening on %s (%d functions)", self.base_url, len(self.functions))
        listing = logging.getLogger("tools.devhost.functions")  # one line per function
        for spec in self.functions.values():
            if spec.trigger_type == "httpTrigger":
                methods = ",".join(spec.trigger.get("methods") or ["*"])
                prefix = f"/{self.options.route_prefix}" if self.options.route_prefix else ""
                route = spec.trigger.get("route") or spec.name
                listing.info("  %s: [%s] %s%s/%s", spec.name, methods, self.base_url, prefix, route)
            else:
                listing.info("  %s: %s", spec.name, spec.trigger_type)

    def stop(self) -> None:
        """Stop serving and polling, join every thread, close clients. Safe to call twice."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop_event.set()
        if self._http is not None:
            self._http.stop()
        for runner in self._runners:
            runner.join()
        for listener in self._listeners:
            listener.join()
        for thread in list(self._background):
            thread.join()
        self._invoker.close()
        if self._started:
            logger.info("DevHost stopped")

    def __enter__(self) -> DevHost:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- invocation ----------------------------------------------------------------------

    def _run(self, spec: FunctionSpec, trigger_value: Any, invocation_id: str | None = None) -> Any:
        """Invoke with queue output bindings as `func.Out`, then send what they were set to."""
        outputs = self._outputs.get(spec.name, [])
        arguments = {b.argument: QueueOutput() for b in outputs if b.argument != "$return"}
        result = self._invoker.call(
            spec, trigger_value, extra_arguments=arguments, invocation_id=invocation_id
        )
        for binding in outputs:
            out = arguments.get(binding.argument) or QueueOutput()
            if binding.argument == "$return":
                out.set(result)
            self._send(binding, out.messages())
        return result

    def _send(self, binding: _QueueBinding, bodies: list[bytes]) -> None:
        if not bodies:
            return
        with queue_client(binding.connection_string, binding.queue_name) as client:
            key = (binding.connection_string, binding.queue_name)
            if key not in self._ensured:
                ensure_queue(client)
                self._ensured.add(key)
            for body in bodies:
                client.send_message(encode_text(body, self.options.queues.message_encoding))

    def _queue_handler(self, spec: FunctionSpec) -> Callable[[FunctionMessage], None]:
        return lambda message: self._run(spec, message)

    def _timer_handler(self, spec: FunctionSpec) -> Callable[[TimerRequest], None]:
        return lambda request: self._run(spec, request)

    def _submit(self, spec: FunctionSpec, value: str | None) -> None:
        def target() -> None:
            try:
                self.invoke(spec.name, value)
            except Exception:  # noqa: BLE001 - logged by the invoker
                pass

        thread = threading.Thread(target=target, name=f"devhost-admin-{spec.name}", daemon=True)
        with self._lock:
            self._background = [t for t in self._background if t.is_alive()]
            self._background.append(thread)
        thread.start()

    def invoke(self, function_name: str, input: str | bytes | None = None) -> Any:
        """Run a timer or queue function once (timer: not past due; queue: `input` as body).

        Returns the function's result and re-raises its exception.
        """
        spec = self.functions.get(function_name) or next(
            (s for s in self.functions.values() if s.name.lower() == function_name.lower()), None
        )
        if spec is None:
            raise FunctionNotFoundError(f"no function named {function_name!r}")
        now = datetime.now(UTC)
        if spec.trigger_type == "timerTrigger":
            value: Any = timer_request(past_due=False, last=None, next_=None, now=now)
        elif spec.trigger_type == "queueTrigger":
            value = FunctionMessage(  # type: ignore[no-untyped-call]
                id=str(uuid.uuid4()),
                body=input if input is not None else b"",
                dequeue_count=1,
                insertion_time=now,
                expiration_time=now + timedelta(days=7),
                time_next_visible=now,
            )
        else:
            raise DevHostError(f"{spec.name} is HTTP-triggered; call it on {self.base_url}")
        return self._run(spec, value)
