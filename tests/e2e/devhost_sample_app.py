"""A small FunctionApp used only by the local-host tests (tests/e2e/test_devhost.py).

Functions record what they received in `EVENTS` so that tests can assert on it. Settings it
needs (resolved by the host): `SAMPLE_TICK_SCHEDULE`, `SAMPLE_QUEUE`, `SAMPLE_FAIL_QUEUE`,
`SAMPLE_OUT_QUEUE`, and `AzureWebJobsStorage`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


class Recorder:
    """Thread-safe list of (function name, details) that tests can wait on."""

    def __init__(self) -> None:
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._condition = threading.Condition()

    def add(self, name: str, **details: Any) -> None:
        with self._condition:
            self._events.append((name, details))
            self._condition.notify_all()

    def clear(self) -> None:
        with self._condition:
            self._events.clear()

    def of(self, name: str) -> list[dict[str, Any]]:
        with self._condition:
            return [details for event, details in self._events if event == name]

    def wait_for(
        self,
        name: str,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[dict[str, Any]], bool] = lambda _: True,
    ) -> list[dict[str, Any]]:
        """Wait until `count` matching events of `name` exist; return them (AssertionError if not)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [d for e, d in self._events if e == name and where(d)]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._condition.wait(remaining)
        assert len(found) >= count, f"expected {count} {name} events in {timeout}s, got {found}"
        return found


EVENTS = Recorder()


def _json(data: Any, status: int = 200, **headers: str) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data), status_code=status, headers=headers, mimetype="application/json"
    )


@app.route(route="greet/{name:alpha}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def greet(req: func.HttpRequest) -> func.HttpResponse:
    return _json(
        {"hello": req.route_params["name"], "lang": req.params.get("lang")},
        status=203,
        **{"X-Sample": "greet"},
    )


@app.route(route="echo/{*rest}", methods=["POST", "PUT"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return _json(
        {
            "method": req.method,
            "url": req.url,
            "rest": req.route_params.get("rest"),
            "params": dict(req.params),
            "body": req.get_body().decode("utf-8"),
            "x_test": req.headers.get("x-test"),
            "principal": req.headers.get("x-ms-client-principal"),
            "principal_name": req.headers.get("x-ms-client-principal-name"),
            "token_header": req.headers.get("x-ms-token-aad-id-token"),
        }
    )


@app.route(route="items/{item_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"route": "param", "item_id": req.route_params["item_id"]})


@app.route(route="items/special", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def item_special(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"route": "literal"})


@app.route(route="boom", auth_level=func.AuthLevel.ANONYMOUS)
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret-internal-detail")


@app.route(route="async/{name?}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def async_hello(req: func.HttpRequest, context: func.Context) -> str:
    return f"async {req.route_params.get('name', 'nobody')} via {context.function_name}"


@app.route(route="admin-only", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def admin_only(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin ok")


@app.route(route="settings/greeting", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def settings_greeting(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"greeting": os.environ.get("SAMPLE_GREETING"), "preset": os.environ.get("SAMPLE_PRESET")})


@app.route(route="enqueue", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@app.queue_output(arg_name="out", queue_name="%SAMPLE_OUT_QUEUE%", connection="AzureWebJobsStorage")
def enqueue(req: func.HttpRequest, out: func.Out[list[str]]) -> func.HttpResponse:
    out.set(req.get_body().decode("utf-8").split(","))
    return func.HttpResponse(status_code=202)


@app.timer_trigger(schedule="%SAMPLE_TICK_SCHEDULE%", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    EVENTS.add("tick", past_due=timer.past_due, at=time.time())


@app.timer_trigger(schedule="0 0 0 1 Jan *", arg_name="timer", run_on_startup=True)
def on_startup(timer: func.TimerRequest) -> None:
    EVENTS.add("on_startup", past_due=timer.past_due)


@app.queue_trigger(arg_name="msg", queue_name="%SAMPLE_QUEUE%", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="out", queue_name="%SAMPLE_OUT_QUEUE%", connection="AzureWebJobsStorage")
def consume(msg: func.QueueMessage, out: func.Out[str]) -> None:
    body = msg.get_body().decode("utf-8")
    EVENTS.add("consume", body=body, dequeue_count=msg.dequeue_count, id=msg.id)
    out.set(f"processed:{body}")


@app.queue_trigger(arg_name="msg", queue_name="%SAMPLE_FAIL_QUEUE%", connection="")
async def always_fails(msg: func.QueueMessage) -> None:
    EVENTS.add("always_fails", body=msg.get_body().decode("utf-8"), dequeue_count=msg.dequeue_count)
    raise ValueError("this function always fails")
