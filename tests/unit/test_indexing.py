"""Indexing: importing function_app yields the expected functions and bindings on both queue
transports. A broken import is how deployments fail silently with "0 functions found"."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.app_functions import declared
from tools.azurite import REPO_ROOT

DUMP = """
import json, function_app
out = {}
for f in function_app.app.get_functions():
    out[f.get_function_name()] = [
        {k: (v.value if hasattr(v, "value") else v) for k, v in b.get_dict_repr().items()
         if k != "direction"} | {"direction": b.get_dict_repr()["direction"].name}
        for b in f.get_bindings()
    ]
print(json.dumps(out, default=lambda v: getattr(v, "value", str(v))))
"""

TIMER_FUNCTIONS = {
    "collections_scan": "COLLECTIONS_SCAN_SCHEDULE",
    "drift_sweep": "DRIFT_SWEEP_SCHEDULE",
    "fraud_events_poll": "FRAUD_EVENTS_SCHEDULE",
    "exposure_refresh": "EXPOSURE_SCHEDULE",
}
QUEUE_FUNCTIONS = {  # function name -> queue-name setting; their trigger follows QUEUE_TRANSPORT
    "reconcile": "RECONCILE_QUEUE_NAME",
    "notice_sender": "NOTICE_QUEUE_NAME",
}
# Every function the source declares (read statically, without importing the app) must be
# indexed; the rest of those are HTTP functions.
DECLARED = declared()
HTTP_FUNCTIONS = DECLARED - set(TIMER_FUNCTIONS) - set(QUEUE_FUNCTIONS)


def index(transport: str) -> dict[str, list[dict]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUEUE_", "SERVICEBUS"))}
    env["QUEUE_TRANSPORT"] = transport
    env.pop("AzureWebJobsStorage", None)  # indexing must not need any setting
    result = subprocess.run(
        [sys.executable, "-c", DUMP], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def trigger(bindings: list[dict]) -> dict:
    [found] = [b for b in bindings if b["type"].endswith("Trigger")]
    return found


@pytest.mark.parametrize("transport", ["storage", "servicebus"])
def test_every_expected_function_is_indexed(transport: str) -> None:
    functions = index(transport)
    assert set(TIMER_FUNCTIONS) | set(QUEUE_FUNCTIONS) <= DECLARED
    assert len(DECLARED) >= 20  # the static reading found the Blueprints' functions
    assert set(functions) == DECLARED


@pytest.mark.parametrize(
    ("transport", "trigger_type", "connection"),
    [("storage", "queueTrigger", "AzureWebJobsStorage"), ("servicebus", "serviceBusTrigger", "SERVICEBUS")],
)
def test_queue_functions_follow_the_transport(transport: str, trigger_type: str, connection: str) -> None:
    functions = index(transport)
    for name, setting in QUEUE_FUNCTIONS.items():
        found = trigger(functions[name])
        assert found["type"] == trigger_type, name
        assert found["queueName"] == f"%{setting}%"
        assert found["connection"] == connection


def test_http_and_timer_bindings() -> None:
    functions = index("storage")
    health = trigger(functions["health"])
    assert health["type"] == "httpTrigger"
    assert health["route"] == "api/health" and health["authLevel"] == "anonymous"
    for name in HTTP_FUNCTIONS:
        # The app checks every caller itself (functions/auth.py): a host-level key would be
        # demanded of people signed in through App Service Authentication too.
        assert trigger(functions[name])["authLevel"] == "anonymous", name
    for name, setting in TIMER_FUNCTIONS.items():
        found = trigger(functions[name])
        assert found["type"] == "timerTrigger", name
        assert found["schedule"] == f"%{setting}%", name


def test_every_binding_expression_resolves_from_the_local_settings_template() -> None:
    """`func start` resolves %NAME% only from local.settings.json Values (never from the app's
    defaults): a name missing from the template is a function that Core Tools refuse to index."""
    import re

    values = json.loads((REPO_ROOT / "local.settings.example.json").read_text(encoding="utf-8"))["Values"]
    names = {
        match
        for bindings in index("storage").values()
        for binding in bindings
        for value in binding.values()
        if isinstance(value, str)
        for match in re.findall(r"%([^%\s]+)%", value)
    }
    assert names >= {*TIMER_FUNCTIONS.values(), *QUEUE_FUNCTIONS.values()}
    assert names - set(values) == set(), "add these to local.settings.example.json Values"
    from tools.devhost.ncrontab import parse_schedule

    for setting in TIMER_FUNCTIONS.values():
        parse_schedule(values[setting])


def test_indexing_loads_no_use_case_client_or_exporter() -> None:
    """Cold start: `import function_app` loads what indexing needs, nothing heavier (the use
    cases, the storage and Service Bus SDKs, the settings model and the telemetry exporter
    load with the first invocation). Checked in a fresh interpreter."""
    heavy = [
        "shared.services.collections",
        "shared.services.fraud",
        "shared.services.reconcile",
        "shared.services.health",
        "shared.wiring",
        "shared.adapters.tables",
        "shared.settings",
        "azure.data.tables",
        "azure.storage.queue",
        "azure.servicebus",
        "azure.monitor.opentelemetry",
        "opentelemetry",
        "pydantic_settings",
        "yaml",
        "jinja2",
    ]
    probe = (
        "import sys, function_app; assert function_app.app.get_functions(); "
        f"print([m for m in {heavy!r} if any(k == m or k.startswith(m + '.') for k in sys.modules)])"
    )
    env = {"PATH": "/usr/bin:/bin", "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == "[]"
