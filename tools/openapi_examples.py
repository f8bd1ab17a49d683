"""The API reference's examples are real answers: one scripted scenario against the running app.

Starts a private Azurite, sets the app's clock to a fixed Monday morning (so stages, dates and
days overdue are the same on every run), starts the local Functions host (tools/devhost) with
every HTTP function of `function_app.py`, and calls each operation with its example request:
the success and the common refusals (422 with field errors, 404, 409, 403 without the role,
401 without a caller). The answers are kept in `docs/openapi-examples.json`, which
`GET /api/openapi.json` merges into the operations (`functions/openapi.py`).

    python -m tools.openapi_examples          # compare with the stored examples (exit 1 if they differ)
    python -m tools.openapi_examples --write  # store what the app answers now

`tests/e2e/test_openapi_examples.py` runs the same scenario and compares, after `normalise`
(generated ids, ETags, hashes, tokens, ports: the values no two runs share).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tools.azurite import REPO_ROOT, Azurite

EXAMPLES_FILE = REPO_ROOT / "docs" / "openapi-examples.json"
NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Beijing
KEY, READER_KEY, APPROVER_KEY = "example-key", "example-reader-key", "example-approver-key"
C1 = "5d1c0a52-7f3e-4b8a-9c61-3a2e8f0b1c01"  # 上海示例科技有限公司: overdue, on hold
C2 = "5d1c0a52-7f3e-4b8a-9c61-3a2e8f0b1c02"  # Contoso Beijing: paid up
UNKNOWN = "5d1c0a52-7f3e-4b8a-9c61-3a2e8f0b1c99"
SUB = "aaaaaaaa-0000-4000-8000-000000000001"

# Operations whose answer is not data of the app (this document itself, the viewer's files).
NO_EXAMPLE = {
    "openapi": "the answer is this document",
    "api_docs": "an HTML page",
    "api_docs_asset": "a file",
}
# Operations whose success the scenario cannot reach without faking state: only their refusals.
NO_SUCCESS_EXAMPLE = {
    "subscription_ownership_settle": "needs an `undecided` subscription, which only a crash between "
    "Partner Center's answer and our record leaves (tests/integration/partner_center/"
    "test_reconcile_ownership.py settles one)",
}


@dataclass
class Recorder:
    """Calls the app and keeps each answer under its operation, status and example name."""

    base: str
    clock: Any = None  # the app's FixedClock (the scenario moves it forward at the end)
    examples: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def call(
        self,
        operation: str,
        name: str,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        key: str | None = KEY,
        raw: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Any:
        if self.clock is not None:
            # One second per call: what two calls create is ordered the same way on every run.
            from datetime import timedelta

            self.clock.advance(timedelta(seconds=1))
        sent = {"x-correlation-id": f"example-{operation}-{status}", **(headers or {})}
        if key:
            sent["x-functions-key"] = key
        data: bytes | None = None
        if raw is not None:
            data, sent["content-type"] = raw.encode(), content_type
        elif body is not None:
            data, sent["content-type"] = json.dumps(body, ensure_ascii=False).encode(), content_type
        answer = requests.request(method, self.base + "/api" + path, data=data, headers=sent, timeout=60)
        if answer.status_code != status:
            raise AssertionError(
                f"{operation} {name}: {answer.status_code} (expected {status}): {answer.text[:500]}"
            )
        value: Any = None
        if answer.content:
            kind = answer.headers.get("content-type", "")
            value = answer.json() if "json" in kind else answer.text
        example: dict[str, Any] = {"summary": name, "value": value}
        if raw is not None:
            example["request"] = raw
        elif body is not None:
            example["request"] = body
        self.examples.setdefault(operation, {}).setdefault(str(status), {})[_slug(name)] = example
        return value


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _invoice(invoice_id: str, customer: str, amount: str, issued: str, due: str) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "customer_id": customer,
        "number": invoice_id.replace("INV-", "2026-"),
        "amount": {"amount": amount, "currency": "CNY"},
        "issued_on": issued,
        "due_date": due,
    }


def scenario(r: Recorder) -> None:
    """Every operation, in the order a partner's day would call them."""
    r.call("health", "Every check ok", "GET", "/health", 200, key=None)
    r.call("policy", "The published policy (JSON)", "GET", "/policy", 200, key=None)
    # Customers and the ledger
    profile = {
        "name": "上海示例科技有限公司",
        "segment": "smb",
        "locale": "zh-CN",
        "contacts": [{"name": "王芳 Wang Fang", "email": "ap@example.cn"}],
    }
    r.call("customer_put", "A new customer", "PUT", f"/customers/{C1}", 201, profile)
    r.call("customer_put", "The same profile again", "PUT", f"/customers/{C1}", 200, profile)
    r.call("customer_put", "Not a GUID", "PUT", "/customers/12345", 422, profile)
    r.call("customer_put", "Without the role", "PUT", f"/customers/{C1}", 403, profile, key=READER_KEY)
    r.call("customer_put", "No caller", "PUT", f"/customers/{C1}", 401, profile, key=None)
    r.call(
        "customer_put",
        "Second customer",
        "PUT",
        f"/customers/{C2}",
        201,
        {"name": "Contoso Beijing", "locale": "en"},
    )
    inv1 = _invoice("INV-0001", C1, "12800.00", "2026-09-01", "2026-10-01")
    r.call("invoice_post", "An overdue invoice", "POST", "/invoices", 201, inv1)
    r.call("invoice_post", "The same invoice again", "POST", "/invoices", 200, inv1)
    changed = {**inv1, "amount": {"amount": "13800.00", "currency": "CNY"}}
    r.call("invoice_post", "Same id, other amount", "POST", "/invoices", 409, changed)
    r.call(
        "invoice_post",
        "A date in the wrong format",
        "POST",
        "/invoices",
        422,
        {**inv1, "due_date": "2026/10/01"},
    )
    r.call(
        "invoice_post",
        "An unknown customer",
        "POST",
        "/invoices",
        404,
        _invoice("INV-0099", UNKNOWN, "1.00", "2026-09-01", "2026-10-01"),
    )
    r.call(
        "invoice_post",
        "Second invoice",
        "POST",
        "/invoices",
        201,
        _invoice("INV-0002", C1, "500.00", "2026-10-01", "2026-12-01"),
    )
    r.call(
        "invoice_patch",
        "Dispute an invoice",
        "PATCH",
        "/invoices/INV-0002",
        200,
        {"customer_id": C1, "status": "disputed"},
    )
    r.call(
        "invoice_patch",
        "An unknown invoice",
        "PATCH",
        "/invoices/INV-0404",
        404,
        {"customer_id": C1, "status": "void"},
    )
    r.call(
        "invoice_post",
        "Invoice of the second customer",
        "POST",
        "/invoices",
        201,
        _invoice("INV-0003", C2, "2000.00", "2026-09-01", "2026-10-01"),
    )
    pay = {
        "payment_id": "PAY-0001",
        "customer_id": C2,
        "amount": {"amount": "2000.00", "currency": "CNY"},
        "received_at": "2026-10-20T15:04:00+08:00",
        "reference": "招商银行 回单 0001",
    }
    r.call("payment_post", "A payment that clears the balance", "POST", "/payments", 201, pay)
    r.call(
        "payment_post",
        "A time without its offset",
        "POST",
        "/payments",
        422,
        {**pay, "payment_id": "PAY-0002", "received_at": "2026-10-20T15:04:00"},
    )
    csv_text = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date,status,received_at,invoice_ids,reference\n"
        f"invoice,{C2},INV-0004,2026-0004,800.00,CNY,2026-10-01,2026-11-01,open,,,\n"
        f"payment,{C2},PAY-0003,,800.00,CNY,,,,2026-11-02T09:30:00+08:00,INV-0004,\n"
        f"invoice,{UNKNOWN},INV-0005,2026-0005,10.00,CNY,2026-10-01,2026-11-01,open,,,\n"
    )
    r.call(
        "ledger_import",
        "Rows of a known and an unknown customer",
        "POST",
        "/ledger/import",
        207,
        raw=csv_text,
        content_type="text/csv",
    )
    r.call(
        "ledger_import",
        "Not CSV",
        "POST",
        "/ledger/import",
        415,
        raw="kind,customer_id,id\n",
        content_type="text/plain",
    )
    # Holds and exemptions
    hold = r.call(
        "hold_post",
        "A manual hold",
        "POST",
        f"/customers/{C2}/holds",
        201,
        {"kind": "manual", "reason": "合同审核中 contract under review"},
    )
    r.call(
        "hold_post",
        "Only manual holds are placed here",
        "POST",
        f"/customers/{C2}/holds",
        422,
        {"kind": "fraud", "reason": "x"},
    )
    r.call("hold_delete", "Lift the manual hold", "DELETE", f"/customers/{C2}/holds/{hold['hold_id']}", 204)
    r.call("hold_delete", "Lifted already", "DELETE", f"/customers/{C2}/holds/{hold['hold_id']}", 404)
    promise = {"kind": "promise_to_pay", "until": "2026-11-27", "reason": "客户承诺月底前付款"}
    ex = r.call(
        "exemption_post", "A short promise to pay", "POST", f"/customers/{C2}/exemptions", 201, promise
    )
    r.call(
        "exemption_post",
        "A long promise needs a second person",
        "POST",
        f"/customers/{C1}/exemptions",
        202,
        {**promise, "until": "2026-12-31"},
    )
    r.call(
        "exemption_post",
        "Longer than the policy allows",
        "POST",
        f"/customers/{C1}/exemptions",
        422,
        {**promise, "until": "2027-06-30"},
    )
    path = f"/customers/{C2}/exemptions/{ex['exemption_id']}"
    r.call(
        "exemption_shorten",
        "End it earlier",
        "PATCH",
        path,
        200,
        {"until": "2026-11-20", "reason": "客户已部分付款"},
    )
    r.call("exemption_revoke", "Revoke it", "DELETE", path, 204)
    r.call("exemption_revoke", "Revoked already", "DELETE", path, 404)
    r.call("customer_get", "An overdue customer", "GET", f"/customers/{C1}", 200)
    r.call("customer_get", "An unknown customer", "GET", f"/customers/{UNKNOWN}", 404)
    r.call("customer_audit", "The audit trail, verified", "GET", f"/customers/{C2}/audit?limit=3", 200)
    # Collections
    r.call("collections_preview", "What a scan would do now", "GET", "/collections/preview", 200)
    r.call("collections_forecast", "The next 14 days", "GET", "/collections/forecast?days=14", 200)
    # The blast-radius cap holds a suspension back as the scan does (approvals.add_to_batch).
    from shared import wiring
    from shared.services.collections import approvals

    collections = wiring.collections()
    approvals.add_to_batch(collections, "cap-20261116-0200", C1, collections.policy(), NOW)
    r.call("batches_list", "Batches waiting", "GET", "/collections/batches", 200)
    r.call("batch_get", "A held-back batch", "GET", "/collections/batches/cap-20261116-0200", 200)
    r.call("batch_get", "An unknown batch", "GET", "/collections/batches/batch-0000", 404)
    r.call(
        "collections_approve",
        "Releasing needs a second person",
        "POST",
        "/collections/approvals/cap-20261116-0200",
        202,
        {"note": "已核对名单"},
        key=APPROVER_KEY,
    )
    r.call(
        "collections_approve",
        "An unknown batch",
        "POST",
        "/collections/approvals/batch-0000",
        404,
        {"note": "ok"},
        key=APPROVER_KEY,
    )
    # Four-eyes
    changes = r.call(
        "changes_list", "Changes waiting for a second person", "GET", "/changes?status=pending", 200
    )
    change_id = next(c["change_id"] for c in changes["items"] if c["kind"] == "promise_to_pay")
    r.call("change_get", "One pending change", "GET", f"/changes/{change_id}", 200)
    r.call(
        "change_approve",
        "The one who asked may not approve",
        "POST",
        f"/changes/{change_id}/approval",
        403,
        {"note": "ok"},
    )
    r.call(
        "change_approve",
        "Approved by a second person",
        "POST",
        f"/changes/{change_id}/approval",
        200,
        {"note": "已核实付款计划"},
        key=APPROVER_KEY,
    )
    other = r.call(
        "exemption_post",
        "Enforcement off needs a second person",
        "POST",
        f"/customers/{C2}/exemptions",
        202,
        {"kind": "enforcement_off", "until": "2026-12-15", "reason": "年末对账"},
    )
    r.call(
        "change_reject",
        "Rejected by a second person",
        "POST",
        f"/changes/{other['change_id']}/rejection",
        200,
        {"note": "不需要"},
        key=APPROVER_KEY,
    )
    r.call(
        "change_approve",
        "Rejected already",
        "POST",
        f"/changes/{other['change_id']}/approval",
        409,
        {"note": "again"},
        key=APPROVER_KEY,
    )
    # Fraud
    report = {
        "customer_id": C1,
        "subscription_ids": [SUB],
        "category": "payment_fraud",
        "severity": "critical",
        "source": "billing-monitor",
        "reporter": "risk@example.cn",
        "description": "一小时内三笔订单被拒付 Card chargebacks on three orders in one hour",
        "evidence": [{"kind": "order", "value": "ORD-1001"}],
    }
    accepted = r.call(
        "fraud_report_submit",
        "A critical report suspends at once",
        "POST",
        "/fraud-reports",
        202,
        report,
        headers={"Idempotency-Key": "example-report-1"},
    )
    r.call(
        "fraud_report_submit",
        "An unknown category",
        "POST",
        "/fraud-reports",
        422,
        {**report, "category": "spam"},
        headers={"Idempotency-Key": "example-report-2"},
    )
    case = accepted["case_id"]
    r.call("fraud_report_list", "Open cases", "GET", "/fraud-reports?status=investigating", 200)
    r.call("fraud_report_get", "One case", "GET", f"/fraud-reports/{case}", 200)
    r.call("fraud_report_get", "An unknown case", "GET", "/fraud-reports/01JD0000000000000000000000", 404)
    r.call(
        "fraud_report_escalate",
        "The 21Vianet service request draft",
        "POST",
        f"/fraud-reports/{case}/escalation",
        200,
        {},
    )
    r.call(
        "fraud_report_ticket",
        "The ticket number 21Vianet gave",
        "PATCH",
        f"/fraud-reports/{case}/escalation",
        200,
        {"ticket_number": "21V-2026-0001", "state": "filed"},
    )
    r.call(
        "fraud_report_resolve",
        "Dismissed: access comes back",
        "POST",
        f"/fraud-reports/{case}/resolution",
        200,
        {"outcome": "dismissed", "note": "客户已核实订单 orders verified"},
    )
    r.call(
        "fraud_report_resolve",
        "Resolved already",
        "POST",
        f"/fraud-reports/{case}/resolution",
        409,
        {"outcome": "confirmed", "note": "again"},
    )
    # Exposure: this month's unbilled charges at Partner Center against the credit limit
    r.call("exposure_refresh_now", "A refresh, to the end", "POST", "/exposure/refresh", 200)
    r.call("exposure_refresh_now", "Without the role", "POST", "/exposure/refresh", 403, key=READER_KEY)
    r.call("exposure_run", "The last refresh", "GET", "/exposure/run", 200)
    r.call("exposure_watch", "Customers near their credit limit", "GET", "/exposure", 200)
    r.call("exposure_watch", "An unknown level", "GET", "/exposure?level=high", 422)
    r.call("customer_get", "With its exposure", "GET", f"/customers/{C1}", 200)
    # Lists and reports
    r.call("customers_list", "Customers by name", "GET", "/customers?limit=2", 200)
    r.call("customers_list", "An unknown filter value", "GET", "/customers?stage=late", 422)
    r.call("holds_list", "Active holds", "GET", "/holds", 200)
    r.call("exemptions_list", "Exemptions in force", "GET", "/exemptions", 200)
    r.call("ageing_report", "Overdue balances by age", "GET", "/reports/ageing", 200)
    r.call(
        "ageing_customers",
        "The customers of one age band",
        "GET",
        "/reports/ageing/customers?currency=CNY",
        200,
    )
    # A week later: invoices keep coming, no payment does; the scan alerts the partner.
    from datetime import timedelta

    from shared.services.collections.scan import run_scan

    r.clock.advance(timedelta(days=7))
    r.call(
        "invoice_post",
        "Next week's invoice",
        "POST",
        "/invoices",
        201,
        _invoice("INV-0006", C2, "300.00", "2026-11-23", "2026-12-23"),
    )
    run_scan(wiring.collections())
    alerts = r.call("alerts_list", "Alerts for the partner", "GET", "/alerts?status=open", 200)
    alert_id = next(a["alert_id"] for a in alerts["items"] if "payments_feed" in a["kind"])
    r.call(
        "alert_acknowledge",
        "Acknowledged",
        "POST",
        f"/alerts/{alert_id}/acknowledgement",
        200,
        {"note": "ERP 付款导出已恢复 payments export fixed"},
    )
    r.call(
        "alert_acknowledge",
        "An unknown alert",
        "POST",
        "/alerts/alert-0000/acknowledgement",
        404,
        {"note": "x"},
    )
    r.call(
        "subscription_ownership_settle",
        "Nothing to settle",
        "POST",
        f"/customers/{C1}/subscriptions/{SUB}/ownership",
        404,
        {"decision": "leave", "note": "x"},
        key=APPROVER_KEY,
    )
    r.call("me", "Who is calling", "GET", "/me", 200)
    r.call("admin_switches", "The switches in effect", "GET", "/admin/switches", 200)


