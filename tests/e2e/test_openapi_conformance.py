"""Contract test for the ledger, customers, collections and policy routes: walk real requests
through the local host (Azurite underneath) and check every answer, success and refusal, against
docs/openapi.yaml (status code, content type, headers, body schema).

schemathesis's generated runs cover the fraud routes (tests/e2e/test_schemathesis_fraud.py); this
walk is bounded and deterministic, so each answer a client really sees is checked at least once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared import wiring
from shared.services.collections.approvals import add_to_batch
from tests.app_functions import registered
from tests.e2e.fraud_host import KEY, FraudHost, fraud_host

pytestmark = pytest.mark.slow

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LEDGER_FUNCTIONS = registered(
    "ledger", "collections", "policy", "changes", "lists", "subscriptions", http_only=True
)
SUBSCRIPTION = "a9999999-0000-4000-8000-000000000001"
CUSTOMER = "f1111111-1111-4111-8111-111111111111"
UNKNOWN = "f9999999-9999-4999-8999-999999999999"
OVERDUE = "f2222222-2222-4222-8222-222222222222"

schema = schemathesis.openapi.from_path(SPEC)


@pytest.fixture(scope="module")
def api(azurite) -> Iterator[FraudHost]:
    # The ownership route builds the reconcile dependencies (a Partner Center client it never calls).
    partner_center = {"PARTNER_CENTER_AUTH": "none", "PARTNER_CENTER_BASE_URL": "http://127.0.0.1:9"}
    with fraud_host(azurite.connection_string, functions=LEDGER_FUNCTIONS, **partner_center) as host:
        yield host


def _call(
    api: FraudHost,
    path: str,
    method: str,
    *,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[int, str | None]:
    """Send one request; return its status and the spec violations found (None if conforming)."""
    kwargs: dict[str, Any] = {}
    if path_parameters:
        kwargs["path_parameters"] = path_parameters
    if query:
        kwargs["query"] = query
    if body is not None:
        kwargs["body"] = body
        kwargs["media_type"] = media_type
    case = schema[path][method].Case(**kwargs)
    response = case.call(base_url=api.url, headers={"x-functions-key": KEY, **(headers or {})})
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseExceptionGroup as exc:  # schemathesis's FailureGroup: collected and shown together
        found = "; ".join(str(e).splitlines()[0] for e in exc.exceptions)
        return (
            response.status_code,
            f"{method} {path} -> {response.status_code}: {found}\n{response.text[:400]}",
        )
    return response.status_code, None


def _seed_batch(batch_id: str) -> None:
    """A batch held back by the cap, as the scan records it (the host runs in this process)."""
    deps = wiring.collections()
    add_to_batch(deps, batch_id, CUSTOMER, deps.policy(), datetime.now(UTC))


def _seed_undecided(customer_id: str, subscription_id: str) -> None:
    """A subscription whose suspension the executor could not tell ours (the host runs here)."""
    from shared.adapters.layout import subscription_row
    from shared.domain.suspensions import OwnershipEvidence, SuspensionRecord, SuspensionState

    now = datetime.now(UTC)
    record = SuspensionRecord(
        subscription_id=subscription_id,
        suspended_at=now,
        correlation_id="seed",
        state=SuspensionState.UNDECIDED,
        evidence=OwnershipEvidence(why="an intent that may never have been sent", seen_at=now),
    )
    wiring.collections().customers.table.upsert(record, customer_id, subscription_row(subscription_id))


def test_every_ledger_and_collections_answer_conforms(api: FraudHost) -> None:
    profile = {
        "name": "示例科技",
        "locale": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "contacts": [{"name": "Li", "email": "li@example.com"}],
        "credit_limit": "5000.00 CNY",
        "customer_since": "2025-01-01",
    }
    invoice = {
        "invoice_id": "INV-1",
        "customer_id": CUSTOMER,
        "number": "2026-0001",
        "amount": "1200.00 CNY",
        "issued_on": "2026-10-01",
        "due_date": "2026-10-31",
    }
    payment = {
        "payment_id": "PAY-1",
        "customer_id": CUSTOMER,
        "amount": "200.00 CNY",
        "received_at": "2026-11-01T10:00:00+08:00",
    }
    csv_ok = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date,status,received_at,invoice_ids,reference\n"
        f"invoice,{CUSTOMER},INV-2,2026-0002,100.00,CNY,2026-10-02,2026-11-01,open,,,\n"
    )
    c = {"customer_id": CUSTOMER}
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("/customers/{customer_id}", "PUT", {"path_parameters": c, "body": profile}),
        ("/customers/{customer_id}", "PUT", {"path_parameters": c, "body": profile}),
        ("/customers/{customer_id}", "PUT", {"path_parameters": c, "body": {"name": ""}}),
        ("/customers/{customer_id}", "GET", {"path_parameters": c}),
        ("/customers/{customer_id}", "GET", {"path_parameters": {"customer_id": UNKNOWN}}),
        ("/invoices", "POST", {"body": invoice}),
        ("/invoices", "POST", {"body": invoice}),
        ("/invoices", "POST", {"body": {**invoice, "amount": "1300.00 CNY"}}),
        ("/invoices", "POST", {"body": {**invoice, "extra": 1}}),
        (
            "/invoices/{invoice_id}",
            "PATCH",
            {
                "path_parameters": {"invoice_id": "INV-1"},
                "body": {**c, "status": "disputed", "reason": "wrong amount"},
            },
        ),
        (
            "/invoices/{invoice_id}",
            "PATCH",
            {"path_parameters": {"invoice_id": "INV-404"}, "body": {**c, "status": "void"}},
        ),
        ("/payments", "POST", {"body": payment}),
        ("/payments", "POST", {"body": payment}),
        ("/payments", "POST", {"body": {**payment, "amount": "1.00 CNY"}}),
        (
            "/customers/{customer_id}",
            "PUT",
            {"path_parameters": {"customer_id": OVERDUE}, "body": {"name": "Late"}},
        ),
        ("/invoices", "POST", {"body": {**invoice, "invoice_id": "INV-9", "customer_id": OVERDUE}}),
        ("/collections/preview", "GET", {}),
        ("/ledger/import", "POST", {"body": csv_ok, "media_type": "text/csv"}),
        ("/ledger/import", "POST", {"body": "kind,id\nbogus,x\n", "media_type": "text/csv"}),
        ("/customers/{customer_id}/holds", "POST", {"path_parameters": c, "body": {"reason": "legal asked"}}),
        (
            "/customers/{customer_id}/holds",
            "POST",
            {"path_parameters": c, "body": {"kind": "fraud", "reason": "x"}},
        ),
        ("/customers/{customer_id}", "GET", {"path_parameters": c}),  # with a hold and a balance
        (
            "/customers/{customer_id}/holds/{hold_id}",
            "DELETE",
            {"path_parameters": {**c, "hold_id": "manual-404"}},
        ),
        (
            "/customers/{customer_id}/exemptions",
            "POST",
            {
                "path_parameters": c,
                "body": {"kind": "promise_to_pay", "until": "2026-12-31", "reason": "CFO promised"},
            },
        ),
        (
            "/customers/{customer_id}/exemptions",
            "POST",
            {
                "path_parameters": {"customer_id": UNKNOWN},
                "body": {"kind": "promise_to_pay", "until": "2026-12-31", "reason": "x"},
            },
        ),
        ("/customers/{customer_id}/audit", "GET", {"path_parameters": c}),
        ("/customers/{customer_id}/audit", "GET", {"path_parameters": c, "query": {"limit": "2"}}),
        ("/customers/{customer_id}/audit", "GET", {"path_parameters": c, "query": {"limit": "0"}}),
        ("/customers/{customer_id}/audit", "GET", {"path_parameters": {"customer_id": UNKNOWN}}),
        ("/customers/{customer_id}", "GET", {"path_parameters": {"customer_id": "not-a-guid"}}),
        (
            "/customers/{customer_id}",
            "PUT",
            {"path_parameters": {"customer_id": "not-a-guid"}, "body": profile},
        ),
        (
            "/customers/{customer_id}/holds",
            "POST",
            {"path_parameters": {"customer_id": "not-a-guid"}, "body": {"reason": "x"}},
        ),
        (
            "/customers/{customer_id}/holds",
            "POST",
            {"path_parameters": {"customer_id": UNKNOWN}, "body": {"reason": "x"}},
        ),
        (
            "/customers/{customer_id}/holds/{hold_id}",
            "DELETE",
            {"path_parameters": {"customer_id": "not-a-guid", "hold_id": "manual-1"}},
        ),
        (
            "/customers/{customer_id}/exemptions",
            "POST",
            {
                "path_parameters": {"customer_id": "not-a-guid"},
                "body": {"kind": "promise_to_pay", "until": "2026-12-31", "reason": "x"},
            },
        ),
        ("/customers/{customer_id}/audit", "GET", {"path_parameters": {"customer_id": "not-a-guid"}}),
        (
            "/invoices/{invoice_id}",
            "PATCH",
            {"path_parameters": {"invoice_id": "INV 1"}, "body": {**c, "status": "void"}},
        ),
        ("/payments", "POST", {"body": {**payment, "payment_id": "PAY-USD", "amount": "5.00 USD"}}),
        (
            "/payments",
            "POST",
            {"body": {**payment, "payment_id": "PAY-OBJ", "amount": {"amount": "3.00", "currency": "CNY"}}},
        ),
        ("/collections/preview", "GET", {}),
        ("/collections/approvals/{batch_id}", "POST", {"path_parameters": {"batch_id": "b 1"}}),
        ("/collections/approvals/{batch_id}", "POST", {"path_parameters": {"batch_id": "b-404"}}),
        ("/collections/approvals/{batch_id}", "POST", {"path_parameters": {"batch_id": "b-1"}}),
        ("/collections/approvals/{batch_id}", "POST", {"path_parameters": {"batch_id": "b-1"}}),
        ("/policy", "GET", {"query": {"lang": "en"}}),
        ("/policy", "GET", {"query": {"lang": "zh-CN"}, "headers": {"accept": "application/json"}}),
        ("/policy", "GET", {"query": {"lang": "fr"}}),
    ]
    ownership = "/customers/{customer_id}/subscriptions/{subscription_id}/ownership"
    settle = {"path_parameters": {**c, "subscription_id": SUBSCRIPTION}}
    leave = {"decision": "leave", "note": "a colleague suspended it"}
    steps += [
        (ownership, "POST", {**settle, "body": {"decision": "maybe", "note": "x"}}),
        (ownership, "POST", {"path_parameters": {**c, "subscription_id": "a/b"}, "body": leave}),
        (
            ownership,
            "POST",
            {"path_parameters": {"customer_id": "not-a-guid", "subscription_id": "s"}, "body": leave},
        ),
        (
            ownership,
            "POST",
            {
                "path_parameters": {**c, "subscription_id": "a0000000-0000-4000-8000-000000000404"},
                "body": leave,
            },
        ),
        (ownership, "POST", {**settle, "body": leave}),
        (ownership, "POST", {**settle, "body": leave}),
        (ownership, "POST", {**settle, "body": {**leave, "decision": "reactivate"}}),
    ]
    _seed_batch("b-1")
    _seed_undecided(CUSTOMER, SUBSCRIPTION)
    problems: list[str] = []
    statuses: list[int] = []
    for path, method, kwargs in steps:
        status, problem = _call(api, path, method, **kwargs)
        statuses.append(status)
        if problem:
            problems.append(problem)
    # The hold placed above, lifted: the success answer of DELETE.
    holds = api.rows("customers", CUSTOMER)
    manual = [r["RowKey"].removeprefix("hold:") for r in holds if r["RowKey"].startswith("hold:manual-")]
    assert manual, statuses
    status, problem = _call(
        api, "/customers/{customer_id}/holds/{hold_id}", "DELETE", path_parameters={**c, "hold_id": manual[0]}
    )
    statuses.append(status)
    if problem:
        problems.append(problem)
    assert all(s < 500 for s in statuses), statuses
    answered = {(path, method, status) for (path, method, _), status in zip(steps, statuses, strict=False)}
    assert ("/collections/approvals/{batch_id}", "POST", 202) in answered  # four-eyes: waits
    assert ("/customers/{customer_id}", "PUT", 201) in answered
    assert {(ownership, "POST", code) for code in (200, 404, 409, 422)} <= answered
    assert not problems, "\n\n".join(problems)


def test_four_eyes_and_list_answers_conform(api: FraudHost) -> None:
    """The lists, the pending changes and their decision by a second person, the alerts."""
    c = {"customer_id": CUSTOMER}
    approver = api.signed_in("approver")
    _seed_batch("b-2")
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}

    def step(path: str, method: str, *, caller: dict[str, str] | None = None, **kwargs: Any) -> Any:
        status, problem, body = _call_json(api, path, method, caller=caller, **kwargs)
        seen[(path, method)] = status
        if problem:
            problems.append(problem)
        return body

    step("/customers/{customer_id}", "PUT", path_parameters=c, body={"name": "Big", "protected": True})
    change = step("/collections/approvals/{batch_id}", "POST", path_parameters={"batch_id": "b-2"})
    step("/changes", "GET", query={"status": "pending"})
    step("/changes", "GET", query={"customer_id": CUSTOMER})
    step("/changes", "GET", query={"status": "nonsense"})
    step("/changes/{change_id}", "GET", path_parameters={"change_id": change["change_id"]})
    step("/changes/{change_id}", "GET", path_parameters={"change_id": "CH00000000000000000000"})
    step(
        "/changes/{change_id}/rejection", "POST", path_parameters={"change_id": change["change_id"]}, body={}
    )
    step(
        "/changes/{change_id}/approval",
        "POST",
        path_parameters={"change_id": change["change_id"]},
        body={"note": "checked the feed"},
        caller=approver,
    )
    step("/collections/approvals/{batch_id}", "POST", path_parameters={"batch_id": "b-2"})  # released: 200
    step("/collections/batches", "GET", query={"status": "released"})
    step("/collections/batches/{batch_id}", "GET", path_parameters={"batch_id": "b-2"})
    step("/collections/batches/{batch_id}", "GET", path_parameters={"batch_id": "b-404"})
    step("/customers", "GET", query={"stage": "current", "limit": "10"})
    step("/customers", "GET", query={"name": "Big"})
    step("/customers", "GET", query={"overdue_min": "10"})
    step("/customers", "GET", query={"continuation_token": "nope"})
    step("/holds", "GET", query={"reason": "manual"})
    step("/exemptions", "GET", query={"ends_by": "2026-12-31"})
    step("/exemptions", "GET", query={"ended": "maybe"})
    step("/alerts", "GET", query={"status": "open"})
    step(
        "/alerts/{alert_id}/acknowledgement",
        "POST",
        path_parameters={"alert_id": "00000000000000-0000000000000000"},
        body={},
    )
    step("/reports/ageing", "GET")
    step("/reports/ageing", "GET", query={"format": "csv"})
    step("/reports/ageing/customers", "GET", query={"limit": "5"})
    step("/me", "GET")
    step("/admin/switches", "GET")
    step("/admin/switches", "GET", caller=approver)  # 403: not an admin
    assert seen[("/admin/switches", "GET")] == 403
    assert not problems, "\n\n".join(problems)


def _call_json(
    api: FraudHost, path: str, method: str, *, caller: dict[str, str] | None, **kwargs: Any
) -> tuple[int, str | None, Any]:
    media = kwargs.pop("media_type", "application/json")
    if "body" in kwargs:
        kwargs["media_type"] = media
    case = schema[path][method].Case(**kwargs)
    headers = caller if caller is not None else {"x-functions-key": KEY}
    response = case.call(base_url=api.url, headers=headers)
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseExceptionGroup as exc:
        found = "; ".join(str(e).splitlines()[0] for e in exc.exceptions)
        return (
            response.status_code,
            f"{method} {path} -> {response.status_code}: {found}\n{response.text[:400]}",
            None,
        )
    kind = response.headers.get("content-type") or ""
    kind = kind[0] if isinstance(kind, list) else kind
    body = response.json() if kind.startswith("application/json") else None
    return response.status_code, None, body
