"""End to end: fraud reports through the local Functions host, on Azurite, over real sockets."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from tests.e2e.callers import MACHINE_KEY_NAME
from tests.e2e.fraud_host import KEY, FraudHost, fraud_host, report

pytestmark = pytest.mark.slow

CUSTOMER = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"
SECRET = "monitor-secret-0123456789"


@pytest.fixture(scope="module")
def api(azurite) -> Iterator[FraudHost]:
    secrets = json.dumps({"monitor": SECRET})
    with fraud_host(azurite.connection_string, FRAUD_REPORT_SIGNING_SECRETS=secrets) as host:
        host.act_as(host.signed_in("risk"))  # staff report under their own identity
        yield host


def _hold_rows(api: FraudHost, customer: str) -> list[str]:
    return [r["RowKey"] for r in api.rows("customers", customer) if r["RowKey"].startswith("hold:")]


def test_critical_report_places_a_fraud_hold_and_asks_for_a_reconcile(api: FraudHost) -> None:
    customer = "a1111111-1111-4111-8111-111111111111"
    answer = api.post("/fraud-reports", report(customer))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "investigating"
    assert body["customer_known"] is False
    assert body["decision"]["rule"] == "critical-hold"
    assert "fraud_hold_placed" in body["actions"]
    assert _hold_rows(api, customer) == [f"hold:fraud-{body['case_id']}"]
    assert any(m["customer_id"] == customer for m in api.messages())
    case = api.get(f"/fraud-reports/{body['case_id']}").json()
    # The hold is placed; Partner Center has confirmed nothing yet (no executor runs here).
    assert case["hold_active"] is False
    assert case["enforcement"]["hold_placed"] is True and case["enforcement"]["status"] == "pending"
    assert case["evidence"][0]["value"] == "ORD-1001"
    trail = [r["action"] for r in api.rows("customers", customer) if r["RowKey"].startswith("audit:")]
    assert {"fraud.report_received", "fraud.triage", "hold.placed"} <= set(trail)


def test_dismissal_lifts_only_the_case_hold_and_asks_for_a_reconcile(api: FraudHost) -> None:
    customer = "a2222222-2222-4222-8222-222222222222"
    case_id = api.post("/fraud-reports", report(customer)).json()["case_id"]
    before = len([m for m in api.messages() if m["customer_id"] == customer])
    answer = api.post(f"/fraud-reports/{case_id}/resolution", {"outcome": "dismissed", "note": "false alarm"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "dismissed"
    assert answer.json()["hold_active"] is False
    assert answer.json()["enforcement"]["status"] == "not_held"
    assert _hold_rows(api, customer) == []
    assert len([m for m in api.messages() if m["customer_id"] == customer]) == before + 1
    again = api.post(f"/fraud-reports/{case_id}/resolution", {"outcome": "confirmed", "note": "changed mind"})
    assert again.status_code == 409


def test_confirmed_case_keeps_the_hold_and_recommends_cancelling(api: FraudHost) -> None:
    customer = "a3333333-3333-4333-8333-333333333333"
    case_id = api.post("/fraud-reports", report(customer)).json()["case_id"]
    answer = api.post(f"/fraud-reports/{case_id}/resolution", {"outcome": "confirmed", "note": "chargebacks"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["enforcement"]["hold_placed"] is True  # the hold stays
    assert "aaaaaaaa-0000-4000-8000-000000000001" in answer.json()["resolution"]["recommendation"]
    assert _hold_rows(api, customer) == [f"hold:fraud-{case_id}"]


def test_duplicate_reports_join_one_case(api: FraudHost) -> None:
    customer = "a4444444-4444-4444-8444-444444444444"
    first = api.post("/fraud-reports", report(customer, severity="low")).json()
    second = api.post("/fraud-reports", report(customer, severity="medium", source="soc")).json()
    assert second["case_id"] == first["case_id"]
    assert second["joined_existing_case"] is True
    assert second["hit_count"] == 2
    assert second["severity"] == "medium"
    assert "review_queue" in second["actions"]
    listed = api.get("/fraud-reports", {"status": "open", "limit": "100"}).json()
    assert first["case_id"] in [c["case_id"] for c in listed["items"]]
    other = api.post("/fraud-reports", report(customer, category="spam_phishing", severity="low")).json()
    assert other["case_id"] != first["case_id"]


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(api: FraudHost) -> None:
    customer = "a5555555-5555-4555-8555-555555555555"
    body = report(customer, severity="low")
    first = api.post("/fraud-reports", body, **{"Idempotency-Key": "key-1"})
    rows = api.table_rows()
    again = api.post("/fraud-reports", body, **{"Idempotency-Key": "key-1"})
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.table_rows() == rows
    other = api.post("/fraud-reports", {**body, "severity": "high"}, **{"Idempotency-Key": "key-1"})
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    assert api.table_rows() == rows


def test_signed_sender_must_sign_correctly(api: FraudHost) -> None:
    customer = "a6666666-6666-4666-8666-666666666666"
    raw = json.dumps(report(customer, severity="low")).encode()
    good = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    machine = {"x-functions-key": KEY, "X-ZUMO-AUTH": ""}
    rows = api.table_rows()
    bad = api.post(
        "/fraud-reports", raw=raw, **machine, **{"X-Sender": "monitor", "X-Signature": "sha256=" + "0" * 64}
    )
    assert bad.status_code == 401
    missing = api.post("/fraud-reports", raw=raw, **machine, **{"X-Sender": "monitor"})
    assert missing.status_code == 401
    unknown = api.post("/fraud-reports", raw=raw, **machine, **{"X-Sender": "stranger", "X-Signature": good})
    assert unknown.status_code == 401
    assert api.table_rows() == rows
    ok = api.post("/fraud-reports", raw=raw, **machine, **{"X-Sender": "monitor", "X-Signature": good})
    assert ok.status_code == 202, ok.text
    received = _audit(api, customer, "fraud.report_received")
    assert (received["actor"], received["actor_kind"]) == (MACHINE_KEY_NAME, "key")
    assert received["details"]["signed_by_sender"] == "monitor"


def test_an_unsigned_machine_report_is_refused_while_secrets_are_set(api: FraudHost) -> None:
    """No anonymous path to a suspension: a named key or an app token without a signature is
    refused (and writes nothing); a person signed in reports under their own identity."""
    customer = "a6666666-6666-4666-8666-666666666667"
    rows = api.table_rows()
    by_key = api.post("/fraud-reports", report(customer), **{"x-functions-key": KEY, "X-ZUMO-AUTH": ""})
    assert by_key.status_code == 401, by_key.text
    assert "sign" in by_key.json()["detail"] and by_key.json()["localized"]["zh-CN"]
    by_app = api.post("/fraud-reports", report(customer), **api.signed_in(app="monitoring"))
    assert by_app.status_code == 401, by_app.text
    assert api.table_rows() == rows and _hold_rows(api, customer) == []
    by_person = api.post("/fraud-reports", report(customer))
    assert by_person.status_code == 202, by_person.text
    assert "fraud_hold_placed" in by_person.json()["actions"]
    received = _audit(api, customer, "fraud.report_received")
    assert received["actor_kind"] == "user"
    assert received["actor_id"] == "11111111-aaaa-4aaa-8aaa-000000000002"  # the risk analyst's oid
    assert received["actor"].startswith("王强 Wang Qiang")


def _audit(api: FraudHost, customer: str, action: str) -> dict:
    rows = [r for r in api.rows("customers", customer) if r["RowKey"].startswith("audit:")]
    found = [r for r in rows if r["action"] == action]
    assert found, [r["action"] for r in rows]
    row = dict(found[0])
    row["details"] = json.loads(row.get("details") or "{}")
    return row


def test_escalation_draft_and_ticket(api: FraudHost) -> None:
    customer = "a7777777-7777-4777-8777-777777777777"
    case_id = api.post("/fraud-reports", report(customer, severity="medium")).json()["case_id"]
    assert api.patch(f"/fraud-reports/{case_id}/escalation", {"ticket_number": "21V-1"}).status_code == 409
    claimed = api.post(f"/fraud-reports/{case_id}/escalation", {"prepared_by": "someone-else"})
    assert claimed.status_code == 422, claimed.text  # who acted comes from the sign-in, never the body
    assert claimed.json()["errors"][0]["field"] == "prepared_by"
    draft = api.post(f"/fraud-reports/{case_id}/escalation", {})
    assert draft.status_code == 200, draft.text
    assert draft.json()["prepared_by"].startswith("王强 Wang Qiang")
    body = draft.json()
    assert "可疑活动" in body["zh-CN"]["title"]
    assert "Suspicious activity" in body["en"]["title"]
    assert body["customer_tenant_id"] == customer
    assert "21Vianet" in body["where_to_file"]
    ticket = api.patch(
        f"/fraud-reports/{case_id}/escalation", {"ticket_number": "21V-2026-001", "state": "filed"}
    )
    assert ticket.status_code == 200, ticket.text
    case = api.get(f"/fraud-reports/{case_id}").json()
    assert case["escalation"]["ticket_number"] == "21V-2026-001"
    assert case["status"] == "investigating"
    trail = [r["action"] for r in api.rows("customers", customer) if r["RowKey"].startswith("audit:")]
    assert {"fraud.escalation_drafted", "fraud.escalation_ticket"} <= set(trail)
