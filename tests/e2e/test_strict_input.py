"""Strict input through the local Functions host: every hostile value is refused with a reason,
and storage is exactly as it was (every row and its ETag) after each refusal."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from azure.data.tables import TableServiceClient

from tests.e2e.test_collections_bad_input import KEY, api  # noqa: F401 - the host fixture

H = {"x-functions-key": KEY, "content-type": "application/json"}


def snapshot(conn: str, prefix: str) -> dict[tuple[str, str, str], str]:
    """Every row of this test's tables, with its ETag: any write changes it."""
    service = TableServiceClient.from_connection_string(conn)
    rows: dict[tuple[str, str, str], str] = {}
    for table in service.list_tables():
        if table.name.startswith(prefix):
            for entity in service.get_table_client(table.name).list_entities():
                rows[(table.name, entity["PartitionKey"], entity["RowKey"])] = entity.metadata["etag"]
    return rows


def send(url: str, method: str, path: str, body: Any = None, raw: bytes | None = None, **h: str) -> Any:
    data = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body else None)
    return requests.request(method, url + path, data=data, headers={**H, **h}, timeout=30)


@pytest.fixture
def customer(api: tuple[str, str]) -> str:  # noqa: F811
    url, _ = api
    cid = str(uuid.uuid4())
    assert send(url, "PUT", f"/customers/{cid}", {"name": "Contoso", "locale": "en"}).status_code == 201
    return cid


def _invoice(cid: str, amount: Any, **extra: Any) -> dict[str, Any]:
    return {
        "invoice_id": "I-" + uuid.uuid4().hex[:8],
        "customer_id": cid,
        "number": "2026-0001",
        "amount": amount,
        "issued_on": "2026-11-01",
        "due_date": "2026-11-30",
        **extra,
    }


@pytest.mark.parametrize(
    "amount",
    [
        "1E+2 CNY",
        "１００ CNY",  # fullwidth digits
        "١٠٠ CNY",  # Arabic-Indic digits
        "1_000 CNY",
        "10.123 CNY",
        "+100 CNY",
        "0100 CNY",
        "100 XYZ",
        {"amount": "1e2", "currency": "CNY"},
        {"amount": "100.5", "currency": "JPY"},
    ],
)
def test_non_canonical_money_is_refused_and_nothing_is_written(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
    amount: Any,
) -> None:
    url, prefix = api
    before = snapshot(azurite.connection_string, prefix)
    answer = send(url, "POST", "/invoices", _invoice(customer, amount))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"].startswith("amount") for e in answer.json()["errors"])
    assert snapshot(azurite.connection_string, prefix) == before


@pytest.mark.parametrize("literal", [b"1E+2", b"10.123", b"1e2", b"-0.5e1"])
def test_a_json_number_is_read_by_its_literal_text_and_refused_when_not_canonical(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
    literal: bytes,
) -> None:
    url, prefix = api
    before = snapshot(azurite.connection_string, prefix)
    body = json.dumps(_invoice(customer, {"amount": "@", "currency": "CNY"})).encode()
    answer = send(url, "POST", "/invoices", raw=body.replace(b'"@"', literal))
    assert answer.status_code == 422, answer.text
    assert snapshot(azurite.connection_string, prefix) == before


@pytest.mark.parametrize("literal", [b"2026.5", b"30.0", b"1e3"])
def test_a_json_number_where_text_is_expected_is_refused(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
    literal: bytes,
) -> None:
    url, prefix = api
    before = snapshot(azurite.connection_string, prefix)
    body = json.dumps(_invoice(customer, "100.00 CNY", number="@")).encode()
    answer = send(url, "POST", "/invoices", raw=body.replace(b'"@"', literal))
    assert answer.status_code == 422, answer.text
    assert any(e["field"] == "number" for e in answer.json()["errors"])
    assert snapshot(azurite.connection_string, prefix) == before


def test_amounts_are_echoed_in_one_canonical_form(api: tuple[str, str], customer: str) -> None:  # noqa: F811
    url, _ = api
    body = json.dumps(_invoice(customer, {"amount": "@", "currency": "CNY"})).encode()
    created = send(url, "POST", "/invoices", raw=body.replace(b'"@"', b"100.5"))
    assert created.status_code == 201, created.text
    assert created.json()["amount"] == {"amount": "100.50", "currency": "CNY"}
    again = send(url, "POST", "/invoices", _invoice(customer, "250 CNY"))
    assert again.json()["amount"]["amount"] == "250.00"
    view = send(url, "GET", f"/customers/{customer}").json()
    assert view["credit_balance"] == "0.00 CNY" and view["balance"] == "350.50 CNY"


def test_duplicate_json_keys_are_refused_naming_the_key(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
) -> None:
    url, prefix = api
    other = str(uuid.uuid4())
    send(url, "PUT", f"/customers/{other}", {"name": "Other", "locale": "en"})
    before = snapshot(azurite.connection_string, prefix)
    text = json.dumps(_invoice(customer, "100.00 CNY"))
    raw = text.replace(
        f'"customer_id": "{customer}"', f'"customer_id": "{customer}", "customer_id": "{other}"'
    )
    answer = send(url, "POST", "/invoices", raw=raw.encode())
    assert answer.status_code == 400
    assert "customer_id" in answer.json()["detail"]
    errors = answer.json()["errors"]
    assert [(e["field"], e["message"]) for e in errors] == [("customer_id", "duplicate key")]
    assert errors[0]["localized"] == {"en": "duplicate key", "zh-CN": "重复的键"}
    assert snapshot(azurite.connection_string, prefix) == before


