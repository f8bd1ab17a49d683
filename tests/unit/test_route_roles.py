"""Every registered HTTP route declares the role it needs, and exactly the role the route ->
role table in docs/security.md documents (no route left out, none documented that is gone)."""

from __future__ import annotations

import re

from functions.auth import required_role
from tools.azurite import REPO_ROOT

BEGIN, END = "<!-- route-roles:begin -->", "<!-- route-roles:end -->"


def documented() -> dict[tuple[str, str], str]:
    text = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    table = text[text.index(BEGIN) : text.index(END)]
    rows = re.findall(r"^\| `(GET|POST|PUT|PATCH|DELETE) /([^`]+)` \| `?([^`|]+?)`? \|$", table, re.MULTILINE)
    return {(method, route): role.strip() for method, route, role in rows}


def registered() -> dict[tuple[str, str], str | None]:
    import function_app

    function_app.app.functions_bindings = None
    out: dict[tuple[str, str], str | None] = {}
    for fn in function_app.app.get_functions():
        trigger = fn.get_trigger()
        if trigger.get_binding_name() != "httpTrigger":
            continue
        spec = trigger.get_dict_repr()
        for method in spec["methods"]:
            out[(str(getattr(method, "value", method)), spec["route"])] = required_role(
                fn.get_user_function()
            )
    return out


def test_every_route_declares_a_role() -> None:
    undeclared = sorted(f"{m} /{r}" for (m, r), role in registered().items() if role is None)
    assert undeclared == [], "decorate these with @requires(Role...), @signed_in or @public"


def test_every_route_has_exactly_its_documented_role() -> None:
    table = documented()
    assert len(table) >= 40
    assert registered() == table


def test_the_openapi_document_names_each_operations_role() -> None:
    import yaml

    spec = yaml.safe_load((REPO_ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    named = {
        (method.upper(), "api" + path): op.get("x-required-role")
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    api = {route: role for route, role in registered().items() if route[1].startswith("api/")}
    assert len(api) >= 40
    assert named == api  # the console's pages (console/...) are HTML, not part of the API
