"""The OpenAPI description: every registered route is in it, and the host serves it as JSON."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
import requests
import yaml

from tests.e2e.fraud_host import fraud_host

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def _spec() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def _registered_routes(monkeypatch: pytest.MonkeyPatch, connection_string: str) -> set[tuple[str, str]]:
    monkeypatch.setenv("AzureWebJobsStorage", connection_string)
    app = importlib.import_module("function_app").app
    app.functions_bindings = None  # get_functions() refuses names it has seen (as the host does)
    routes: set[tuple[str, str]] = set()
    for function in app.get_functions():
        for binding in function.get_bindings():
            if binding.type != "httpTrigger":
                continue
            # `{id:guid}` and `{id?}` are the same path parameter `{id}` in OpenAPI.
            route = re.sub(r"\{([^}:?=]+)[^}]*\}", r"{\1}", binding.route.strip("/"))
            if not route.startswith("api/"):
                continue  # the console's HTML pages (console/...) are not part of the API
            route = route.removeprefix("api")
            for method in binding.methods or ["GET", "POST", "PUT", "PATCH", "DELETE"]:
                routes.add((route, str(getattr(method, "value", method)).lower()))
    return routes


def test_every_registered_route_is_described(monkeypatch: pytest.MonkeyPatch, azurite) -> None:
    paths = _spec()["paths"]
    routes = _registered_routes(monkeypatch, azurite.connection_string)
    assert ("/fraud-reports", "post") in routes  # the check sees the real app
    missing = sorted(
        f"{method.upper()} /api{route}" for route, method in routes if method not in paths.get(route, {})
    )
    assert missing == [], f"routes missing from docs/openapi.yaml: {missing}"


def test_every_reference_resolves_and_every_operation_answers_errors() -> None:
    spec = _spec()
    text = SPEC.read_text(encoding="utf-8")
    for ref in set(re.findall(r"#/components/(\w+)/([\w-]+)", text)):
        assert ref[1] in spec["components"][ref[0]], ref
    ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            ids.append(operation["operationId"])
            assert operation["responses"], (method, path)
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_the_overview_api_is_all_described() -> None:
    paths = _spec()["paths"]
    expected = {
        ("/health", "get"),
        ("/policy", "get"),
        ("/customers/{customer_id}", "put"),
        ("/customers/{customer_id}", "get"),
        ("/invoices", "post"),
        ("/payments", "post"),
        ("/invoices/{invoice_id}", "patch"),
        ("/ledger/import", "post"),
        ("/customers/{customer_id}/holds", "post"),
        ("/customers/{customer_id}/holds/{hold_id}", "delete"),
        ("/customers/{customer_id}/exemptions", "post"),
        ("/customers/{customer_id}/audit", "get"),
        ("/collections/preview", "get"),
        ("/collections/approvals/{batch_id}", "post"),
        ("/fraud-reports", "post"),
        ("/fraud-reports", "get"),
        ("/fraud-reports/{case_id}", "get"),
        ("/fraud-reports/{case_id}/resolution", "post"),
        ("/fraud-reports/{case_id}/escalation", "post"),
        ("/fraud-reports/{case_id}/escalation", "patch"),
    }
    assert {(p, m) for p, m in expected if m not in paths.get(p, {})} == set()


def test_the_host_serves_the_spec_as_json_without_a_key(azurite) -> None:
    with fraud_host(azurite.connection_string, functions=["openapi"]) as host:
        answer = requests.get(host.url + "/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    from functions.openapi import EXAMPLES_FILE, merge_examples

    expected = _spec()
    merge_examples(expected, json.loads(EXAMPLES_FILE.read_text(encoding="utf-8")))
    assert answer.json() == expected  # the YAML with the recorded examples merged in
    payment = answer.json()["paths"]["/payments"]["post"]
    assert payment["responses"]["201"]["content"]["application/json"]["examples"]
    assert payment["requestBody"]["content"]["application/json"]["examples"]
