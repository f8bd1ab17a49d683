"""HTTP dispatch for the app: routes, auth levels, func.HttpRequest/HttpResponse, admin API.

- `{routePrefix}/{route}` goes to HTTP-triggered functions; 404 when nothing matches, and also
  when the path matches but the method does not: Azure Functions answers 404 there, not 405
  (azure-functions-host#10098), so a client must not be written against a 405 it never gets.
- `function` and `admin` auth levels need the key in `x-functions-key` or `?code=` (401).
- With App Service Authentication emulated (`tools/devhost/easyauth.py`), `/.auth/*` is the
  platform's, and principal headers from outside are replaced by the signed-in caller's.
- `POST /admin/functions/{name}` with the key and `{"input": "..."}` runs a non-HTTP function
  once in the background (202), like Core Tools.
- A function that raises gives a 500 with a generic problem+json body; the traceback goes to
  the log only.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from azure.functions import _abc as func_abc
from werkzeug.wrappers import Request, Response

from tools.devhost.easyauth import EasyAuth
from tools.devhost.http import Reply
from tools.devhost.invoker import FunctionSpec
from tools.devhost.routes import Router, split_path

logger = logging.getLogger("tools.devhost.http")

ANONYMOUS = "anonymous"
KEY_HEADER = "x-functions-key"
AdminSubmit = Callable[[FunctionSpec, str | None], None]
Run = Callable[[FunctionSpec, Any, str], Any]  # (function, trigger value, invocation id) -> result


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """An RFC 9457 application/problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Reply(json.dumps(body), status, content_type="application/problem+json")


def _joined_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _query_params(query: str) -> dict[str, str]:
    """Query parameters; repeated names are joined with ',' as the Functions host does."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def to_response(result: Any) -> Response:
    """Turn a function's return value into an HTTP response (TypeError if unsupported)."""
    if result is None:
        return Reply(status=204)
    if isinstance(result, str):
        return Reply(result, 200, content_type="text/plain; charset=utf-8")
    if isinstance(result, func_abc.HttpResponse):
        headers = [(str(n), str(v)) for n, v in result.headers.items()]
        if not any(n.lower() == "content-type" for n, _ in headers):
            mimetype, charset = result.mimetype, result.charset
            content_type = f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype
            headers.append(("Content-Type", content_type))
        return Reply(result.get_body() or b"", int(result.status_code), headers)
    raise TypeError(f"an HTTP function returned {type(result).__name__}; return func.HttpResponse")


class HttpGateway:
    """The dispatcher given to the HTTP server."""

    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        *,
        route_prefix: str,
        function_key: str,
        run: Run,
        admin_submit: AdminSubmit,
        easy_auth: EasyAuth | None = None,
    ) -> None:
        self._key = function_key
        self._easy_auth = easy_auth
        self._run = run
        self._admin_submit = admin_submit
        self._functions = {spec.name.lower(): spec for spec in functions}
        self.router: Router[FunctionSpec] = Router(route_prefix)
        for spec in self._functions.values():
            if spec.trigger_type == "httpTrigger":
                methods = spec.trigger.get("methods") or None
                self.router.add(str(spec.trigger.get("route") or spec.name), methods, spec)

    def _authorized(self, headers: dict[str, str], params: dict[str, str]) -> bool:
        supplied = headers.get(KEY_HEADER) or params.get("code") or ""
        return hmac.compare_digest(supplied.encode("utf-8"), self._key.encode("utf-8"))

    def __call__(self, request: Request) -> Response:
        """Dispatch one request."""
        target = request.environ["REQUEST_URI"]  # as sent: werkzeug's request.path is percent-decoded
        split = urlsplit(target)
        path = split.path or "/"
        if self._easy_auth is not None and path.lower().startswith("/.auth/"):
            return self._easy_auth.handle(request, path, split.query)
        headers = _joined_headers(request.headers.items())
        if self._easy_auth is not None:
            headers = self._easy_auth.principal_headers(request, headers)
        params = _query_params(split.query)
        segments = [s.lower() for s in split_path(path)]
        if len(segments) == 3 and segments[:2] == ["admin", "functions"]:
            return self._admin(request, headers, params, split_path(path)[2])
        found = self.router.match(request.method, path)
        if found.route is None:
            if found.method_not_allowed:
                allowed = ", ".join(sorted(found.allowed))
                return problem(
                    404,
                    "Not Found",
                    f"no function is bound to {request.method} {path} (it takes {allowed}; "
                    "like Azure Functions, the local host answers 404 for a method a route does not take)",
                )
            return problem(404, "Not Found", f"no function is bound to {path}")
        spec = found.route.target
        auth_level = str(spec.trigger.get("authLevel") or "function").lower()
        if auth_level != ANONYMOUS and not self._authorized(headers, params):
            return problem(
                401, "Unauthorized", "a valid function key is required (x-functions-key header or code query)"
            )
        host = headers.get("host") or request.host
        http_request = func.HttpRequest(
            method=request.method,
            url=f"http://{host}{target}" if target.startswith("/") else target,
            headers=headers,
            params=params,
            route_params=found.params,
            body=request.get_data(),
        )
        invocation_id = str(uuid.uuid4())
        failed = problem(
            500, "Internal Server Error", "the function failed; see the host log", invocationId=invocation_id
        )
        try:
            result = self._run(spec, http_request, invocation_id)
        except Exception:  # noqa: BLE001 - the invoker logged the traceback; never sent to the client
            return failed
        try:
            return to_response(result)
        except (TypeError, ValueError, AttributeError) as exc:
            logger.error("function %s returned an unusable response: %s", spec.name, exc)
            return failed

    def _admin(
        self, request: Request, headers: dict[str, str], params: dict[str, str], name: str
    ) -> Response:
        if request.method != "POST":
            response = problem(405, "Method Not Allowed", "use POST to run a function")
            response.headers["Allow"] = "POST"
            return response
        if not self._authorized(headers, params):
            return problem(401, "Unauthorized", "the admin API needs the key in x-functions-key")
        spec = self._functions.get(name.lower())
        if spec is None:
            return problem(404, "Not Found", f"no function named {name!r}")
        if spec.trigger_type == "httpTrigger":
            return problem(400, "Bad Request", f"{spec.name} is HTTP-triggered; call its route")
        payload: Any = {}
        if request.get_data().strip():
            try:
                payload = json.loads(request.get_data())
            except (UnicodeDecodeError, json.JSONDecodeError):
                return problem(400, "Bad Request", 'the body must be JSON like {"input": "..."}')
        value = payload.get("input") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or not (value is None or isinstance(value, str)):
            return problem(400, "Bad Request", 'the body must be JSON like {"input": "..."}')
        self._admin_submit(spec, value)
        return Reply(status=202)
