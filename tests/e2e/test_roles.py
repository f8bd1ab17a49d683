"""Roles through the local host's App Service Authentication emulation: every registered route, as
nobody, as each demo user and as keys with and without the role. A caller without the route's
role gets 403 naming it; nobody signed in gets 401; a principal header forged from outside is
ignored; four-eyes over HTTP; audit entries name identities."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from functions.auth import PUBLIC, SIGNED_IN, required_role
from shared import wiring
from shared.domain.roles import Role
from shared.services.collections.approvals import add_to_batch
from tests.app_functions import registered
from tests.e2e.callers import named_key_env
from tests.e2e.fraud_host import KEY, FraudHost, fraud_host
from tools.devhost.easyauth import DEMO_USERS

pytestmark = pytest.mark.slow

READER_KEY = "reader-key-0123456789"
CUSTOMER = "e1111111-1111-4111-8111-111111111111"
VALUES = {
    "customer_id": CUSTOMER,
    "hold_id": "manual-0",
    "batch_id": "b-none",
    "case_id": "01KJP4C580HTBP3P0KNDABCDEF",
    "change_id": "CH01KJP4C580HTBP3P0KND",
    "alert_id": "00000000000000-0000000000000000",
    "invoice_id": "INV-0",
    "exemption_id": "EX-0",
    "subscription_id": "a9999999-0000-4000-8000-000000000001",
    "asset": "api-docs.js",
    "name": "console.css",
    "decision": "approval",
    "change": "revoke",
}


def routes() -> list[tuple[str, str, str]]:
    """(method, path, declared role) of every registered HTTP route, read from the app."""
    import function_app

    function_app.app.functions_bindings = None
    out = []
    for fn in function_app.app.get_functions():
        trigger = fn.get_trigger()
        if trigger.get_binding_name() != "httpTrigger":
            continue
        spec = trigger.get_dict_repr()
        role = required_role(fn.get_user_function())
        assert role is not None, f"{fn.get_function_name()} declares no role"
        path = re.sub(r"\{(\w+)[^}]*\}", lambda m: VALUES[m.group(1)], spec["route"])
        for method in spec["methods"]:
            out.append((str(getattr(method, "value", method)), path, role))
    return sorted(out)


ROUTES = routes()


@pytest.fixture(scope="module")
def api(azurite: Any) -> Iterator[FraudHost]:
    keys = json.loads(named_key_env(KEY)["FUNCTION_KEYS"])
    keys |= json.loads(
        named_key_env(READER_KEY, name="reader", roles=[Role.COLLECTIONS_READ])["FUNCTION_KEYS"]
    )
    with fraud_host(
        azurite.connection_string,
        functions=registered(http_only=True),
        FUNCTION_KEYS=json.dumps(keys),
        FRAUD_REPORT_SIGNING_SECRETS=json.dumps({"monitor": "monitor-secret-0123456789"}),
    ) as host:
        yield host


def call(api: FraudHost, method: str, path: str, headers: dict[str, str]) -> requests.Response:
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    hdrs = {"content-type": "application/json", **headers}
    if path.startswith("console"):  # the console's forms: urlencoded, from the app's own pages
        hdrs = {"content-type": "application/x-www-form-urlencoded", "Origin": api.host.base_url, **headers}
        body = b"" if body is not None else None
    url = f"{api.host.base_url}/{path}"
    return requests.request(method, url, data=body, headers=hdrs, timeout=30, allow_redirects=False)


def test_the_sweep_covers_every_route_and_role() -> None:
    declared = {role for _, _, role in ROUTES}
    assert declared == {r.value for r in Role} | {PUBLIC, SIGNED_IN}
    assert len(ROUTES) >= 40


def test_nobody_signed_in_gets_401_except_on_public_routes(api: FraudHost) -> None:
    for method, path, role in ROUTES:
        answer = call(api, method, path, {})
        if role == PUBLIC:
            assert answer.status_code not in (401, 403), (method, path, answer.text)
        elif path.startswith("console") and method == "GET":  # a browser is sent to sign in
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/.auth/login/aad?post_login_redirect_uri=")
        elif path.startswith("console"):
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html")
        else:
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert answer.json()["localized"]["zh-CN"], (method, path)


@pytest.mark.parametrize("user", [u.key for u in DEMO_USERS])
def test_each_demo_user_reaches_exactly_the_routes_of_its_roles(api: FraudHost, user: str) -> None:
    roles = set(next(u for u in DEMO_USERS if u.key == user).roles)
    session = api.signed_in(user)
    for method, path, role in ROUTES:
        answer = call(api, method, path, session)
        if role in (PUBLIC, SIGNED_IN) or role in roles:
            assert answer.status_code not in (401, 403), (user, method, path, answer.text)
        else:
            assert answer.status_code == 403, (user, method, path, answer.status_code, answer.text)
            if path.startswith("console"):  # a page naming the role
                assert role in answer.text and answer.headers["content-type"].startswith("text/html")
                continue
            problem = answer.json()
            assert problem["required_role"] == role and role in problem["detail"]
            assert role in problem["localized"]["zh-CN"]


def test_a_key_has_exactly_its_roles_and_its_name_is_the_actor(api: FraudHost) -> None:
    reader = {"x-functions-key": READER_KEY}
    assert call(api, "GET", "api/customers", reader).status_code == 200
    refused = call(api, "POST", "api/payments", reader)
    assert refused.status_code == 403 and refused.json()["required_role"] == "Collections.Write"
    assert call(api, "GET", "api/me", reader).json()["kind"] == "key"
    assert call(api, "GET", "api/me", reader).json()["name"] == "reader"
    assert call(api, "GET", "api/customers", {"x-functions-key": "not-a-key"}).status_code == 401
    assert requests.get(f"{api.url}/customers?code={READER_KEY}", timeout=30).status_code == 200


def _forged(*roles: str) -> str:
    claims = [
        {
            "typ": "http://schemas.microsoft.com/identity/claims/objectidentifier",
            "val": "f0f0f0f0-0000-4000-8000-000000000000",
        }
    ]
    claims += [{"typ": "name", "val": "Mallory"}] + [{"typ": "roles", "val": r} for r in roles]
    principal = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}
    return base64.b64encode(json.dumps(principal).encode()).decode()


def test_a_principal_forged_from_outside_is_ignored(api: FraudHost) -> None:
    forged = {"X-MS-CLIENT-PRINCIPAL": _forged(*(r.value for r in Role)), "X-MS-CLIENT-PRINCIPAL-ID": "x"}
    assert call(api, "GET", "api/customers", forged).status_code == 401  # stripped by the host, as by Azure
    clerk = api.signed_in("clerk")
    mixed = call(api, "POST", f"api/collections/approvals/{VALUES['batch_id']}", {**clerk, **forged})
    assert mixed.status_code == 403  # still the clerk: the forged roles never reach the app
    me = call(api, "GET", "api/me", {**clerk, **forged}).json()
    assert me["name"] == "李娜 Li Na" and "Collections.Approve" not in me["roles"]


def test_me_and_the_platform_endpoints(api: FraudHost) -> None:
    base = api.host.base_url
    session = api.signed_in("auditor")
    me = call(api, "GET", "api/me", session).json()
    assert me["kind"] == "user" and me["id"] == "11111111-aaaa-4aaa-8aaa-000000000005"
    assert me["roles"] == ["Audit.Read", "Collections.Read"] and me["upn"] == "zhao.min@contoso.cn"
    claims = requests.get(f"{base}/.auth/me", headers=session, timeout=30).json()[0]["user_claims"]
    assert {"typ": "roles", "val": "Audit.Read"} in claims
    assert requests.get(f"{base}/.auth/me", timeout=30).status_code == 401
    app = api.signed_in(app="billing-feed")
    assert call(api, "GET", "api/me", app).json()["kind"] == "app"
    assert call(api, "GET", "api/me", app).json()["id"] == "22222222-bbbb-4bbb-8bbb-000000000001"


def test_four_eyes_over_http_and_audit_actors_are_identities(api: FraudHost) -> None:
    clerk, approver, approver2 = api.signed_in("clerk"), api.signed_in("approver"), api.signed_in("approver2")
    profile = {"name": "示例科技", "locale": "zh-CN", "protected": True}
    put = requests.put(f"{api.url}/customers/{CUSTOMER}", json=profile, headers=clerk, timeout=30)
    assert put.status_code == 202, put.text
    change = put.json()["pending_change"]
    assert put.json()["customer"]["profile"]["protected"] is False
    approved = requests.post(
        f"{api.url}/changes/{change['change_id']}/approval", json={}, headers=approver, timeout=30
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["decided_by"]["id"] == "11111111-aaaa-4aaa-8aaa-000000000003"
    deps = wiring.collections()
    add_to_batch(deps, "b-roles", CUSTOMER, deps.policy(), datetime.now(UTC))
    asked = requests.post(f"{api.url}/collections/approvals/b-roles", headers=approver, timeout=30)
    assert asked.status_code == 202, asked.text
    batch_change = asked.json()["change_id"]
    own = requests.post(f"{api.url}/changes/{batch_change}/approval", json={}, headers=approver, timeout=30)
    assert own.status_code == 403 and "another person" in own.json()["detail"]
    assert own.json()["change_id"] == batch_change
    listed = requests.get(f"{api.url}/changes", headers=approver2, timeout=30).json()["items"]
    assert batch_change in [c["change_id"] for c in listed]
    rejected = requests.post(
        f"{api.url}/changes/{batch_change}/rejection",
        json={"note": "feed outage"},
        headers=approver2,
        timeout=30,
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    trail = requests.get(
        f"{api.url}/customers/{CUSTOMER}/audit", headers=api.signed_in("auditor"), timeout=30
    )
    entries = {e["action"]: e for e in trail.json()["entries"]}
    assert entries["change.requested"]["actor_id"] == "11111111-aaaa-4aaa-8aaa-000000000001"
    assert entries["customer.protected"]["actor_id"] == "11111111-aaaa-4aaa-8aaa-000000000003"
    assert all(e.get("actor_id") and e.get("actor_kind") for e in trail.json()["entries"])
    assert requests.get(f"{api.url}/customers/{CUSTOMER}", headers=clerk, timeout=30).json()["profile"][
        "protected"
    ]


def test_the_sign_in_page_offers_the_demo_users_in_both_languages(api: FraudHost) -> None:
    page = requests.get(f"{api.host.base_url}/.auth/login/aad", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for user in DEMO_USERS:
        assert user.name in page.text and user.title_zh in page.text and user.title_en in page.text
    assert "登录" in page.text and "Sign in" in page.text
    login = requests.post(
        f"{api.host.base_url}/.auth/login/aad",
        data={
            "user": "custom",
            "name": "Tester",
            "roles": ["Collections.Read"],
            "post_login_redirect_uri": "/api/me",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert login.status_code == 302 and login.headers["location"] == "/api/me"
    cookie = login.cookies.get("AppServiceAuthSession")
    assert cookie
    me = requests.get(f"{api.url}/me", cookies={"AppServiceAuthSession": cookie}, timeout=30).json()
    assert me["name"] == "Tester" and me["roles"] == ["Collections.Read"]
    outside = requests.post(
        f"{api.host.base_url}/.auth/login/aad",
        data={"user": "clerk", "post_login_redirect_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=30,
    )
    assert outside.headers["location"] == "/.auth/login/done"  # never an open redirect
    out = requests.get(
        f"{api.host.base_url}/.auth/logout", cookies={"AppServiceAuthSession": cookie}, timeout=30
    )
    assert out.status_code == 200
    gone = requests.get(f"{api.url}/me", cookies={"AppServiceAuthSession": cookie}, timeout=30)
    assert gone.status_code == 401
