"""The Partner Center simulator: loopback HTTP over the tenant state (customers, subscriptions,
fraud events, unbilled reconciliation line items in `billing.py`), with the rate limit, fault
injection, MS-RequestId replay and a call log (a call's query in `extra["query"]`); control
endpoints under `/_sim/` (reset, seed, state, faults, calls, ratelimit, config with
`billing_paging`, billing/items, billing/usage, apply_deferred).

In-process use (tests): `Simulator(seed).start()`, `.base_url`, `.add_fault(...)`, `.calls()`,
`.subscription(...)`, `.add_subscription(...)`, `.set_quantity(...)`, `.add_line_items(...)`,
`.usage_day(...)`, `.set_billing_paging(...)`, `.stop()`. Standalone:
`python -m tools.pcsim --port 7081 --seed FILE`.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tools.devhost.http import HttpServerThread
from tools.pcsim import billing
from tools.pcsim.errors import DOCUMENTED as DOCUMENTED_ERRORS
from tools.pcsim.errors import RENEWAL_WINDOW_CODE, SimError, describe
from tools.pcsim.faults import Call, CallLog, FaultInjector, FaultKind, FaultRule, RateLimiter
from tools.pcsim.state import PARTNER_SUSPENSION_REASON, TenantState

DEMO_TENANT = Path(__file__).with_name("demo_tenant.json")
TENANT_KEY = "partner"  # one partner tenant: every call shares its rate limit
# Matched against the lower-cased path: Partner Center's paths are case-insensitive, and so are
# the ids in them (the tenant keys them in lower case).
_API = Map(
    [
        Rule("/v1/customers", endpoint="customers", methods=["GET"]),
        Rule("/v1/customers/<customer_id>/subscriptions", endpoint="subscriptions", methods=["GET"]),
        Rule(
            "/v1/customers/<customer_id>/subscriptions/<subscription_id>",
            endpoint="subscription",
            methods=["GET", "PATCH"],
        ),
        Rule("/v1/fraudevents", endpoint="fraud_events", methods=["GET"]),
        Rule("/v1/invoices/unbilled/lineitems", endpoint="unbilled_line_items", methods=["GET"]),
        Rule(
            "/v1/fraudevents/subscription/<subscription_id>/status", endpoint="fraud_status", methods=["POST"]
        ),
    ],
    merge_slashes=False,
).bind("pcsim")


class Reply:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


def _pascal(value: Any) -> Any:
    """PascalCase every key (the documented request style), to test case-insensitive parsing."""
    if isinstance(value, dict):
        return {(k[:1].upper() + k[1:]) if isinstance(k, str) else k: _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value


def _throttled(seconds: int) -> Reply:
    message = f"Rate limit is exceeded. Try again in {seconds} seconds."
    return Reply(429, {"statusCode": 429, "message": message}, {"Retry-After": str(seconds)})


@dataclass
class _Deferred:
    """A call a `defer` fault swallowed: applied later by `apply_deferred()`."""

    generation: int
    call: Call
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class SimulatorCore:
    """Everything except the sockets: routes, state, faults, limits, replay, call log."""

    def __init__(self, seed: dict[str, Any], *, rate_limit: int = 500, random_seed: int = 7) -> None:
        self._lock = threading.RLock()
        self.seed_data = copy.deepcopy(seed)
        self.state = TenantState.from_seed(seed)
        self.billing = billing.BillingStore.from_seed(seed)
        self.faults = FaultInjector(random_seed)
        self.limiter = RateLimiter(rate_limit)
        self.calls = CallLog()
        self.response_case = "camel"
        self._replies: dict[str, Reply] = {}
        self._deferred: list[_Deferred] = []
        self._generation = 0  # one more at each reset
        self.sleep: Callable[[float], None] = time.sleep  # a latency fault's wait (tests hold it)

    # --- control ---
    def reset(self, seed: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._generation += 1
            if seed is not None:
                self.seed_data = copy.deepcopy(seed)
            self.state = TenantState.from_seed(self.seed_data)
            self.billing = billing.BillingStore.from_seed(self.seed_data)
            self._replies.clear()
            self._deferred.clear()
            self.faults.clear()
            self.calls.clear()
            self.response_case = "camel"
            self.limiter.configure(self.limiter.limit, self.limiter.window_seconds)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.state.snapshot()

    def apply_deferred(self) -> int:
        """Apply the calls `defer` faults swallowed, in order (a repeat of an applied request id
        is a replay, as at Partner Center); returns how many changed state."""
        with self._lock:
            pending, self._deferred = self._deferred, []
            applied = 0
            for item in pending:
                if item.generation != self._generation:
                    continue
                request_id = item.headers.get("ms-requestid")
                if request_id and request_id in self._replies:
                    item.call.replayed = True
                    continue
                reply, changed = self._answer(item.method, item.path, item.query, item.headers, item.body)
                item.call.status, item.call.applied = reply.status, changed
                if request_id and 200 <= reply.status < 300:
                    self._replies[request_id] = reply
                applied += int(changed)
            return applied

    # --- API ---
    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[Reply | None, bool]:
        """(reply or None to drop the connection, whether to drop after applying).

        A request belongs to the generation (the time between two resets) that it began in: one
        that waited in a latency fault across a reset is dropped when it wakes, and leaves the new
        generation's faults, rate limit, replay cache, state and call log as they are."""
        request_id = headers.get("ms-requestid")
        echo = {
            "MS-RequestId": request_id or str(uuid.uuid4()),
            "MS-CorrelationId": headers.get("ms-correlationid") or str(uuid.uuid4()),
        }
        with self._lock:
            generation = self._generation
            call = self.calls.start(method, path, request_id, headers.get("ms-correlationid"))
            call.extra = {
                name: headers[name]
                for name in ("ms-contract-version", "accept", "if-match", "ms-continuationtoken")
                if name in headers
            }
            call.extra["authorization"] = headers.get("authorization", "").split(" ")[0] or None
            if query:
                call.extra["query"] = dict(query)
            if method in ("PATCH", "POST"):
                call.body = copy.deepcopy(body)
            retry_after = self.limiter.admit(TENANT_KEY)
            if retry_after is not None:
                call.status, call.fault = 429, "rate_limit"
                return self._out(_throttled(int(retry_after)), echo), False
            delays = [rule.seconds for rule in self.faults.pick(method, path, (FaultKind.LATENCY,))]
        for seconds in delays:
            self.sleep(seconds)
        with self._lock:
            if self._generation != generation:  # reset while it waited: it belongs to a world gone
                return None, False
            kinds = (FaultKind.DROP, FaultKind.STATUS, FaultKind.THROTTLE, FaultKind.DEFER)
            for rule in self.faults.pick(method, path, kinds, first_only=True):
                call.fault = rule.kind.value
                if rule.kind is FaultKind.DROP:
                    return None, False
                if rule.kind is FaultKind.DEFER:
                    self._deferred.append(_Deferred(generation, call, method, path, query, headers, body))
                    return None, False
                if rule.kind is FaultKind.THROTTLE:
                    call.status = 429
                    return self._out(_throttled(int(rule.seconds) or 1), echo), False
                call.status = rule.status
                error = SimError(rule.status, rule.code or rule.status, describe(rule.status, rule.code))
                return self._out(Reply(rule.status, error.body()), echo), False
            lose = bool(self.faults.pick(method, path, (FaultKind.LOSE_RESPONSE,)))
            mutating = method in ("PATCH", "POST")
            if mutating and request_id and request_id in self._replies:
                reply = self._replies[request_id]
                call.status, call.replayed = reply.status, True
            else:
                reply, applied = self._answer(method, path, query, headers, body)
                call.status, call.applied = reply.status, applied
                if mutating and request_id and 200 <= reply.status < 300:
                    self._replies[request_id] = reply
        if lose:
            call.fault = FaultKind.LOSE_RESPONSE.value
            return None, True
        return self._out(reply, echo), False

    def _out(self, reply: Reply, echo: dict[str, str]) -> Reply:
        body = (
            _pascal(reply.body) if self.response_case == "pascal" and reply.body is not None else reply.body
        )
        return Reply(reply.status, body, {**echo, **reply.headers})

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[Reply, bool]:
        try:
            return self._route(method, path, query, headers, body)
        except SimError as exc:
            return Reply(exc.status, exc.body()), False

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[Reply, bool]:
        try:
            endpoint, ids = _API.match(path.lower(), method)
        except HTTPException:  # no such path, or not for this method
            raise SimError(404, 1000, f"No route for {method} {path}") from None
        if endpoint == "customers":
            return self._list_customers(query, headers), False
        if endpoint == "subscriptions":
            items = [copy.deepcopy(s.resource) for s in self.state.subscriptions_of(**ids).values()]
            return Reply(200, _collection(items, "Subscription")), False
        if endpoint == "subscription" and method == "PATCH":
            resource, changed = self.state.patch(**ids, body=body, if_match=headers.get("if-match"))
            return Reply(200, resource), changed
        if endpoint == "subscription":
            return Reply(200, copy.deepcopy(self.state.subscription(**ids).resource)), False
        if endpoint == "unbilled_line_items":
            return Reply(200, self.billing.list(query, headers)), False
        if endpoint == "fraud_events":
            new_model = headers.get("x-neweventsmodel", "").lower() == "true"
            return Reply(200, self.state.list_fraud_events(query, new_model)), False  # a bare array
        updated = self.state.update_fraud_events(**ids, body=body)
        return Reply(200, updated), bool(updated)

    def _list_customers(self, query: dict[str, str], headers: dict[str, str]) -> Reply:
        q = {k.lower(): v for k, v in query.items()}
        size = max(1, min(int(q.get("size", "100") or 100), 500))
        offset = 0
        if q.get("seekoperation", "").lower() == "next":
            token = headers.get("ms-continuationtoken")
            if not token:
                raise SimError(400, 800002, "MS-ContinuationToken header is required with seekOperation=Next")
            try:
                offset = int(json.loads(base64.b64decode(token))["offset"])
            except (ValueError, KeyError, TypeError):
                raise SimError(400, 800002, "Invalid continuation token") from None
        customers = self.state.customer_list()
        page = customers[offset : offset + size]
        links: dict[str, Any] = {"self": {"uri": f"/customers?size={size}", "method": "GET", "headers": []}}
        if offset + size < len(customers):
            token = base64.b64encode(json.dumps({"offset": offset + size}).encode()).decode()
            links["next"] = {
                "uri": f"/customers?size={size}&seekOperation=Next",
                "method": "GET",
                "headers": [{"key": "MS-ContinuationToken", "value": token}],
            }
        body = _collection(page, "Customer")
        body["totalCount"] = len(page)
        body["links"] = links
        return Reply(200, body)


