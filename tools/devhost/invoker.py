"""Discover the functions of a `func.FunctionApp` and invoke them, sync or `async def`.

Sync functions run on the calling thread (an HTTP connection thread, a timer thread, a queue
worker). Coroutine functions all run on one event loop in a dedicated thread, as the Python
worker runs them on its single loop. Every invocation logs one INFO line with structured
`extra` fields: `function_name`, `trigger_type`, `outcome`, `duration_ms`, `invocation_id`.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from azure.functions import _abc as func_abc

logger = logging.getLogger("tools.devhost.invocations")


def _plain(value: Any) -> Any:
    """Enum members (BindingDirection, AuthLevel, HttpMethod) -> their plain values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def plain_binding(binding: Mapping[str, Any]) -> dict[str, Any]:
    """A binding's `get_dict_repr()` with enum values replaced by strings."""
    return {key: _plain(value) for key, value in binding.items()}


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the app, as the host sees it."""

    name: str
    function: Callable[..., Any]
    trigger: dict[str, Any]
    bindings: tuple[dict[str, Any], ...]
    parameters: tuple[str, ...] = field(default=())

    @property
    def trigger_type(self) -> str:
        """The trigger binding type, e.g. `httpTrigger`."""
        return str(self.trigger.get("type", ""))

    @property
    def arg_name(self) -> str:
        """The name of the argument that receives the trigger value."""
        return str(self.trigger.get("name", ""))

    @property
    def is_async(self) -> bool:
        """True for `async def` functions."""
        return inspect.iscoroutinefunction(self.function)

    @property
    def other_bindings(self) -> tuple[dict[str, Any], ...]:
        """Bindings other than the trigger and the HTTP response (`http` `$return`)."""
        return tuple(b for b in self.bindings if b.get("name") != self.arg_name and b.get("type") != "http")


def discover_functions(app: func.FunctionApp) -> list[FunctionSpec]:
    """Read `app.get_functions()` into FunctionSpecs (indexing errors propagate)."""
    specs = []
    # get_functions() records the names it has seen in `functions_bindings` and refuses them on
    # a second call; reset that so that several hosts (tests, restarts) can index the same app.
    # Genuine duplicate names are still refused by the call itself.
    if getattr(app, "functions_bindings", None):
        app.functions_bindings = None
    for function in app.get_functions():
        user_function = function.get_user_function()
        name = function.get_function_name() or user_function.__name__
        raw_trigger = function.get_trigger()
        if raw_trigger is None:
            raise ValueError(f"function {name!r} has no trigger")
        trigger = plain_binding(raw_trigger.get_dict_repr())
        bindings = [plain_binding(b.get_dict_repr()) for b in function.get_bindings()]
        try:
            parameters = tuple(inspect.signature(user_function).parameters)
        except (TypeError, ValueError):
            parameters = ()
        specs.append(
            FunctionSpec(
                name=name,
                function=user_function,
                trigger=trigger,
                bindings=tuple(bindings),
                parameters=parameters,
            )
        )
    return specs


class _TraceContext(func_abc.TraceContext):
    def __init__(self) -> None:
        self._parent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(func_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """The `context` argument that functions may declare."""

    _local = threading.local()

    def __init__(self, invocation_id: str, spec: FunctionSpec) -> None:
        self._invocation_id = invocation_id
        self._spec = spec
        self._trace = _TraceContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._local

    @property
    def function_name(self) -> str:
        return self._spec.name

    @property
    def function_directory(self) -> str:
        source = inspect.getsourcefile(self._spec.function) or os.getcwd()
        return os.path.dirname(os.path.abspath(source))

    @property
    def trace_context(self) -> func_abc.TraceContext:
        return self._trace

    @property
    def retry_context(self) -> func_abc.RetryContext:
        return _RetryContext()


class Invoker:
    """Calls user functions and logs one line per invocation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="devhost-asyncio", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def close(self) -> None:
        """Stop the event loop thread (if one was started)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()

    def call(
        self,
        spec: FunctionSpec,
        trigger_value: Any,
        *,
        extra_arguments: Mapping[str, Any] | None = None,
        invocation_id: str | None = None,
    ) -> Any:
        """Invoke `spec` with its trigger argument; return its result or re-raise its error."""
        invocation_id = invocation_id or str(uuid.uuid4())
        arguments: dict[str, Any] = {spec.arg_name: trigger_value, **(extra_arguments or {})}
        if "context" in spec.parameters and "context" not in arguments:
            arguments["context"] = InvocationContext(invocation_id, spec)
        started = time.perf_counter()
        outcome = "failed"
        try:
            if spec.is_async:
                future = asyncio.run_coroutine_threadsafe(spec.function(**arguments), self._event_loop())
                result = future.result()
            else:
                result = spec.function(**arguments)
            outcome = "succeeded"
            return result
        except Exception:
            logger.exception(
                "Function %s (%s) raised an exception",
                spec.name,
                invocation_id,
                extra={"function_name": spec.name, "invocation_id": invocation_id},
            )
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            logger.info(
                "Executed '%s' (%s, %s, Duration=%sms, Id=%s)",
                spec.name,
                spec.trigger_type,
                outcome.capitalize(),
                duration_ms,
                invocation_id,
                extra={
                    "function_name": spec.name,
                    "trigger_type": spec.trigger_type,
                    "outcome": outcome,
                    "duration_ms": duration_ms,
                    "invocation_id": invocation_id,
                },
            )
