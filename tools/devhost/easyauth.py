"""App Service Authentication ("Easy Auth"), emulated for the local host: no Azure account needed.

What Azure does, and so what this does:
- every request that reaches the app has the `X-MS-CLIENT-PRINCIPAL*` and `X-MS-TOKEN-*`
  headers that came from outside removed; a signed-in caller's are then set by the platform:
  `X-MS-CLIENT-PRINCIPAL` (base64 JSON `auth_typ`, `name_typ`, `role_typ`, `claims`),
  `-ID`, `-NAME`, `-IDP` (`aad`);
- `GET /.auth/login/aad` signs a person in (here: a page to pick a demo user or roles, in zh-CN
  and en; in Azure: Entra ID's sign-in), and sets the `AppServiceAuthSession` cookie;
- `POST /.auth/login/aad` with a JSON body is the client-directed sign-in: it answers
  `{"authenticationToken": ..., "user": {"userId": ...}}`, and the token goes in `X-ZUMO-AUTH`
  (Azure takes an Entra access token in the body; here, `{"user": "<demo user>"}` or, for a
  machine with a client-credential token, `{"app": "<demo app>"}`; the answer's token is also
  taken as `Authorization: Bearer <token>`, as Azure takes the Entra token itself);
- `GET /.auth/me` answers the signed-in caller's claims (401 when nobody is signed in);
- `GET /.auth/logout` ends the session.
The platform also sets `WEBSITE_AUTH_ENABLED=True` for the app, which the app checks before it
trusts the principal header; `DevHost` sets it in the process environment.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.wrappers import Request, Response

from tools.devhost.http import Reply

SESSION_COOKIE = "AppServiceAuthSession"
TOKEN_HEADER = "x-zumo-auth"
SESSION_SECONDS = 8 * 3600
TENANT_ID = "00000000-0000-4000-8000-00000000c0de"  # the demo tenant
STRIPPED_PREFIXES = ("x-ms-client-principal", "x-ms-token-")
NAME_TYPE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE_TYPE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OBJECT_ID_TYPE = "http://schemas.microsoft.com/identity/claims/objectidentifier"
TENANT_TYPE = "http://schemas.microsoft.com/identity/claims/tenantid"

# The app roles the sign-in page offers (the app's Entra app roles; docs/security.md).
ROLES = (
    "Collections.Read",
    "Collections.Write",
    "Collections.Approve",
    "Fraud.Report",
    "Fraud.Investigate",
    "Audit.Read",
    "Admin",
)


@dataclass(frozen=True)
class DemoUser:
    """A documented demo person (docs/local-run.md) with fixed object id and roles."""

    key: str
    object_id: str
    name: str
    upn: str
    title_zh: str
    title_en: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class DemoApp:
    """A documented demo machine caller (a client-credential token carrying app roles)."""

    key: str
    client_id: str
    name: str
    title_zh: str
    title_en: str
    roles: tuple[str, ...]


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "clerk",
        "11111111-aaaa-4aaa-8aaa-000000000001",
        "李娜 Li Na",
        "li.na@contoso.cn",
        "财务专员",
        "Finance clerk",
        ("Collections.Read", "Collections.Write", "Fraud.Report"),
    ),
    DemoUser(
        "risk",
        "11111111-aaaa-4aaa-8aaa-000000000002",
        "王强 Wang Qiang",
        "wang.qiang@contoso.cn",
        "风控分析师",
        "Risk analyst",
        ("Collections.Read", "Fraud.Report", "Fraud.Investigate"),
    ),
    DemoUser(
        "approver",
        "11111111-aaaa-4aaa-8aaa-000000000003",
        "陈静 Chen Jing",
        "chen.jing@contoso.cn",
        "审批人",
        "Approver",
        ("Collections.Read", "Collections.Approve"),
    ),
    DemoUser(
        "approver2",
        "11111111-aaaa-4aaa-8aaa-000000000004",
        "刘洋 Liu Yang",
        "liu.yang@contoso.cn",
        "第二审批人",
        "Second approver",
        ("Collections.Read", "Collections.Approve"),
    ),
    DemoUser(
        "auditor",
        "11111111-aaaa-4aaa-8aaa-000000000005",
        "赵敏 Zhao Min",
        "zhao.min@contoso.cn",
        "审计员",
        "Auditor",
        ("Collections.Read", "Audit.Read"),
    ),
    DemoUser(
        "admin",
        "11111111-aaaa-4aaa-8aaa-000000000006",
        "张伟 Zhang Wei",
        "zhang.wei@contoso.cn",
        "管理员",
        "Administrator",
        ("Collections.Read", "Admin"),
    ),
)

DEMO_APPS: tuple[DemoApp, ...] = (
    DemoApp(
        "billing-feed",
        "22222222-bbbb-4bbb-8bbb-000000000001",
        "billing-feed",
        "账务系统",
        "Billing system",
        ("Collections.Write",),
    ),
    DemoApp(
        "monitoring",
        "22222222-bbbb-4bbb-8bbb-000000000002",
        "monitoring",
        "监控系统",
        "Monitoring",
        ("Collections.Read", "Fraud.Report"),
    ),
)


@dataclass
class _Session:
    claims: list[dict[str, str]]
    user_id: str
    name: str
    expires: float
    roles: tuple[str, ...] = field(default_factory=tuple)


def _claim(typ: str, val: str) -> dict[str, str]:
    return {"typ": typ, "val": val}


def user_claims(user: DemoUser) -> list[dict[str, str]]:
    """The claims Easy Auth passes on for a person signed in with Entra ID (ID token claims)."""
    claims = [
        _claim("aud", "collections-guard-local"),
        _claim("iss", f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"),
        _claim(NAME_TYPE, user.name),
        _claim("name", user.name),
        _claim(OBJECT_ID_TYPE, user.object_id),
        _claim("preferred_username", user.upn),
        _claim(TENANT_TYPE, TENANT_ID),
        _claim("ver", "2.0"),
    ]
    return claims + [_claim("roles", role) for role in user.roles]


def app_claims(app: DemoApp) -> list[dict[str, str]]:
    """The claims of an app-only (client-credential) access token: no user, the app roles."""
    claims = [
        _claim("aud", "api://collections-guard-local"),
        _claim("iss", f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"),
        _claim("azp", app.client_id),
        _claim("idtyp", "app"),
        _claim(OBJECT_ID_TYPE, app.client_id),
        _claim(TENANT_TYPE, TENANT_ID),
        _claim("app_displayname", app.name),
        _claim("ver", "2.0"),
    ]
    return claims + [_claim("roles", role) for role in app.roles]


def custom_user(name: str, roles: list[str]) -> DemoUser:
    """A person with the roles picked on the page (a stable object id per name)."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    object_id = f"33333333-cccc-4ccc-8ccc-{digest}"
    slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum()) or "user"
    return DemoUser("custom", object_id, name, f"{slug}@contoso.cn", "自定义", "Custom", tuple(roles))


