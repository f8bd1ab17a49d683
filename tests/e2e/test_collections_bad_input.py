"""Bad input to the ledger and collections API: a 4xx problem+json with a reason, nothing written."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.data.tables import TableServiceClient

from shared import runtime
from shared.settings import default_app_settings
from tests.app_functions import registered
from tests.e2e.callers import named_key_env
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http

KEY = "collections-bad-input-key"
FUNCTIONS = registered("ledger", "collections", http_only=True)


@pytest.fixture
def api(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    prefix = "x" + uuid.uuid4().hex[:10]
    for name, value in {
        "AzureWebJobsStorage": azurite.connection_string,
        "QUEUE_TRANSPORT": "storage",
        "TABLE_PREFIX": prefix,
        "ENFORCEMENT_MODE": "enforce",
        "MAX_REQUEST_BYTES": "4096",
        **named_key_env(KEY),
    }.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    app = importlib.import_module("function_app").app
    app.functions_bindings = None
    host = DevHost(
        app,
        port=0,
        host_json=with_app_http({"functions": FUNCTIONS}),
        settings_defaults=default_app_settings(),
        function_key=KEY,
    )
    host.start()
    try:
        yield host.base_url + "/api", prefix
    finally:
        host.stop()
        runtime.reset()


def _rows(conn: str, prefix: str) -> int:
    service = TableServiceClient.from_connection_string(conn)
    return sum(
        sum(1 for _ in service.get_table_client(t.name).list_entities())
        for t in service.list_tables()
        if t.name.startswith(prefix)
    )


def test_bad_input_is_refused_with_a_reason_and_nothing_written(api: tuple[str, str], azurite: Any) -> None:
    url, prefix = api
    h = {"x-functions-key": KEY, "content-type": "application/json"}
    cid = str(uuid.uuid4())

    def send(
        method: str, path: str, body: Any = None, raw: bytes | None = None, **headers: str
    ) -> requests.Response:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return requests.request(method, url + path, data=data, headers={**h, **headers}, timeout=30)

    assert send("PUT", f"/customers/{cid}", {"name": "Contoso", "locale": "en"}).status_code == 201
    before = _rows(azurite.connection_string, prefix)
    invoice = {
        "invoice_id": "I-1",
        "customer_id": cid,
        "number": "1",
        "amount": {"amount": "100.00", "currency": "CNY"},
        "issued_on": "2026-03-01",
        "due_date": "2026-03-31",
    }
    cases = [
        (send("PUT", "/customers/not-a-guid", {"name": "x"}), 422),
        (send("PUT", f"/customers/{cid}", {"name": "x", "locale": "fr"}), 422),
        (send("PUT", f"/customers/{cid}", raw=b"{not json"), 400),
        (send("POST", "/invoices", {**invoice, "amount": {"amount": "-5", "currency": "CNY"}}), 422),
        (send("POST", "/invoices", {**invoice, "due_date": "2026-02-01"}), 422),
        (send("POST", "/invoices", {**invoice, "customer_id": str(uuid.uuid4())}), 404),
        (send("POST", "/invoices", {**invoice, "extra": 1}), 422),
        (send("POST", "/invoices", invoice, **{"content-type": "text/plain"}), 415),
        (send("POST", "/invoices", raw=b"x" * 5000), 413),
        (send("PATCH", "/invoices/I-9", {"customer_id": cid, "status": "void"}), 404),
        (send("PATCH", "/invoices/I-9", {"customer_id": cid, "status": "paid"}), 422),
        (
            send(
                "POST",
                "/payments",
                {
                    "payment_id": "P",
                    "customer_id": cid,
                    "amount": {"amount": "1"},
                    "received_at": "2026-03-01T10:00:00",
                },
            ),
            422,
        ),
        (send("POST", "/ledger/import", raw=b"kind,customer_id,id\n"), 415),
        (send("POST", "/ledger/import", raw=b"a,b\n1,2\n", **{"content-type": "text/csv"}), 422),
        (send("POST", f"/customers/{cid}/holds", {"kind": "fraud", "reason": "x"}), 422),
        (send("DELETE", f"/customers/{cid}/holds/non_payment"), 404),
        (
            send(
                "POST",
                f"/customers/{cid}/exemptions",
                {"kind": "forever", "until": "2030-01-01", "reason": "x"},
            ),
            422,
        ),
        (send("GET", f"/customers/{cid}/audit?limit=0"), 422),
        (send("GET", f"/customers/{cid}/audit?limit=%C2%B2"), 422),
        (send("GET", f"/customers/{cid}/audit?limit=%D9%A3"), 422),
        (send("POST", "/collections/approvals/a%5Cb"), 422),
        (send("POST", "/collections/approvals/a%09b"), 422),
        (send("POST", "/collections/approvals/a%23b"), 422),
        (send("POST", f"/customers/{cid}/holds", {"reason": ""}), 422),
        (send("DELETE", f"/customers/{cid}/holds/a%5Cb"), 404),
        (send("GET", f"/customers/{uuid.uuid4()}"), 404),
        (send("POST", "/collections/approvals/nope"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.method, response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == status and problem["detail"]
    assert _rows(azurite.connection_string, prefix) == before
    csv = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date\n"
        f"invoice,{cid},I-2,2,10,CNY,2026-03-01,not-a-date\n"
    )
    response = send("POST", "/ledger/import", raw=csv.encode(), **{"content-type": "text/csv"})
    assert response.status_code == 422
    (row,) = response.json()["results"]
    assert row["line"] == 2 and row["field"] == "due_date" and row["result"] == "error"
    assert _rows(azurite.connection_string, prefix) == before


def test_an_invalid_policy_answers_503_not_500(
    api: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    url, _ = api
    bad = tmp_path / "policy.toml"
    bad.write_text("time_zone = 3\n", encoding="utf-8")
    monkeypatch.setenv("POLICY_FILE", str(bad))
    runtime.reset()
    response = requests.get(f"{url}/customers/{uuid.uuid4()}", headers={"x-functions-key": KEY}, timeout=30)
    assert response.status_code == 503
    assert "policy is invalid" in response.json()["detail"]
