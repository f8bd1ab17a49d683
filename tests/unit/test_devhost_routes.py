"""Route templates and route selection of the local Functions host (tools/devhost/routes.py)."""

from __future__ import annotations

import pytest

from tools.devhost.errors import ConfigurationError
from tools.devhost.routes import Router, RouteTemplate, split_path

GUID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def match(template: str, path: str) -> dict[str, str] | None:
    return RouteTemplate(template).match(split_path(path))


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("health", "health", {}),
        ("Health", "HEALTH", {}),  # literals are case-insensitive
        ("health", "health/", {}),  # a trailing slash is fine
        ("health", "other", None),
        ("customers/{customer_id}", "customers/c-1", {"customer_id": "c-1"}),
        ("customers/{customer_id}", "customers/a%20b", {"customer_id": "a b"}),  # decoded
        ("customers/{customer_id}", "customers/a%2Fb", {"customer_id": "a/b"}),  # %2F stays inside
        ("customers/{customer_id}", "customers", None),
        ("customers/{customer_id}", "customers/c-1/extra", None),
        ("customers/{id}/holds/{hold_id}", "customers/c1/holds/h2", {"id": "c1", "hold_id": "h2"}),
        ("items/{id:int}", "items/42", {"id": "42"}),
        ("items/{id:int}", "items/-7", {"id": "-7"}),
        ("items/{id:int}", "items/4x", None),
        ("cases/{case_id:guid}", f"cases/{GUID}", {"case_id": GUID}),
        ("cases/{case_id:guid}", f"cases/{GUID.upper()}", {"case_id": GUID.upper()}),
        ("cases/{case_id:guid}", "cases/not-a-guid", None),
        ("names/{name:alpha}", "names/Alice", {"name": "Alice"}),
        ("names/{name:alpha}", "names/al1ce", None),
        ("flags/{on:bool}", "flags/True", {"on": "True"}),
        ("flags/{on:bool}", "flags/yes", None),
        ("pages/{n:int:min(1)}", "pages/0", None),
        ("pages/{n:int:min(1)}", "pages/1", {"n": "1"}),
        ("pages/{n:range(1,10)}", "pages/11", None),
        ("codes/{c:length(2)}", "codes/cn", {"c": "cn"}),
        ("codes/{c:length(2)}", "codes/chn", None),
        ("codes/{c:maxlength(3)}", "codes/chn", {"c": "chn"}),
        ("policy/{lang?}", "policy", {}),
        ("policy/{lang?}", "policy/zh-CN", {"lang": "zh-CN"}),
        ("policy/{lang=en}", "policy", {"lang": "en"}),
        ("policy/{lang=en}", "policy/zh-CN", {"lang": "zh-CN"}),
        ("files/{*path}", "files", {}),
        ("files/{*path}", "files/a", {"path": "a"}),
        ("files/{*path}", "files/a/b/c.txt", {"path": "a/b/c.txt"}),
        ("files/{**path}", "files/a/b", {"path": "a/b"}),
        ("download/{name}.{ext}", "download/report.v2.csv", {"name": "report.v2", "ext": "csv"}),
        ("download/{name}.{ext}", "download/report", None),
        ("", "", {}),
        ("", "x", None),
    ],
)
def test_template_matching(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert match(template, path) == expected


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("files/{*path}/more", "catch-all"),
        ("a/{b?}/c", "optional"),
        ("a/{id:regex(^\\d+$)}", "constraint"),
        ("a/{id:datetime}", "constraint"),
        ("a/{id:min(x)}", "constraint"),
        ("a/{id", "braces"),
        ("a/id}", "braces"),
        ("a/{id}/{ID}", "twice"),
        ("a/{}", "parameter"),
        ("a/{b}{c?}", "complex"),
    ],
)
def test_invalid_templates_are_rejected(template: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=reason):
        RouteTemplate(template)


def make_router(prefix: str = "api") -> Router[str]:
    router: Router[str] = Router(prefix)
    # registration order deliberately puts the general routes first
    router.add("fraud-reports/{*rest}", ["GET"], "catch-all")
    router.add("fraud-reports/{case_id}", ["GET"], "case")
    router.add("fraud-reports/{case_id:guid}", ["GET"], "case-guid")
    router.add("fraud-reports/{case_id}/resolution", ["POST"], "resolution")
    router.add("fraud-reports/summary", ["GET"], "summary")
    router.add("fraud-reports", ["GET", "POST"], "collection")
    router.add("echo", None, "any-method")
    return router


@pytest.mark.parametrize(
    ("method", "path", "target", "params"),
    [
        ("GET", "/api/fraud-reports/summary", "summary", {}),  # literal beats {case_id}
        ("GET", "/api/fraud-reports/F-1", "case", {"case_id": "F-1"}),
        ("GET", f"/api/fraud-reports/{GUID}", "case-guid", {"case_id": GUID}),  # constrained first
        ("GET", "/api/fraud-reports/F-1/notes", "catch-all", {"rest": "F-1/notes"}),
        ("POST", "/api/fraud-reports/F-1/resolution", "resolution", {"case_id": "F-1"}),
        ("GET", "/api/fraud-reports/F-1/resolution", "catch-all", {"rest": "F-1/resolution"}),
        ("POST", "/api/fraud-reports", "collection", {}),
        ("get", "/API/Fraud-Reports", "collection", {}),
        ("DELETE", "/api/echo", "any-method", {}),
    ],
)
def test_router_picks_the_most_specific_route(
    method: str, path: str, target: str, params: dict[str, str]
) -> None:
    result = make_router().match(method, path)
    assert result.route is not None
    assert (result.route.target, result.params) == (target, params)


def test_method_mismatch_gives_the_allowed_methods() -> None:
    result = make_router().match("DELETE", "/api/fraud-reports")
    assert result.route is None and result.method_not_allowed
    assert result.allowed == {"GET", "POST"}
    result = make_router().match("PATCH", "/api/fraud-reports/F-1/resolution")
    assert result.allowed == {"POST", "GET"}  # `resolution` route and the GET catch-all


def test_no_route_is_not_a_method_mismatch() -> None:
    router = make_router()
    for path in ("/api/nothing", "/fraud-reports", "/apix/fraud-reports", "/"):
        result = router.match("GET", path)
        assert result.route is None and not result.method_not_allowed


def test_route_prefix() -> None:
    bare = Router[str]("")
    bare.add("health", ["GET"], "health")
    assert bare.match("GET", "/health").route is not None
    assert bare.match("GET", "/api/health").route is None
    nested = Router[str]("v1/api")
    nested.add("health", ["GET"], "health")
    assert nested.match("GET", "/v1/api/health").route is not None
    assert nested.match("GET", "/api/health").route is None


def test_duplicate_routes_are_rejected_but_distinct_methods_are_fine() -> None:
    router = Router[str]("api")
    router.add("customers/{customer_id}", ["GET"], "get")
    router.add("customers/{id}", ["PUT"], "put")  # same shape, other method
    with pytest.raises(ConfigurationError, match="duplicates"):
        router.add("Customers/{other}", ["GET", "PATCH"], "again")
    with pytest.raises(ConfigurationError, match="duplicates"):
        router.add("customers/{x}", None, "any")
    assert router.match("PUT", "/api/customers/c1").params == {"id": "c1"}