def _collection(items: list[dict[str, Any]], object_type: str) -> dict[str, Any]:
    return {"totalCount": len(items), "items": items, "links": {}, "attributes": {"objectType": "Collection"}}


def serve(core: SimulatorCore, request: Request) -> Response | None:
    """One HTTP request: `/_sim/...` is control, the rest is the API (None: drop the connection)."""
    body = request.get_json(force=True, silent=True)  # None unless the body is JSON
    if request.path.startswith("/_sim/"):
        reply: Reply | None = control(core, request.method, request.path, body)
    else:
        headers = {name.lower(): value for name, value in request.headers.items()}
        query = {name: value for name, value in request.args.items(multi=True) if value}
        reply, _ = core.handle(request.method, request.path, query, headers, body)
    if reply is None:
        return None
    data = b"" if reply.body is None else json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
    return Response(data, reply.status, reply.headers, content_type="application/json; charset=utf-8")


def control(core: SimulatorCore, method: str, path: str, body: Any) -> Reply:
    """`/_sim/...`: reset, seed, faults, calls, state, ratelimit, config, apply_deferred, and
    billing/items, billing/usage (`billing.control`)."""
    name = path.removeprefix("/_sim/").strip("/")
    with core._lock:
        answered = billing.control(core.billing, method, name, body)
    if answered is not None:
        return Reply(*answered)
    if name == "reset" and method == "POST":
        core.reset()
        return Reply(200, {"ok": True})
    if name == "seed" and method == "POST" and isinstance(body, dict):
        core.reset(body)
        return Reply(200, {"ok": True})
    if name == "state" and method == "GET":
        return Reply(200, core.snapshot())
    if name == "apply_deferred" and method == "POST":
        return Reply(200, {"applied": core.apply_deferred()})
    if name == "calls":
        if method == "DELETE":
            core.calls.clear()
            return Reply(200, {"ok": True})
        return Reply(200, {"calls": core.calls.all()})
    if name == "faults":
        if method == "POST" and isinstance(body, dict):
            try:
                rule = FaultRule(**{**body, "kind": FaultKind(body.get("kind", ""))})
            except (TypeError, ValueError) as exc:
                return Reply(400, {"error": str(exc)})
            return Reply(200, core.faults.add(rule).to_dict())
        if method == "DELETE":
            core.faults.clear()
            return Reply(200, {"ok": True})
        return Reply(200, {"faults": core.faults.rules()})
    if name == "ratelimit" and method == "POST" and isinstance(body, dict):
        core.limiter.configure(int(body.get("limit", 500)), float(body.get("window_seconds", 60.0)))
        return Reply(200, {"limit": core.limiter.limit, "window_seconds": core.limiter.window_seconds})
    if name == "config" and method == "POST" and isinstance(body, dict):
        with core._lock:
            if "response_case" in body:
                core.response_case = "pascal" if body.get("response_case") == "pascal" else "camel"
            if "addons_follow_reactivation" in body:
                core.state.addons_follow_reactivation = bool(body["addons_follow_reactivation"])
            if "billing_paging" in body:
                try:
                    core.billing.set_paging(str(body["billing_paging"]))
                except ValueError as exc:
                    return Reply(400, {"error": str(exc)})
        return Reply(
            200,
            {
                "response_case": core.response_case,
                "addons_follow_reactivation": core.state.addons_follow_reactivation,
                "billing_paging": core.billing.paging,
            },
        )
    return Reply(404, {"error": f"no control endpoint {method} {path}"})