@pytest.mark.parametrize(
    ("path_of", "body_of"),
    [
        (lambda c: f"/customers/{c}", lambda c: {"name": "Contoso\x00Ltd", "locale": "en"}),
        (lambda c: f"/customers/{c}", lambda c: {"name": "Contoso \u202eLtd", "locale": "en"}),
        (lambda c: "/invoices", lambda c: _invoice(c, "100.00 CNY", number="\x1b[31m2026-1")),
        (lambda c: "/invoices", lambda c: _invoice(c, "100.00 CNY", number="2026\u200b-1")),
        (lambda c: "/invoices", lambda c: _invoice(c, "100.00 CNY", number="2026\u0085-1")),
        (lambda c: f"/customers/{c}/holds", lambda c: {"reason": "check \u2067this\u2069"}),
        (lambda c: f"/customers/{c}/holds", lambda c: {"reason": "bell\x07"}),
    ],
)
def test_control_bidi_and_zero_width_characters_are_refused(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
    path_of: Any,
    body_of: Any,
) -> None:
    url, prefix = api
    before = snapshot(azurite.connection_string, prefix)
    method = "PUT" if path_of(customer).endswith(customer) else "POST"
    answer = send(url, method, path_of(customer), body_of(customer))
    assert answer.status_code == 422, answer.text
    assert "U+" in json.dumps(answer.json()["errors"])
    assert snapshot(azurite.connection_string, prefix) == before


def test_a_multi_line_reason_may_hold_line_breaks(api: tuple[str, str], customer: str) -> None:  # noqa: F811
    url, _ = api
    answer = send(url, "POST", f"/customers/{customer}/holds", {"reason": "line one\nline two\tend"})
    assert answer.status_code == 201, answer.text


def test_a_payment_dated_in_the_future_is_refused(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
) -> None:
    url, prefix = api
    send(url, "POST", "/invoices", _invoice(customer, "100.00 CNY"))
    before = snapshot(azurite.connection_string, prefix)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"payment_id": "P-1", "customer_id": customer, "amount": "100.00 CNY", "received_at": later}
    answer = send(url, "POST", "/payments", body)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "received_at"
    assert snapshot(azurite.connection_string, prefix) == before
    now = datetime.now(UTC).isoformat()
    assert send(url, "POST", "/payments", {**body, "received_at": now}).status_code == 201


def test_exemptions_are_bounded_by_the_policy_and_can_be_shortened_and_revoked(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
) -> None:
    url, prefix = api
    path = f"/customers/{customer}/exemptions"
    before = snapshot(azurite.connection_string, prefix)
    for until in ("2099-12-31", (datetime.now(UTC).date() + timedelta(days=62)).isoformat()):
        refused = send(url, "POST", path, {"kind": "promise_to_pay", "until": until, "reason": "CFO"})
        assert refused.status_code == 422 and "at most 60 days" in refused.json()["detail"]
    assert snapshot(azurite.connection_string, prefix) == before
    until = datetime.now(UTC).date() + timedelta(days=10)  # within the four-eyes limit (14 days)
    created = send(url, "POST", path, {"kind": "promise_to_pay", "until": until.isoformat(), "reason": "CFO"})
    assert created.status_code == 201, created.text
    exemption_id = created.json()["exemption_id"]
    before = snapshot(azurite.connection_string, prefix)
    longer = {"until": (until + timedelta(days=1)).isoformat(), "reason": "more time"}
    assert send(url, "PATCH", f"{path}/{exemption_id}", longer).status_code == 422
    assert snapshot(azurite.connection_string, prefix) == before
    shorter = {"until": (until - timedelta(days=5)).isoformat(), "reason": "paid part"}
    patched = send(url, "PATCH", f"{path}/{exemption_id}", shorter)
    assert patched.status_code == 200 and patched.json()["until"] == shorter["until"]
    assert send(url, "DELETE", f"{path}/{exemption_id}").status_code == 204
    assert send(url, "DELETE", f"{path}/{exemption_id}").status_code == 404
    assert send(url, "GET", f"/customers/{customer}").json()["exemptions"] == []
    actions = [e["action"] for e in send(url, "GET", f"/customers/{customer}/audit").json()["entries"]]
    assert "exemption.revoked" in actions and "exemption.shortened" in actions


def test_a_csv_import_refuses_hostile_cells_and_writes_nothing_for_that_customer(
    api: tuple[str, str],  # noqa: F811
    azurite: Any,
    customer: str,
) -> None:
    url, prefix = api
    before = snapshot(azurite.connection_string, prefix)
    csv = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date\n"
        f"invoice,{customer},I-1,2026-1,１００,CNY,2026-11-01,2026-11-30\n"
        f"invoice,{customer},I-2,2026\u202e-2,100.00,CNY,2026-11-01,2026-11-30\n"
        f"invoice,{customer},I-3,2026-3,1E+2,CNY,2026-11-01,2026-11-30\n"
    )
    answer = send(url, "POST", "/ledger/import", raw=csv.encode(), **{"content-type": "text/csv"})
    assert answer.status_code == 422, answer.text
    results = answer.json()["results"]
    assert [(r["result"], r["field"]) for r in results] == [
        ("error", "amount"),
        ("error", "number"),
        ("error", "amount"),
    ]
    assert snapshot(azurite.connection_string, prefix) == before
