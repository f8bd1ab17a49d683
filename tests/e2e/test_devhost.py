"""End to end: the local Functions host (tools/devhost) driving a sample app over real sockets,
with the real Azurite for queue triggers. No mocks."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from tests.burst import simultaneous_requests
from tests.e2e.devhost_sample_app import EVENTS, app
from tools.azurite import Azurite, free_port
from tools.devhost import (
    SERVICE_BUS_MESSAGE,
    ConfigurationError,
    DevHost,
    FunctionNotFoundError,
    UnsupportedTriggerError,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = "test-function-key"
RARE = "0 0 0 1 Jan *"
FAST_QUEUES = {"extensions": {"queues": {"maxPollingInterval": "00:00:00.200", "maxDequeueCount": 3}}}
SAMPLE_SETTINGS = ("SAMPLE_TICK_SCHEDULE", "SAMPLE_QUEUE", "SAMPLE_FAIL_QUEUE", "SAMPLE_OUT_QUEUE")


@pytest.fixture
def settings(azurite: Azurite, unique_name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Setting defaults for the sample app; the storage connection comes from the environment."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    for name in (*SAMPLE_SETTINGS, "DEVHOST_FUNCTION_KEY", "SAMPLE_GREETING", "SAMPLE_PRESET"):
        monkeypatch.delenv(name, raising=False)
    EVENTS.clear()
    return {
        "SAMPLE_TICK_SCHEDULE": RARE,
        "SAMPLE_QUEUE": f"{unique_name}-in",
        "SAMPLE_FAIL_QUEUE": f"{unique_name}-fail",
        "SAMPLE_OUT_QUEUE": f"{unique_name}-out",
    }


@pytest.fixture
def start_host(settings: dict[str, str]) -> Iterator[Callable[..., DevHost]]:
    """Start DevHost(sample app, port=0) with optional overrides; stopped after the test."""
    hosts: list[DevHost] = []

    def start(host_json: dict[str, Any] | None = None, **overrides: str) -> DevHost:
        host = DevHost(
            app,
            port=0,
            host_json=host_json or FAST_QUEUES,
            settings_defaults={**settings, **overrides},
            function_key=KEY,
        )
        hosts.append(host)
        host.start()
        return host

    yield start
    for host in hosts:
        host.stop()


@pytest.fixture
def host(start_host: Callable[..., DevHost]) -> DevHost:
    return start_host()


def request(
    host: DevHost, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def queue(azurite: Azurite, name: str, *, base64_text: bool = True) -> QueueClient:
    policy = TextBase64EncodePolicy() if base64_text else None
    return QueueClient.from_connection_string(azurite.connection_string, name, message_encode_policy=policy)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except ResourceNotFoundError:  # a queue that the host has not created yet
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# -- HTTP triggers ---------------------------------------------------------------------------


def test_route_parameter_reaches_the_function_and_its_response_comes_back(host: DevHost) -> None:
    status, headers, body = request(host, "GET", "/api/greet/Alice?lang=zh-CN")
    assert status == 203
    assert headers["X-Sample"] == "greet"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"hello": "Alice", "lang": "zh-CN"}


def test_query_body_headers_and_catch_all_arrive(host: DevHost) -> None:
    status, _, body = request(
        host,
        "POST",
        "/api/echo/a/b%20c?x=1&x=2&empty=",
        body="包 body".encode(),
        headers={"x-functions-key": KEY, "X-Test": "yes"},
    )
    assert status == 200
    echoed = json.loads(body)
    assert echoed["method"] == "POST"
    assert echoed["rest"] == "a/b c"
    assert echoed["params"] == {"x": "1,2", "empty": ""}
    assert echoed["body"] == "包 body"
    assert echoed["x_test"] == "yes"
    assert echoed["url"] == f"http://127.0.0.1:{host.port}/api/echo/a/b%20c?x=1&x=2&empty="


def test_keep_alive_and_chunked_request_body(host: DevHost) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=10)
    try:
        connection.request(
            "PUT",
            "/api/echo",
            body=iter([b"ab", b"", b"cd" * 1000]),
            headers={"x-functions-key": KEY},
            encode_chunked=True,
        )
        first = connection.getresponse()
        assert first.status == 200 and json.loads(first.read())["body"] == "ab" + "cd" * 1000
        kept = connection.sock
        connection.request("GET", "/api/greet/Bob")  # same connection
        second = connection.getresponse()
        assert second.status == 203 and json.loads(second.read())["hello"] == "Bob"
        assert kept is not None and connection.sock is kept  # not closed and reopened in between
    finally:
        connection.close()


def test_a_body_over_the_cap_is_413_whether_sized_or_chunked(
    host: DevHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tools.devhost.http.MAX_BODY_BYTES", 1000)
    key = {"x-functions-key": KEY}
    status, _, body = request(host, "PUT", "/api/echo", b"x" * 1000, key)
    assert status == 200 and json.loads(body)["body"] == "x" * 1000
    assert request(host, "PUT", "/api/echo", b"x" * 1001, key)[0] == 413
    for chunks in ([b"x" * 1000], [b"x" * 1001], [b"x" * 600, b"x" * 401]):
        connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=10)
        try:
            connection.request("PUT", "/api/echo", body=iter(chunks), headers=key, encode_chunked=True)
            expected = 200 if sum(map(len, chunks)) <= 1000 else 413
            assert connection.getresponse().status == expected
        finally:
            connection.close()


def test_a_burst_of_simultaneous_clients_is_answered(host: DevHost) -> None:
    """More clients at once than a small listen backlog holds: none is reset, refused or kept
    waiting for the kernel to retry its connection."""
    for _ in range(2):  # a small backlog drops some connections in every burst, but how many varies
        outcomes = simultaneous_requests(host.port, "/api/greet/Ann", clients=64)
        assert len(outcomes) == 64 and [o for o in outcomes if o != 203] == []


@pytest.mark.parametrize("path", ["/api/echo", "/api/admin-only"])
def test_function_and_admin_auth_levels_need_the_key(host: DevHost, path: str) -> None:
    method = "POST" if "echo" in path else "GET"
    status, headers, body = request(host, method, path)
    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 401
    assert request(host, method, path, headers={"x-functions-key": "wrong"})[0] == 401
    assert request(host, method, f"{path}?code=wrong")[0] == 401
    assert request(host, method, path, headers={"x-functions-key": KEY})[0] == 200
    assert request(host, method, f"{path}?code={KEY}")[0] == 200


def test_anonymous_routes_need_no_key(host: DevHost) -> None:
    assert request(host, "GET", "/api/greet/Ann")[0] == 203
    assert request(host, "GET", "/api/greet/Ann", headers={"x-functions-key": "wrong"})[0] == 203


def test_key_defaults_to_the_environment_setting(
    settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVHOST_FUNCTION_KEY", "from-env")
    with DevHost(app, port=0, settings_defaults=settings) as env_host:
        assert request(env_host, "POST", "/api/echo", headers={"x-functions-key": "from-env"})[0] == 200
        assert request(env_host, "POST", "/api/echo", headers={"x-functions-key": KEY})[0] == 401


def test_unknown_paths_and_wrong_methods_404_as_in_azure(host: DevHost) -> None:
    assert request(host, "GET", "/api/nothing-here")[0] == 404
    assert request(host, "GET", "/api/greet/R2D2")[0] == 404  # {name:alpha} does not match
    assert request(host, "GET", "/greet/Ann")[0] == 404  # no route prefix
    for method in ("DELETE", "HEAD"):  # Azure Functions answers 404, not 405 (azure-functions-host#10098)
        status, headers, _ = request(host, method, "/api/greet/Ann")
        assert status == 404 and "Allow" not in headers
    _, _, body = request(host, "DELETE", "/api/greet/Ann")
    assert "it takes GET" in json.loads(body)["detail"]


def test_a_literal_route_beats_a_parameter_route(host: DevHost) -> None:
    assert json.loads(request(host, "GET", "/api/items/special")[2]) == {"route": "literal"}
    assert json.loads(request(host, "GET", "/api/items/42")[2]) == {"route": "param", "item_id": "42"}


def test_an_exception_gives_500_without_details(host: DevHost, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tools.devhost")
    status, headers, body = request(host, "GET", "/api/boom")
    assert status == 500
    assert headers["Content-Type"] == "application/problem+json"
    assert b"secret-internal-detail" not in body and b"Traceback" not in body
    assert json.loads(body)["status"] == 500
    assert "secret-internal-detail" in caplog.text and "Traceback" in caplog.text


def test_async_function_with_context(host: DevHost) -> None:
    assert request(host, "GET", "/api/async")[2] == b"async nobody via async_hello"
    status, headers, body = request(host, "GET", "/api/async/Mei")
    assert (status, body) == (200, b"async Mei via async_hello")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_one_log_line_per_invocation_with_structured_fields(
    host: DevHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tools.devhost")
    request(host, "GET", "/api/greet/Ann")
    request(host, "GET", "/api/boom")
    records = [r for r in caplog.records if getattr(r, "trigger_type", None) == "httpTrigger"]
    assert [(r.function_name, r.trigger_type, r.outcome) for r in records] == [  # type: ignore[attr-defined]
        ("greet", "httpTrigger", "succeeded"),
        ("boom", "httpTrigger", "failed"),
    ]
    assert all(r.levelno == logging.INFO and r.duration_ms >= 0 for r in records)  # type: ignore[attr-defined]


# -- timers ----------------------------------------------------------------------------------


def test_timer_fires_on_its_resolved_schedule(start_host: Callable[..., DevHost]) -> None:
    start_host(SAMPLE_TICK_SCHEDULE="*/1 * * * * *")
    ticks = EVENTS.wait_for("tick", count=2, timeout=5)
    assert [t["past_due"] for t in ticks[:2]] == [False, False]
    assert 0.5 < ticks[1]["at"] - ticks[0]["at"] < 1.5


def test_run_on_startup_fires_once_at_start(host: DevHost) -> None:
    assert EVENTS.wait_for("on_startup", timeout=5) == [{"past_due": False}]
    time.sleep(0.2)
    assert len(EVENTS.of("on_startup")) == 1
    assert EVENTS.of("tick") == []  # rare schedule, no runOnStartup


def test_unresolvable_setting_and_invalid_schedule_refuse_to_start(settings: dict[str, str]) -> None:
    missing = {k: v for k, v in settings.items() if k != "SAMPLE_QUEUE"}
    with pytest.raises(ConfigurationError, match="SAMPLE_QUEUE"):
        DevHost(app, port=0, settings_defaults=missing)
    with pytest.raises(ConfigurationError, match=r"'tick'.*every day at 9"):
        DevHost(app, port=0, settings_defaults={**settings, "SAMPLE_TICK_SCHEDULE": "every day at 9"})


def test_a_setting_taken_from_the_app_defaults_is_warned_about(
    settings: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tools.devhost")
    DevHost(app, port=0, settings_defaults=settings)  # Azure and func start have no such defaults
    assert "%SAMPLE_QUEUE% is not an app setting" in caplog.text
    caplog.clear()
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    DevHost(app, port=0, settings_defaults=settings)
    assert "is not an app setting" not in caplog.text


def test_disabled_function_does_not_run(start_host: Callable[..., DevHost]) -> None:
    host = start_host(**{"AzureWebJobs.on_startup.Disabled": "true"})
    assert "on_startup" not in host.functions
    time.sleep(0.3)
    assert EVENTS.of("on_startup") == []


# -- queues ----------------------------------------------------------------------------------


def test_queue_message_reaches_its_function_and_output_binding(
    host: DevHost, azurite: Azurite, settings: dict[str, str]
) -> None:
    queue(azurite, settings["SAMPLE_QUEUE"]).send_message("hello 世界")
    (event,) = EVENTS.wait_for("consume")
    assert event["body"] == "hello 世界" and event["dequeue_count"] == 1
    out = queue(azurite, settings["SAMPLE_OUT_QUEUE"])
    (sent,) = wait_until(lambda: list(out.peek_messages()))
    assert base64.b64decode(sent.content).decode() == "processed:hello 世界"
    source = queue(azurite, settings["SAMPLE_QUEUE"])
    wait_until(lambda: source.get_queue_properties().approximate_message_count == 0)


def test_http_function_with_a_queue_output_binding(
    host: DevHost, azurite: Azurite, settings: dict[str, str]
) -> None:
    status, _, body = request(host, "POST", "/api/enqueue", b"one,two")
    assert (status, body) == (202, b"")
    out = queue(azurite, settings["SAMPLE_OUT_QUEUE"])
    sent = wait_until(lambda: len(messages := list(out.peek_messages(max_messages=5))) == 2 and messages)
    assert sorted(base64.b64decode(m.content) for m in sent) == [b"one", b"two"]


def test_failing_message_is_retried_then_moved_to_poison(
    host: DevHost, azurite: Azurite, settings: dict[str, str]
) -> None:
    queue(azurite, settings["SAMPLE_FAIL_QUEUE"]).send_message("doomed")
    events = EVENTS.wait_for("always_fails", count=3, timeout=15)
    assert [e["dequeue_count"] for e in events] == [1, 2, 3]  # maxDequeueCount 3 in FAST_QUEUES
    poison = queue(azurite, settings["SAMPLE_FAIL_QUEUE"] + "-poison")
    (moved,) = wait_until(lambda: list(poison.peek_messages()))
    assert base64.b64decode(moved.content) == b"doomed"  # the original text, as it was
    source = queue(azurite, settings["SAMPLE_FAIL_QUEUE"])
    wait_until(lambda: source.get_queue_properties().approximate_message_count == 0)
    time.sleep(0.3)
    assert len(EVENTS.of("always_fails")) == 3


def test_message_dequeued_more_than_max_goes_to_poison_without_running(
    start_host: Callable[..., DevHost], azurite: Azurite, settings: dict[str, str]
) -> None:
    """Its earlier runs never finished (the host died mid-run): Azure poisons it before a 4th run."""
    source = queue(azurite, settings["SAMPLE_QUEUE"])
    source.create_queue()
    source.send_message("crashed the host three times")
    for _ in range(3):  # maxDequeueCount is 3 in FAST_QUEUES
        (received,) = list(source.receive_messages(max_messages=1, visibility_timeout=30))
        source.update_message(received.id, received.pop_receipt, visibility_timeout=0)
    start_host()
    poison = queue(azurite, settings["SAMPLE_QUEUE"] + "-poison")
    (moved,) = wait_until(lambda: list(poison.peek_messages()))
    assert base64.b64decode(moved.content) == b"crashed the host three times"
    wait_until(lambda: source.get_queue_properties().approximate_message_count == 0)
    assert EVENTS.of("consume") == []


def test_undecodable_message_goes_straight_to_poison(
    host: DevHost, azurite: Azurite, settings: dict[str, str]
) -> None:
    queue(azurite, settings["SAMPLE_QUEUE"], base64_text=False).send_message("not base64 !")
    poison = queue(azurite, settings["SAMPLE_QUEUE"] + "-poison", base64_text=False)
    (moved,) = wait_until(lambda: list(poison.peek_messages()))
    assert moved.content == "not base64 !"
    assert EVENTS.of("consume") == []


def test_message_encoding_none(
    start_host: Callable[..., DevHost], azurite: Azurite, settings: dict[str, str]
) -> None:
    host_json = {"extensions": {"queues": {"messageEncoding": "none", "maxPollingInterval": 200}}}
    start_host(host_json=host_json)
    queue(azurite, settings["SAMPLE_QUEUE"], base64_text=False).send_message("plain text")
    assert EVENTS.wait_for("consume")[0]["body"] == "plain text"
    out = queue(azurite, settings["SAMPLE_OUT_QUEUE"], base64_text=False)
    assert wait_until(lambda: list(out.peek_messages()))[0].content == "processed:plain text"


# -- admin endpoint and invoke() -------------------------------------------------------------


def test_admin_endpoint_runs_non_http_functions(host: DevHost) -> None:
    payload = json.dumps({"input": "from admin"}).encode()
    key = {"x-functions-key": KEY, "Content-Type": "application/json"}
    assert request(host, "POST", "/admin/functions/consume", payload, key)[0] == 202
    (event,) = EVENTS.wait_for("consume", where=lambda e: e["body"] == "from admin")
    assert event["dequeue_count"] == 1
    assert request(host, "POST", "/admin/functions/tick", b"{}", key)[0] == 202
    assert EVENTS.wait_for("tick")[0]["past_due"] is False
    assert request(host, "POST", "/admin/functions/consume", payload)[0] == 401
    assert request(host, "POST", "/admin/functions/nope", payload, key)[0] == 404
    assert request(host, "POST", "/admin/functions/greet", payload, key)[0] == 400
    assert request(host, "POST", "/admin/functions/consume", b"not json", key)[0] == 400
    assert request(host, "GET", "/admin/functions/consume", None, key)[0] == 405


def test_invoke_runs_a_function_once(host: DevHost) -> None:
    assert host.invoke("consume", "direct") is None
    assert EVENTS.of("consume")[-1]["body"] == "direct"
    with pytest.raises(ValueError, match="always fails"):
        host.invoke("always_fails", b"x")
    with pytest.raises(FunctionNotFoundError):
        host.invoke("missing")


# -- lifecycle and refusals ------------------------------------------------------------------


def test_stop_closes_the_port_and_joins_threads(start_host: Callable[..., DevHost]) -> None:
    host = start_host(SAMPLE_TICK_SCHEDULE="*/1 * * * * *")
    connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=10)
    connection.request("GET", "/api/greet/Idle")  # leaves an idle keep-alive connection open
    assert connection.getresponse().read()
    started = time.monotonic()
    host.stop()
    assert time.monotonic() - started < 5
    connection.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", host.port), timeout=1):
        pass
    assert [t.name for t in threading.enumerate() if t.name.startswith("devhost-")] == []
    host.stop()  # idempotent


def test_service_bus_trigger_is_refused() -> None:
    bus_app = func.FunctionApp()

    @bus_app.service_bus_queue_trigger(arg_name="msg", queue_name="reconcile", connection="SB")
    def reconcile(msg: func.ServiceBusMessage) -> None:
        pass

    with pytest.raises(UnsupportedTriggerError) as caught:
        DevHost(bus_app, port=0)
    assert SERVICE_BUS_MESSAGE in str(caught.value)
    assert SERVICE_BUS_MESSAGE == (
        "Service Bus triggers cannot run on the local host; "
        "set QUEUE_TRANSPORT=storage to use Storage queues locally"
    )


# -- CLI -------------------------------------------------------------------------------------


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMPLE_", "AzureWebJobs"))}
    env.pop("DEVHOST_FUNCTION_KEY", None)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return {**env, **extra}


def test_cli_loads_local_settings_and_stops_cleanly_on_sigint(
    azurite: Azurite, unique_name: str, tmp_path: Path
) -> None:
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(
        json.dumps(
            {
                "IsEncrypted": False,
                "Values": {
                    "AzureWebJobsStorage": azurite.connection_string,
                    "SAMPLE_TICK_SCHEDULE": RARE,
                    "SAMPLE_QUEUE": f"{unique_name}-in",
                    "SAMPLE_FAIL_QUEUE": f"{unique_name}-fail",
                    "SAMPLE_OUT_QUEUE": f"{unique_name}-out",
                    "SAMPLE_GREETING": "hello from local.settings.json",
                    "SAMPLE_PRESET": "from the file",
                },
            }
        )
    )
    port = free_port()
    log = (tmp_path / "stderr.log").open("w+")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.devhost",
            "--app",
            "tests.e2e.devhost_sample_app:app",
            "--port",
            str(port),
            "--settings",
            str(settings_file),
            "--host-json",
            str(tmp_path / "no-host.json"),
        ],
        cwd=REPO_ROOT,
        env=_cli_env(SAMPLE_PRESET="from the environment"),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:

        def listening() -> bool:
            assert process.poll() is None, Path(log.name).read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(listening, timeout=20)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/settings/greeting")
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read()) == {
            "greeting": "hello from local.settings.json",
            "preset": "from the environment",  # Values never override the environment
        }
        connection.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    output = Path(log.name).read_text()
    assert "Executed 'settings_greeting'" in output and "DevHost stopped" in output


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"local.settings.json": "{not json"}, "local.settings.json: not valid JSON"),
        ({"local.settings.json": '{"Values": {"N": 1}}'}, "Values.N must be a string"),
        ({"host.json": "[]"}, "host.json: the top level must be a JSON object"),
        (
            {
                "bus_app.py": """
                import azure.functions as func
                app = func.FunctionApp()

                @app.service_bus_queue_trigger(arg_name="m", queue_name="q", connection="SB")
                def on_message(m: func.ServiceBusMessage) -> None:
                    pass
            """
            },
            SERVICE_BUS_MESSAGE,
        ),
    ],
)
def test_cli_configuration_errors_exit_2(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    app_spec = "bus_app:app" if "bus_app.py" in files else "tests.e2e.devhost_sample_app:app"
    result = subprocess.run(
        [sys.executable, "-m", "tools.devhost", "--app", app_spec, "--port", str(free_port())],
        cwd=tmp_path,
        env=_cli_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr


def test_app_service_authentication_is_emulated_and_outside_principals_are_stripped(host: DevHost) -> None:
    """Like Azure: principal headers from outside never reach the app; a signed-in caller's do."""
    import base64

    forged = {
        "x-functions-key": KEY,
        "X-MS-CLIENT-PRINCIPAL": base64.b64encode(b'{"claims": []}').decode(),
        "X-MS-CLIENT-PRINCIPAL-NAME": "mallory",
        "X-MS-TOKEN-AAD-ID-TOKEN": "forged",
    }
    status, _, body = request(host, "POST", "/api/echo/x", headers=forged)
    seen = json.loads(body)
    assert status == 200 and seen["principal"] is None and seen["principal_name"] is None
    assert seen["token_header"] is None
    status, _, body = request(
        host,
        "POST",
        "/.auth/login/aad",
        body=b'{"user": "auditor"}',
        headers={"content-type": "application/json"},
    )
    token = json.loads(body)["authenticationToken"]
    status, _, body = request(host, "POST", "/api/echo/x", headers={**forged, "X-ZUMO-AUTH": token})
    seen = json.loads(body)
    principal = json.loads(base64.b64decode(seen["principal"]))
    assert seen["principal_name"] == "zhao.min@contoso.cn"
    assert {"typ": "roles", "val": "Audit.Read"} in principal["claims"]
    assert principal["auth_typ"] == "aad" and principal["role_typ"].endswith("/role")
    assert os.environ["WEBSITE_AUTH_ENABLED"] == "True"  # as App Service sets it


def test_without_the_emulation_headers_pass_through(settings: dict[str, str]) -> None:
    """App Service Authentication off: nothing strips the headers, and the platform variable is
    unset, so the app must not trust them (functions/auth.py)."""
    with DevHost(app, port=0, settings_defaults=settings, function_key=KEY, easy_auth=False) as plain:
        status, _, body = request(
            plain, "POST", "/api/echo/x", headers={"x-functions-key": KEY, "X-MS-CLIENT-PRINCIPAL-NAME": "m"}
        )
        assert status == 200 and json.loads(body)["principal_name"] == "m"
        assert "WEBSITE_AUTH_ENABLED" not in os.environ
        assert request(plain, "GET", "/.auth/me")[0] == 404
