"""Error answers a clerk understands, in English and, when asked (`Accept-Language`), in Chinese:
no library wording, the expected format named, a 409 naming the fields that differ; and the
documented answers of a repeated hold lift and of CSV rows of an unknown customer."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from shared import runtime
from shared.settings import default_app_settings
from tests.app_functions import registered
from tests.e2e.callers import named_key_env
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http

KEY = "error-words-key"
FUNCTIONS = registered("ledger", http_only=True)
ZH = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture
def send(azurite: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AzureWebJobsStorage": azurite.connection_string,
        "QUEUE_TRANSPORT": "storage",
        "TABLE_PREFIX": "w" + uuid.uuid4().hex[:10],
        "ENFORCEMENT_MODE": "enforce",
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

    def call(method: str, path: str, body: Any = None, raw: bytes | None = None, **headers: str) -> Any:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"x-functions-key": KEY, "content-type": "application/json", **headers}
        return requests.request(method, host.base_url + "/api" + path, data=data, headers=h, timeout=30)

    try:
        yield call
    finally:
        host.stop()
        runtime.reset()


def _customer(send: Any) -> str:
    cid = str(uuid.uuid4())
    assert send("PUT", f"/customers/{cid}", {"name": "Contoso", "locale": "zh-CN"}).status_code == 201
    return cid


def _invoice(cid: str, **changes: Any) -> dict[str, Any]:
    return {
        "invoice_id": "I-1",
        "customer_id": cid,
        "number": "2026-0001",
        "amount": {"amount": "100.00", "currency": "CNY"},
        "issued_on": "2026-03-01",
        "due_date": "2026-03-31",
        **changes,
    }


def _messages(answer: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


def test_the_common_mistakes_are_explained_in_english_and_in_chinese(send: Any) -> None:
    cid = _customer(send)
    wrong = _invoice(
        cid, due_date="31/03/2026", issued_on="2026-3-1", amount={"amount": "-5", "currency": "CNY"}
    )
    wrong.pop("number")
    en, zh = send("POST", "/invoices", wrong), send("POST", "/invoices", wrong, **ZH)
    assert en.status_code == zh.status_code == 422
    assert en.headers["content-language"] == "en" and zh.headers["content-language"] == "zh-CN"
    words_en, words_zh = _messages(en), _messages(zh)
    assert "YYYY-MM-DD" in words_en["due_date"] and "YYYY-MM-DD" in words_en["issued_on"]
    assert "日期" in words_zh["due_date"] and "YYYY-MM-DD" in words_zh["due_date"]
    assert words_en["number"].startswith("required") and words_zh["number"].startswith("必填")
    assert words_en["amount"] == "amount must be greater than zero"
    assert words_zh["amount"] == "金额必须大于零"
    assert zh.json()["detail"] == "请求正文不符合要求：请看各字段的说明"
    for answer in (en, zh):
        text = answer.text
        assert "Value error" not in text and "Input should" not in text, text

    payment = {"payment_id": "P-1", "customer_id": cid, "amount": {"amount": "1.00", "currency": "CNY"}}
    no_offset = send("POST", "/payments", {**payment, "received_at": "2026-03-01T10:00:00"}, **ZH)
    assert no_offset.status_code == 422
    assert "时区偏移" in _messages(no_offset)["received_at"]
    not_a_time = send("POST", "/payments", {**payment, "received_at": "yesterday"})
    assert "YYYY-MM-DDThh:mm:ss+08:00" in _messages(not_a_time)["received_at"]


def test_grammar_and_the_other_currency(send: Any) -> None:
    cid = _customer(send)
    assert send("POST", "/invoices", _invoice(cid)).status_code == 201
    usd = send(
        "POST", "/invoices", _invoice(cid, invoice_id="I-2", amount={"amount": "5.00", "currency": "USD"})
    )
    assert usd.status_code == 422
    assert "an invoice in USD is refused" in usd.json()["detail"], usd.json()
    zh = send(
        "POST",
        "/invoices",
        _invoice(cid, invoice_id="I-2", amount={"amount": "5.00", "currency": "USD"}),
        **ZH,
    )
    assert "不接受 USD 的账单" in zh.json()["errors"][0]["message"]


def test_a_409_names_the_fields_that_differ(send: Any) -> None:
    cid = _customer(send)
    assert send("POST", "/invoices", _invoice(cid)).status_code == 201
    changed = _invoice(cid, due_date="2026-04-30", amount={"amount": "120.00", "currency": "CNY"})
    en, zh = send("POST", "/invoices", changed), send("POST", "/invoices", changed, **ZH)
    assert en.status_code == zh.status_code == 409
    assert en.json()["differing_fields"] == ["amount", "due_date"]
    assert "a different amount, due_date" in en.json()["detail"]
    assert sorted(e["field"] for e in en.json()["errors"]) == ["amount", "due_date"]
    assert "以下字段不同：amount, due_date" in zh.json()["detail"]
    assert send("POST", "/invoices", _invoice(cid)).status_code == 200  # the same again: unchanged


def test_lifting_a_hold_twice_answers_404_saying_it_is_lifted_already(send: Any) -> None:
    """docs/ledger-api.md: the second DELETE of a hold answers 404 (it is not there any more)."""
    cid = _customer(send)
    placed = send("POST", f"/customers/{cid}/holds", {"kind": "manual", "reason": "站点核查 site check"})
    assert placed.status_code == 201
    hold = placed.json()
    assert hold["reason"] == "manual" and hold["note"] == "站点核查 site check"  # as documented
    path = f"/customers/{cid}/holds/{hold['hold_id']}"
    assert send("DELETE", path).status_code == 204
    again, again_zh = send("DELETE", path), send("DELETE", path, **ZH)
    assert again.status_code == again_zh.status_code == 404
    assert "lifted already, or never placed" in again.json()["detail"]
    assert "已经解除" in again_zh.json()["detail"]


def test_csv_rows_of_an_unknown_customer_are_errors_naming_the_customer(send: Any) -> None:
    """`rejected` is kept for rows refused because another row of their customer failed."""
    known, unknown = _customer(send), str(uuid.uuid4())
    csv_text = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date\n"
        f"invoice,{unknown},U-1,N1,10.00,CNY,2026-03-01,2026-03-31\n"
        f"invoice,{unknown},U-2,N2,10.00,CNY,2026-03-01,2026-03-31\n"
        f"invoice,{known},K-1,N3,10.00,CNY,2026-03-01,2026-03-31\n"
    )
    answer = send("POST", "/ledger/import", raw=csv_text.encode(), **{"content-type": "text/csv"})
    assert answer.status_code in (200, 207), answer.text
    rows = {r["id"]: r for r in answer.json()["results"]}
    for row_id in ("U-1", "U-2"):
        assert rows[row_id]["result"] == "error"
        assert rows[row_id]["field"] == "customer_id"
        assert "unknown" in rows[row_id]["message"]
    assert rows["K-1"]["result"] == "created"
