"""Who is calling, and may they: the principal App Service Authentication verified, the named-key
fallback, and the role each route declares.

In Azure, App Service Authentication (Easy Auth) sits in front of the app: it validates the
Entra ID session or bearer token and puts the caller in `X-MS-CLIENT-PRINCIPAL` (base64 JSON:
`auth_typ`, `name_typ`, `role_typ`, `claims`), stripping any such header that arrives from
outside. The platform sets `WEBSITE_AUTH_ENABLED=True` when it does so; only then is the header
trusted (without Easy Auth in front, anyone could send it). The local host emulates all of this.
A named key (`x-functions-key` or `?code=`) is a fallback that must be switched on
(`FUNCTION_KEYS_ENABLED`); the key's name is then the actor. Nothing a caller writes in a header
or a body names who acted.

Every HTTP function declares what it needs: `@requires(Role.X)`, `@signed_in` (any verified
caller) or `@public` (anonymous). The route -> role table in docs/security.md is checked against
these by a test. The route functions are registered with `auth_level=ANONYMOUS`: the Functions
host would otherwise demand a host key even from people signed in through Easy Auth.

Cold start: this module imports only the standard library, azure.functions and the roles; the
identity model and the settings load with the first request.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import azure.functions as func

from shared.domain.roles import Role, parse_role
from shared.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from shared.domain.identity import Actor
    from shared.settings import NamedKey

log = logging.getLogger(__name__)

PRINCIPAL_HEADER = "x-ms-client-principal"
KEY_HEADER = "x-functions-key"
PUBLIC = "anonymous"  # the declared need of a route anyone may call
SIGNED_IN = "signed-in"  # any verified caller, whatever its roles

# Claim types as Easy Auth maps them (long URIs) and as the tokens carry them (short names).
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
TENANT_CLAIMS = ("http://schemas.microsoft.com/identity/claims/tenantid", "tid")
NAME_CLAIMS = ("name", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")
UPN_CLAIMS = (
    "preferred_username",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
CLIENT_ID_CLAIMS = ("azp", "appid")
APP_NAME_CLAIMS = ("app_displayname",)
SCOPE_CLAIMS = ("scp", "http://schemas.microsoft.com/identity/claims/scope")

_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("caller", default=None)

Handler = Callable[[func.HttpRequest], func.HttpResponse]


# --- declaring what a route needs --------------------------------------------------------------


def requires(role: Role) -> Callable[[Handler], Handler]:
    """The route needs a verified caller holding `role` (401 without one, 403 without the role)."""

    def decorate(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def wrapper(req: func.HttpRequest) -> func.HttpResponse:
            caller = authenticate(req)
            if role not in caller.roles:
                raise missing_role(caller, role)
            return _as(caller, fn, req)

        wrapper.required_role = role.value  # type: ignore[attr-defined]
        return wrapper

    return decorate


def signed_in(fn: Handler) -> Handler:
    """The route needs a verified caller, whatever its roles (e.g. `GET /api/me`)."""

    @functools.wraps(fn)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        return _as(authenticate(req), fn, req)

    wrapper.required_role = SIGNED_IN  # type: ignore[attr-defined]
    return wrapper


def public(fn: Handler) -> Handler:
    """The route is anonymous: anyone may call it (health, the OpenAPI document, the policy)."""
    fn.required_role = PUBLIC  # type: ignore[attr-defined]
    return fn


def required_role(fn: Callable[..., Any]) -> str | None:
    """What a route function declares (`Collections.Read`, `signed-in`, `anonymous`), or None."""
    return getattr(fn, "required_role", None)


def _as(caller: Actor, fn: Handler, req: func.HttpRequest) -> func.HttpResponse:
    token = _current.set(caller)
    try:
        return fn(req)
    finally:
        _current.reset(token)


def current_actor() -> Actor:
    """The verified caller of the request being handled (inside a `@requires`/`@signed_in` route)."""
    caller = _current.get()
    if caller is None:
        raise RuntimeError("current_actor() outside a route that authenticates its caller")
    return caller


def correlation_id(req: func.HttpRequest) -> str:
    """The caller's `x-correlation-id` (it names a request, not a person), else a new one."""
    value = (req.headers.get("x-correlation-id") or "").strip()
    return value[:100] if value and value.isprintable() else uuid.uuid4().hex


def who(req: func.HttpRequest) -> dict[str, Any]:
    """`actor=` and `correlation_id=` for a use case."""
    return {"actor": current_actor(), "correlation_id": correlation_id(req)}


# --- refusals ----------------------------------------------------------------------------------


def missing_role(caller: Actor, role: Role) -> Forbidden:
    held = ", ".join(sorted(r.value for r in caller.roles)) or "none"
    held_zh = held if caller.roles else "无"
    return Forbidden(
        f"this needs the role {role.value}; {caller.label} holds: {held}",
        members={"required_role": role.value},
        localized={
            "zh-CN": f"此操作需要角色 {role.value}；{caller.label} 拥有的角色：{held_zh}",
            "en": f"This needs the role {role.value}; {caller.label} holds: {held}.",
        },
    )