class EasyAuth:
    """Sessions, the `/.auth/*` endpoints and the principal headers (thread-safe)."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # -- the principal on each request --------------------------------------------------------

    def principal_headers(self, request: Request, headers: dict[str, str]) -> dict[str, str]:
        """`headers` without what came from outside under the platform's names, plus the
        signed-in caller's principal headers (cookie, X-ZUMO-AUTH or a bearer token)."""
        kept = {k: v for k, v in headers.items() if not k.startswith(STRIPPED_PREFIXES)}
        session = self._session_of(request, headers)
        if session is None:
            return kept
        principal = {
            "auth_typ": "aad",
            "claims": session.claims,
            "name_typ": NAME_TYPE,
            "role_typ": ROLE_TYPE,
        }
        encoded = base64.b64encode(json.dumps(principal, ensure_ascii=False).encode("utf-8")).decode("ascii")
        kept["x-ms-client-principal"] = encoded
        kept["x-ms-client-principal-id"] = session.user_id
        kept["x-ms-client-principal-name"] = session.name
        kept["x-ms-client-principal-idp"] = "aad"
        return kept

    def _session_of(self, request: Request, headers: dict[str, str]) -> _Session | None:
        token = request.cookies.get(SESSION_COOKIE) or headers.get(TOKEN_HEADER)
        bearer = headers.get("authorization", "")
        if not token and bearer.lower().startswith("bearer "):
            token = bearer[7:].strip()
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires < time.monotonic():
                del self._sessions[token]
                return None
            return session

    def _start(self, claims: list[dict[str, str]], user_id: str, name: str, roles: tuple[str, ...]) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = _Session(claims, user_id, name, time.monotonic() + SESSION_SECONDS, roles)
        return token

    # -- /.auth/* --------------------------------------------------------------------------------

    def handle(self, request: Request, path: str, query: str) -> Response:
        """Answer a request under `/.auth/`."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        route = path.rstrip("/").lower()
        if route == "/.auth/login/aad" and request.method == "GET":
            return self._page(params)
        if route == "/.auth/login/aad" and request.method == "POST":
            return self._login(request, params)
        if route == "/.auth/login/done":
            return self._done(request)
        if route == "/.auth/me" and request.method == "GET":
            return self._me(request)
        if route == "/.auth/logout":
            return self._logout(request, params)
        return Reply("not found", 404, content_type="text/plain; charset=utf-8")

    def _login(self, request: Request, params: dict[str, str]) -> Response:
        content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type == "application/json":
            return self._client_directed(request)
        form = request.form
        choice = form.get("user", "")
        if choice == "custom":
            name = (form.get("name") or "").strip()[:100] or "Local user"
            roles = [r for r in form.getlist("roles") if r in ROLES]
            user = custom_user(name, roles)
        else:
            found = next((u for u in DEMO_USERS if u.key == choice), None)
            if found is None:
                return _text(400, "pick a demo user or roles / 请选择演示用户或角色")
            user = found
        token = self._start(user_claims(user), user.object_id, user.upn, user.roles)
        target = _local_redirect(form.get("post_login_redirect_uri") or params.get("post_login_redirect_uri"))
        response = Reply(status=302, headers=[("Location", target or "/.auth/login/done")])
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", path="/")
        return response

    def _client_directed(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _json(400, {"error": 'send {"user": "<demo user>"} or {"app": "<demo app>"}'})
        if not isinstance(body, dict):
            return _json(400, {"error": 'send {"user": "<demo user>"} or {"app": "<demo app>"}'})
        if "app" in body:
            app = next((a for a in DEMO_APPS if a.key == body.get("app")), None)
            if app is None:
                return _json(400, {"error": f"demo apps: {', '.join(a.key for a in DEMO_APPS)}"})
            token = self._start(app_claims(app), app.client_id, app.name, app.roles)
            return _json(200, {"authenticationToken": token, "user": {"userId": app.client_id}})
        user = next((u for u in DEMO_USERS if u.key == body.get("user")), None)
        if user is None and isinstance(body.get("roles"), list):
            roles = [r for r in body["roles"] if isinstance(r, str) and r in ROLES]
            user = custom_user(str(body.get("name") or "Local user")[:100], roles)
        if user is None:
            return _json(400, {"error": f"demo users: {', '.join(u.key for u in DEMO_USERS)}"})
        token = self._start(user_claims(user), user.object_id, user.upn, user.roles)
        return _json(200, {"authenticationToken": token, "user": {"userId": user.upn}})

    def _me(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        session = self._session_of(request, headers)
        if session is None:
            return _text(401, "You do not have permission to view this directory or page.")
        return _json(
            200,
            [
                {
                    "provider_name": "aad",
                    "user_id": session.name,
                    "user_claims": session.claims,
                    "expires_on": time.strftime(
                        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + session.expires - time.monotonic())
                    ),
                }
            ],
        )

    def _logout(self, request: Request, params: dict[str, str]) -> Response:
        token = request.cookies.get(SESSION_COOKIE) or request.headers.get(TOKEN_HEADER)
        if token:
            with self._lock:
                self._sessions.pop(token, None)
        target = _local_redirect(params.get("post_logout_redirect_uri"))
        response = (
            Reply(status=302, headers=[("Location", target)])
            if target
            else _html(200, _page_shell("已退出 · Signed out", "<p>已退出登录。 · You are signed out.</p>"))
        )
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def _done(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        session = self._session_of(request, headers)
        who = html.escape(session.name) if session else "—"
        roles = html.escape(", ".join(session.roles)) if session and session.roles else "—"
        body = (
            f"<p>已登录：<b>{who}</b> · Signed in as <b>{who}</b></p>"
            f"<p>角色 · Roles: {roles}</p>"
            '<p><a href="/.auth/me">/.auth/me</a> · <a href="/.auth/logout">退出 · Sign out</a></p>'
        )
        return _html(200, _page_shell("已登录 · Signed in", body))

    def _page(self, params: dict[str, str]) -> Response:
        redirect = html.escape(_local_redirect(params.get("post_login_redirect_uri")) or "")
        rows = []
        for user in DEMO_USERS:
            roles = ", ".join(user.roles)
            rows.append(
                "<tr>"
                f'<td><button type="submit" name="user" value="{user.key}">'
                f"{html.escape(user.name)}</button></td>"
                f"<td>{html.escape(user.title_zh)}<br>{html.escape(user.title_en)}</td>"
                f"<td><code>{html.escape(roles)}</code></td>"
                "</tr>"
            )
        boxes = "".join(
            f'<label><input type="checkbox" name="roles" value="{r}"> <code>{r}</code></label><br>'
            for r in ROLES
        )
        body = f"""