_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
_HEX = re.compile(r"\b[0-9a-f]{32,64}\b")
_CHANGE = re.compile(r"\bCH[0-9A-Z]{20}\b")
_ALERT = re.compile(r"\b\d{14}-[0-9A-F]{16}\b")
_SHORT_ID = re.compile(r"(?<![0-9a-f]{4}-)\b[0-9a-f]{12}\b")  # hold and exemption ids, not a GUID's tail
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b")
_PORT = re.compile(r"127\.0\.0\.1:\d+")
_VOLATILE_KEYS = {"etag", "continuation_token", "version", "app_version", "request_id", "elapsed_ms"}
KNOWN_IDS = {C1, C2, UNKNOWN, SUB}


def normalise(value: Any, key: str = "") -> Any:
    """The answer with what no two runs share replaced by placeholders."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if not isinstance(value, str):
        return value
    if key.lower() in _VOLATILE_KEYS:
        return f"<{key}>"
    text = _PORT.sub("127.0.0.1:<port>", value)
    text = _ULID.sub("<ulid>", text)
    text = _HEX.sub("<hex>", text)
    text = _CHANGE.sub("<change_id>", text)
    text = _ALERT.sub("<alert_id>", text)
    text = _SHORT_ID.sub("<id>", text)
    return _UUID.sub(lambda m: m.group(0) if m.group(0) in KNOWN_IDS else "<uuid>", text)


@contextmanager
def running_app() -> Iterator[tuple[str, Any]]:
    """The app on a private Azurite, its clock at NOW, every HTTP function; yields its base URL
    and the clock."""
    import tempfile

    from shared import clock, runtime
    from shared.domain.roles import Role
    from shared.settings import default_app_settings
    from tools.devhost import DevHost
    from tools.devhost.invoker import discover_functions
    from tools.devhost.settings import with_app_http
    from tools.pcsim import DEMO_TENANT, Simulator

    azurite = Azurite.start(location=Path(tempfile.mkdtemp(prefix="examples-")))
    simulator = Simulator(_tenant(DEMO_TENANT)).start()
    saved = dict(os.environ)

    def entry(key: str, roles: list[Role]) -> dict[str, Any]:
        return {"sha256": hashlib.sha256(key.encode()).hexdigest(), "roles": [r.value for r in roles]}

    keys = {
        "partner-billing": entry(KEY, list(Role)),
        "reporting": entry(READER_KEY, [Role.COLLECTIONS_READ]),
        "finance-approver": entry(APPROVER_KEY, [Role.COLLECTIONS_READ, Role.COLLECTIONS_APPROVE]),
    }
    os.environ.update(
        {
            "AzureWebJobsStorage": azurite.connection_string,
            "QUEUE_TRANSPORT": "storage",
            "TABLE_PREFIX": "ex",
            "ENFORCEMENT_MODE": "enforce",
            "PARTNER_CENTER_BASE_URL": simulator.base_url,
            "PARTNER_CENTER_AUTH": "none",
            "FUNCTION_KEYS_ENABLED": "true",
            "FUNCTION_KEYS": json.dumps(keys),
        }
    )
    fixed = clock.FixedClock(NOW)
    previous = clock.set_clock(fixed)
    runtime.reset()
    import function_app

    app = function_app.app
    app.functions_bindings = None
    http = [s.name for s in discover_functions(app) if s.trigger.get("type") == "httpTrigger"]
    app.functions_bindings = None
    host = DevHost(
        app, port=0, host_json=with_app_http({"functions": http}), settings_defaults=default_app_settings()
    )
    host.start()
    try:
        yield host.base_url, fixed
    finally:
        host.stop()
        clock.set_clock(previous)
        runtime.reset()
        os.environ.clear()
        os.environ.update(saved)
        simulator.stop()
        azurite.stop()


def _tenant(path: Path) -> dict[str, Any]:
    """The demo tenant with the scenario's first customer: one subscription and this month's
    unbilled charges (29,700.00 CNY at partner cost), so its exposure nears the default limit."""
    from tools.pcsim.billing import billing_item

    seed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    seed["customers"].append(
        {
            "id": C1,
            "companyProfile": {
                "tenantId": C1,
                "domain": "shanghai-example.partner.onmschina.cn",
                "companyName": "上海示例科技有限公司",
            },
            "relationshipToPartner": "reseller",
            "subscriptions": [
                {
                    "id": SUB,
                    "offerId": "CFQ7TTC0LF8S:0001",
                    "offerName": "Microsoft 365 E3",
                    "friendlyName": "M365 E3",
                    "quantity": 65,
                    "unitType": "Licenses",
                    "status": "active",
                    "billingCycle": "monthly",
                    "termDuration": "P1Y",
                }
            ],
        }
    )
    items = seed.setdefault("unbilledLineItems", {}).setdefault("billingLineItems", [])
    items.append(
        billing_item(
            C1, SUB, "CFQ7TTC0LF8S:0001", "Microsoft 365 E3", "18500.00", quantity=65, start="2026-11-01"
        )
    )
    items.append(
        billing_item(
            C1,
            SUB,
            "CFQ7TTC0LF8S:0001",
            "Microsoft 365 E3",
            "11200.00",
            quantity=40,
            charge_type="addQuantity",
            start="2026-11-10",
        )
    )
    return seed


def record() -> dict[str, Any]:
    """Run the scenario; the examples it produced, by operation, status and name."""
    with running_app() as (base, fixed):
        recorder = Recorder(base, fixed)
        scenario(recorder)
    return recorder.examples


def stored() -> dict[str, Any]:
    return json.loads(EXAMPLES_FILE.read_text(encoding="utf-8")) if EXAMPLES_FILE.is_file() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the answers as the examples")
    args = parser.parse_args(argv)
    examples = record()
    if args.write:
        EXAMPLES_FILE.write_text(json.dumps(examples, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        count = sum(len(v) for s in examples.values() for v in s.values())
        print(
            f"wrote {count} examples of {len(examples)} operations to {EXAMPLES_FILE.relative_to(REPO_ROOT)}"
        )
        return 0
    if normalise(examples) != normalise(stored()):
        print("the app's answers differ from docs/openapi-examples.json: run with --write", file=sys.stderr)
        return 1
    print("the stored examples are what the app answers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