def _not_signed_in(detail: str, zh: str) -> Unauthorized:
    return Unauthorized(detail, localized={"zh-CN": zh, "en": detail})


# --- who is calling ------------------------------------------------------------------------------


def authenticate(req: func.HttpRequest) -> Actor:
    """The verified caller: the Easy Auth principal (when the platform vouches for it), else a
    named key (when the fallback is on); Unauthorized otherwise."""
    from shared.settings import get_settings

    settings = get_settings()
    encoded = req.headers.get(PRINCIPAL_HEADER)
    if encoded and settings.easy_auth_enabled:
        return actor_from_principal(encoded, req.headers)
    if encoded:
        # No Easy Auth in front: nothing strips this header, so it proves nothing.
        log.warning("X-MS-CLIENT-PRINCIPAL ignored: App Service Authentication is not enabled")
    keys = settings.named_keys()
    supplied = req.headers.get(KEY_HEADER) or req.params.get("code")
    if keys and supplied:
        return actor_from_key(supplied, keys.values())
    how = "sign in with Entra ID (App Service Authentication), or send a client-credential token"
    zh = "请使用 Entra ID 登录（应用服务身份验证），或发送客户端凭据令牌"
    if keys:
        how += ", or a named key in x-functions-key"
        zh += "，或在 x-functions-key 中提供具名密钥"
    elif supplied:
        how += " (named keys are switched off: FUNCTION_KEYS_ENABLED)"
        zh += "（具名密钥未启用：FUNCTION_KEYS_ENABLED）"
    raise _not_signed_in(f"who is calling is not known: {how}", zh + "。")


def actor_from_key(supplied: str, keys: Iterable[NamedKey]) -> Actor:
    """The named key whose hash matches (every hash compared, in constant time each)."""
    from shared.domain.identity import Actor, ActorKind

    digest = hashlib.sha256(supplied.encode("utf-8", "replace")).hexdigest().encode("ascii")
    found = None
    for key in keys:
        if hmac.compare_digest(digest, key.sha256.encode("ascii")):
            found = key
    if found is None:
        raise _not_signed_in("the key is not one of the named keys", "该密钥不是已登记的具名密钥。")
    return Actor(kind=ActorKind.KEY, id=found.name, name=found.name, roles=found.roles)


def decode_principal(encoded: str) -> dict[str, Any]:
    """The decoded `X-MS-CLIENT-PRINCIPAL` (Unauthorized when it is not base64 JSON with claims)."""
    try:
        padded = encoded.strip() + "=" * (-len(encoded.strip()) % 4)
        data = json.loads(base64.b64decode(padded, validate=False).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError):
        raise _not_signed_in(
            "the sign-in principal (X-MS-CLIENT-PRINCIPAL) is not base64 JSON", "无法读取登录主体。"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise _not_signed_in("the sign-in principal has no claims", "登录主体中没有声明。")
    return data


def _claims(principal: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for claim in principal.get("claims") or []:
        if not isinstance(claim, dict):
            continue
        typ, val = claim.get("typ"), claim.get("val")
        if isinstance(typ, str) and isinstance(val, str):
            out.append((typ, val))
    return out


def _first(claims: list[tuple[str, str]], types: Iterable[str]) -> str | None:
    wanted = list(types)
    for typ in wanted:
        for name, value in claims:
            if name == typ and value.strip():
                return value.strip()
    return None


def actor_from_principal(encoded: str, headers: Mapping[str, str]) -> Actor:
    """A person (object id, name, UPN) or a machine (client id, name) with its app roles."""
    from shared.domain.identity import Actor, ActorKind

    principal = decode_principal(encoded)
    claims = _claims(principal)
    role_types = {*ROLE_CLAIMS, str(principal.get("role_typ") or "roles")}
    roles = frozenset(
        role for typ, value in claims if typ in role_types and (role := parse_role(value)) is not None
    )
    object_id = _first(claims, OBJECT_ID_CLAIMS) or (headers.get("x-ms-client-principal-id") or "").strip()
    upn = _first(claims, UPN_CLAIMS)
    name_types = [str(principal.get("name_typ") or ""), *NAME_CLAIMS]
    name = _first(claims, [t for t in name_types if t])
    client_id = _first(claims, CLIENT_ID_CLAIMS)
    idtyp = _first(claims, ["idtyp"])
    is_app = idtyp == "app" or (
        idtyp is None and client_id is not None and upn is None and _first(claims, SCOPE_CLAIMS) is None
    )
    if is_app:
        if not client_id:
            raise _not_signed_in("an app-only principal without a client id (azp)", "应用主体缺少客户端 ID。")
        app_name = _first(claims, APP_NAME_CLAIMS) or name or f"app {client_id}"
        return Actor(kind=ActorKind.APP, id=client_id, name=app_name[:200], roles=roles)
    if not object_id:
        raise _not_signed_in("the sign-in principal has no object id (oid)", "登录主体缺少对象 ID。")
    display = name or upn or (headers.get("x-ms-client-principal-name") or "").strip() or object_id
    return Actor(kind=ActorKind.USER, id=object_id.lower(), name=display[:200], upn=upn, roles=roles)
