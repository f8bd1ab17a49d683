"""End to end: bad input of every kind gets a 4xx problem+json and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.fraud_host import FraudHost, fraud_host, report

pytestmark = pytest.mark.slow

CUSTOMER = "b1111111-1111-4111-8111-111111111111"


@pytest.fixture(scope="module")
def api(azurite) -> Iterator[FraudHost]:
    with fraud_host(azurite.connection_string) as host:
        # One real case, so that path and query attacks have something to find.
        answer = host.post("/fraud-reports", report(CUSTOMER, severity="low"))
        assert answer.status_code == 202
        host.case_id = answer.json()["case_id"]  # type: ignore[attr-defined]
        yield host


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


BAD_BODIES = [
    pytest.param(b'{"customer_id": ', 400, id="malformed-json"),
    pytest.param(b"", 400, id="empty"),
    pytest.param(b"[1, 2]", 422, id="array-not-object"),
    pytest.param(b'{"severity": NaN}', 400, id="nan"),
    pytest.param(json.dumps(report(CUSTOMER, severity=5)).encode(), 422, id="wrong-type-severity"),
    pytest.param(json.dumps(report(CUSTOMER, evidence="x")).encode(), 422, id="wrong-type-evidence"),
    pytest.param(json.dumps(report(CUSTOMER, subscription_ids="x")).encode(), 422, id="wrong-type-subs"),
    pytest.param(json.dumps(report(CUSTOMER, extra=True)).encode(), 422, id="unknown-field"),
    pytest.param(json.dumps(report(CUSTOMER, description="x" * 4001)).encode(), 422, id="long-description"),
    pytest.param(
        json.dumps(report(CUSTOMER, evidence=[{"kind": "log", "value": "v" * 2001}])).encode(),
        422,
        id="long-evidence",
    ),
    pytest.param(
        json.dumps(report(CUSTOMER, evidence=[{"kind": "log", "value": "v"}] * 21)).encode(),
        422,
        id="many-evidence",
    ),
    pytest.param(
        json.dumps(report(CUSTOMER, subscription_ids=[CUSTOMER] * 101)).encode(), 422, id="many-subscriptions"
    ),
    pytest.param(json.dumps(report("1234")).encode(), 422, id="bad-guid"),
    pytest.param(json.dumps(report(f"{CUSTOMER}' or PartitionKey ne '")).encode(), 422, id="injection-guid"),
    pytest.param(
        json.dumps(report(CUSTOMER, subscription_ids=["x' or 1 eq 1"])).encode(),
        422,
        id="injection-subscription",
    ),
    pytest.param(
        json.dumps(report(CUSTOMER, category="other' or 1 eq 1")).encode(), 422, id="injection-category"
    ),
    pytest.param(json.dumps(report(CUSTOMER, reporter="a\x00b")).encode(), 422, id="control-characters"),
    pytest.param(json.dumps(report(CUSTOMER, occurred_at="yesterday")).encode(), 422, id="bad-date"),
    pytest.param(
        json.dumps(report(CUSTOMER, occurred_at="2026-11-25T09:00:00")).encode(), 422, id="naive-date"
    ),
    pytest.param(b"\xff\xfe{}", 400, id="not-utf8"),
    pytest.param(b'{"a": "' + b"x" * 70_000 + b'"}', 413, id="body-over-64k"),
]


@pytest.mark.parametrize(("raw", "status"), BAD_BODIES)
def test_bad_report_bodies_are_refused_and_write_nothing(api: FraudHost, raw: bytes, status: int) -> None:
    rows = api.table_rows()
    messages = len(api.messages())
    body = _assert_problem(api.post("/fraud-reports", raw=raw), status)
    if status == 422:
        assert body["errors"] and all("field" in e and "message" in e for e in body["errors"])
    assert api.table_rows() == rows
    assert len(api.messages()) == messages


def test_not_json_content_type_is_415(api: FraudHost) -> None:
    rows = api.table_rows()
    raw = json.dumps(report(CUSTOMER)).encode()
    _assert_problem(api.post("/fraud-reports", raw=raw, **{"content-type": "text/plain"}), 415)
    assert api.table_rows() == rows


def test_bad_idempotency_key_is_400_and_writes_nothing(api: FraudHost) -> None:
    rows = api.table_rows()
    _assert_problem(api.post("/fraud-reports", report(CUSTOMER), **{"Idempotency-Key": "k" * 201}), 400)
    assert api.table_rows() == rows


def test_text_that_looks_like_an_injection_is_stored_verbatim(api: FraudHost) -> None:
    # Free text is data: filters are parameterised, so quotes cannot change a query.
    text = "x' or PartitionKey ne '' or '1' eq '1 <script>alert(1)</script> ; DROP TABLE cases"
    answer = api.post("/fraud-reports", report(CUSTOMER, severity="low", description=text, source="s'q"))
    assert answer.status_code == 202, answer.text
    case = api.get(f"/fraud-reports/{answer.json()['case_id']}").json()
    assert case["reports"][-1]["description"] == text


@pytest.mark.parametrize(
    "params",
    [
        {"status": "open' or 1 eq 1"},
        {"status": "OPEN"},
        {"status": "open", "limit": "0"},
        {"status": "open", "limit": "101"},
        {"status": "open", "limit": "1 or 1"},
        {"status": "open", "continuation_token": "' or RowKey gt '"},
        {"status": "open", "continuation_token": "not-a-token"},
        {"status": "open", "$filter": "PartitionKey ne ''"},
    ],
)
def test_bad_list_queries_are_400_and_write_nothing(api: FraudHost, params: dict[str, str]) -> None:
    rows = api.table_rows()
    _assert_problem(api.get("/fraud-reports", params), 400)
    assert api.table_rows() == rows


@pytest.mark.parametrize("case_id", ["nope", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "' or 1 eq 1", "..%2F..%2Fhealth"])
def test_unknown_or_malformed_case_ids_are_404(api: FraudHost, case_id: str) -> None:
    rows = api.table_rows()
    _assert_problem(api.get(f"/fraud-reports/{case_id}"), 404)
    _assert_problem(
        api.post(f"/fraud-reports/{case_id}/resolution", {"outcome": "dismissed", "note": "n"}), 404
    )
    _assert_problem(api.post(f"/fraud-reports/{case_id}/escalation", {}), 404)
    assert api.table_rows() == rows


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "maybe", "note": "n"},
        {"outcome": "dismissed"},
        {"outcome": "dismissed", "note": ""},
        {"outcome": "dismissed", "note": "n", "extra": 1},
        {"outcome": "dismissed", "note": "n" * 2001},
    ],
)
def test_bad_resolutions_are_422_and_write_nothing(api: FraudHost, body: dict) -> None:
    rows = api.table_rows()
    _assert_problem(api.post(f"/fraud-reports/{api.case_id}/resolution", body), 422)  # type: ignore[attr-defined]
    assert api.table_rows() == rows


@pytest.mark.parametrize(
    "body",
    [{"ticket_number": ""}, {"ticket_number": "a b"}, {"ticket_number": "1", "state": "lost"}, {"x": 1}],
)
def test_bad_ticket_updates_are_422(api: FraudHost, body: dict) -> None:
    rows = api.table_rows()
    _assert_problem(api.patch(f"/fraud-reports/{api.case_id}/escalation", body), 422)  # type: ignore[attr-defined]
    assert api.table_rows() == rows


def test_without_a_function_key_nothing_is_reachable(api: FraudHost) -> None:
    import requests

    answer = requests.post(api.url + "/fraud-reports", json=report(CUSTOMER), timeout=10)
    assert answer.status_code == 401


def test_invalid_triage_rules_refuse_reports_with_503_and_show_in_health(azurite, tmp_path) -> None:
    rules = tmp_path / "triage.toml"
    rules.write_text('version = "x"\n[[rules]]\nname = "a"\nseverities = ["urgent"]\naction = "hold"\n')
    with fraud_host(azurite.connection_string, TRIAGE_FILE=str(rules)) as host:
        rows = host.table_rows()
        body = _assert_problem(host.post("/fraud-reports", report(CUSTOMER)), 503)
        assert "severities" in body["detail"]
        assert host.table_rows() == rows
        health = host.get("/health")
        assert health.status_code == 503
        assert health.json()["checks"]["triage"]["ok"] is False