class Simulator:
    """The simulator on a loopback port, in a background thread."""

    def __init__(
        self,
        seed: dict[str, Any] | str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int = 500,
        random_seed: int = 7,
    ) -> None:
        if seed is None or isinstance(seed, (str, Path)):
            seed = TenantState.load_seed(seed or DEMO_TENANT)
        self.core = SimulatorCore(seed, rate_limit=rate_limit, random_seed=random_seed)
        self._address = (host, port)
        self._http: HttpServerThread | None = None

    def start(self) -> Simulator:
        self._http = HttpServerThread(
            *self._address,
            lambda request: serve(self.core, request),
            name="pcsim",
            server_version="pcsim/1.0",
        )
        self._http.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._http is not None, "start() the simulator first"
        return f"http://{self._address[0]}:{self._http.port}"

    # --- in-process control (same as /_sim/...) ---
    def reset(self, seed: dict[str, Any] | None = None) -> None:
        self.core.reset(seed)

    def add_fault(self, kind: FaultKind | str, **options: Any) -> FaultRule:
        return self.core.faults.add(FaultRule(kind=FaultKind(kind), **options))

    def renewal_window(self, *subscription_ids: str, times: int | None = None) -> FaultRule:
        """409 on PATCHes of these subscriptions (a renewal window: no documented code)."""
        return self.refuse(*subscription_ids, status=409, code=RENEWAL_WINDOW_CODE, times=times)

    def refuse(
        self, *subscription_ids: str, code: int, status: int | None = None, times: int | None = None
    ) -> FaultRule:
        """Answer PATCHes of these subscriptions with a documented error code (its documented
        status and description unless `status` is given): 900115, 800096, 900278, 27009, ..."""
        pattern = "/subscriptions/(" + "|".join(re.escape(s) for s in subscription_ids) + ")$"
        http_status = status or DOCUMENTED_ERRORS.get(code, (400, ""))[0]
        return self.add_fault(
            FaultKind.STATUS, method="PATCH", path=pattern, status=http_status, code=code, times=times
        )

    def apply_deferred(self) -> int:
        """Apply the PATCHes a `defer` fault swallowed (Partner Center applying them late)."""
        return self.core.apply_deferred()

    def set_addons_follow_reactivation(self, follow: bool) -> None:
        """Whether reactivating a base brings its suspended add-ons back (no source settles it)."""
        with self.core._lock:
            self.core.state.addons_follow_reactivation = follow

    def clear_faults(self) -> None:
        self.core.faults.clear()

    def set_rate_limit(self, limit: int, window_seconds: float = 60.0) -> None:
        self.core.limiter.configure(limit, window_seconds)

    def set_response_case(self, case: str) -> None:
        self.core.response_case = case

    def calls(self) -> list[dict[str, Any]]:
        return self.core.calls.all()

    def clear_calls(self) -> None:
        self.core.calls.clear()

    def state(self) -> dict[str, Any]:
        return self.core.snapshot()

    def subscription(self, customer_id: str, subscription_id: str) -> dict[str, Any]:
        with self.core._lock:
            return copy.deepcopy(self.core.state.subscription(customer_id, subscription_id).resource)

    def add_subscription(self, customer_id: str, resource: dict[str, Any]) -> dict[str, Any]:
        """A new subscription of a customer (listed from now on, with the documented fields)."""
        with self.core._lock:
            return self.core.state.add_subscription(customer_id, resource)

    def set_quantity(self, customer_id: str, subscription_id: str, quantity: int) -> None:
        """A seat change behind the app's back."""
        with self.core._lock:
            self.core.state.set_quantity(customer_id, subscription_id, quantity)

    def add_line_items(self, kind: str, items: list[Any]) -> list[Any]:
        """Unbilled line items (`billinglineitems` or `usagelineitems`) as Partner Center sends them."""
        with self.core._lock:
            return self.core.billing.add_items(kind, items)

    def usage_day(
        self, customer_id: str, subscription_id: str, day: str, amount: Any, **options: Any
    ) -> list[Any]:
        """A day of rated usage (`billing.BillingStore.usage_day`: currency, meter_category,
        meter_sub_category, count); the customer's name from the tenant."""
        with self.core._lock:
            profile = self.core.state.customers.get(customer_id.lower(), {}).get("companyProfile") or {}
            options.setdefault("customer_name", profile.get("companyName"))
            return self.core.billing.usage_day(customer_id, subscription_id, day, amount, **options)

    def set_billing_paging(self, style: str) -> None:
        """How line item pages link on: "continuation" (default) or "offset"."""
        with self.core._lock:
            self.core.billing.set_paging(style)

    def set_subscription_status(
        self, customer_id: str, subscription_id: str, status: str, reason: str
    ) -> None:
        """Change a subscription behind the app's back (someone else, in the portal)."""
        with self.core._lock:
            sub = self.core.state.subscription(customer_id, subscription_id)
            sub.followed_parent = False  # changed on its own: no longer follows its base
            self.core.state.set_status(sub, status, reason or PARTNER_SUSPENSION_REASON)