<p>本地开发主机模拟应用服务身份验证（Entra ID）：请选择一位演示用户，或自定义角色。<br>
The local host emulates App Service Authentication (Entra ID): pick a demo user, or choose roles.</p>
<form method="post" action="/.auth/login/aad">
<input type="hidden" name="post_login_redirect_uri" value="{redirect}">
<table>
<tr><th>演示用户 · Demo user</th><th>职务 · Job</th><th>角色 · Roles</th></tr>
{"".join(rows)}
</table>
</form>
<h2>自定义 · Custom</h2>
<form method="post" action="/.auth/login/aad">
<input type="hidden" name="post_login_redirect_uri" value="{redirect}">
<input type="hidden" name="user" value="custom">
<label>姓名 · Name <input name="name" value="Local user" maxlength="100"></label><br>
{boxes}
<button type="submit">登录 · Sign in</button>
</form>
"""
        return _html(200, _page_shell("登录 · Sign in", body))


def _local_redirect(target: str | None) -> str | None:
    """A same-site path only (no scheme, no host): an open redirect would hand the session away."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _page_shell(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:52rem;margin:2rem auto}"
        "td,th{padding:.3rem .6rem;text-align:left;vertical-align:top}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _html(status: int, text: str) -> Response:
    return Reply(text, status, content_type="text/html; charset=utf-8")


def _text(status: int, text: str) -> Response:
    return Reply(text, status, content_type="text/plain; charset=utf-8")


def _json(status: int, payload: Any) -> Response:
    return Reply(json.dumps(payload, ensure_ascii=False), status, content_type="application/json")
