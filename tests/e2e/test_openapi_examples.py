"""The API reference teaches: every operation says what it does in the business and shows real
answers, and a page on the app shows it (no CDN, strict CSP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.e2e.fraud_host import fraud_host
from tools import openapi_examples
from tools.azurite import REPO_ROOT

SPEC = REPO_ROOT / "docs" / "openapi.yaml"


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict) and "operationId" in op
    ]


def test_every_operation_has_a_summary_a_description_and_real_examples() -> None:
    examples = openapi_examples.stored()
    for method, path, op in _operations():
        name = op["operationId"]
        assert op.get("summary") and len(op.get("description", "")) > 40, f"{method} {path}: describe it"
        if name in openapi_examples.NO_EXAMPLE:
            continue
        recorded = examples.get(name, {})
        assert recorded, f"{name}: no example"
        if name not in openapi_examples.NO_SUCCESS_EXAMPLE:
            assert any(s.startswith("2") for s in recorded), f"{name}: no example of a success"
        for status in recorded:
            assert status in op["responses"], f"{name}: example of {status}, which the spec does not document"
    errors = {s for named in examples.values() for s in named if s[0] == "4"}
    assert {"401", "403", "404", "409", "422"} <= errors, "show the common errors"


def test_every_enum_and_nullable_field_says_what_it_means() -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    silent: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            nullable = isinstance(node.get("type"), list) and "null" in node["type"]
            if ("enum" in node or nullable) and not node.get("description"):
                silent.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(spec, "")
    assert silent == [], "give these a description"


def test_the_stored_examples_are_what_the_app_answers() -> None:
    """The scenario of tools/openapi_examples.py against the running app (a private Azurite, a
    fixed clock): each stored answer equals the new one, up to generated ids, ETags and hashes.
    After a deliberate change: `python -m tools.openapi_examples --write`."""
    recorded = openapi_examples.record()
    stored = openapi_examples.stored()
    assert sorted(recorded) == sorted(stored)
    for name in recorded:
        assert openapi_examples.normalise(recorded[name]) == openapi_examples.normalise(stored[name]), (
            f"{name}: the app's answer differs from docs/openapi-examples.json; run "
            "`python -m tools.openapi_examples --write` if the change is meant"
        )


def test_the_docs_page_is_served_from_the_app_under_a_strict_csp(azurite: Any) -> None:
    with fraud_host(azurite.connection_string, functions=["api_docs", "api_docs_asset", "openapi"]) as host:
        page = requests.get(host.url + "/docs", timeout=10)
        script = requests.get(host.url + "/docs/api-docs.js", timeout=10)
        style = requests.get(host.url + "/docs/api-docs.css", timeout=10)
        other = requests.get(host.url + "/docs/secrets.txt", timeout=10)
    assert page.status_code == script.status_code == style.status_code == 200
    assert other.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert script.headers["content-type"].startswith("text/javascript")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "max-age" in script.headers["cache-control"]
    assert 'src="docs/api-docs.js"' in page.text and "<script>" not in page.text  # no inline script
    for text in (page.text, script.text, style.text):
        assert "http://" not in text.replace("http://127.0.0.1", "") and "https://" not in text  # no CDN
    assert "openapi.json" in script.text


def test_the_examples_file_is_deployed_with_the_app() -> None:
    assert json.loads((REPO_ROOT / "docs" / "openapi-examples.json").read_text(encoding="utf-8"))
    assert Path(REPO_ROOT / "functions" / "static" / "api-docs.html").is_file()


def test_every_refusal_in_the_examples_has_its_chinese_words() -> None:
    """The common mistakes the reference shows are explained in zh-CN too (Accept-Language)."""
    import re

    cjk = re.compile(r"[\u4e00-\u9fff]")
    untranslated = []
    for name, statuses in openapi_examples.stored().items():
        for status, named in statuses.items():
            for example in named.values():
                value = example["value"]
                if not (status.startswith("4") and isinstance(value, dict)):
                    continue
                texts = [value["localized"]["zh-CN"]] + [
                    e["localized"]["zh-CN"] for e in value.get("errors") or []
                ]
                untranslated += [f"{name} {status}: {t}" for t in texts if not cjk.search(t)]
    assert untranslated == []
