"""Non-payment end to end through the local Functions host on Azurite, with an injected clock:
invoice -> reminder -> warning -> suspension reconcile -> payment -> reinstatement reconcile, and
signed notices in the customer's language at a webhook receiver on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import importlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from azure.storage.queue import QueueClient

from shared import clock, runtime
from shared.clock import FixedClock
from shared.settings import default_app_settings
from tests.app_functions import registered
from tests.e2e.callers import named_key_env
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http

KEY = "collections-e2e-key"
SECRET = "e2e-webhook-secret"
FUNCTIONS = registered("ledger", "collections", "notices")


class Receiver:
    """A webhook endpoint on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Real time (queue delivery by the host), not business time: poll until `count` arrived."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        out = []
        for headers, body in self.received:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert headers["x-collectionsguard-signature"] == expected
            out.append(json.loads(body))
        return out

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def _reconciles(connection_string: str, queue: str) -> list[dict[str, Any]]:
    client = QueueClient.from_connection_string(connection_string, queue)
    out = []
    try:
        for message in client.receive_messages(messages_per_page=32, visibility_timeout=60):
            out.append(json.loads(base64.b64decode(message.content)))
            client.delete_message(message)
    except Exception as exc:
        if "QueueNotFound" not in str(exc):
            raise
    return out


def test_non_payment_flow(azurite: Any, monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    suffix = uuid.uuid4().hex[:10]
    reconcile_queue = f"e2e-rec-{suffix}"
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "QUEUE_TRANSPORT": "storage",
        "TABLE_PREFIX": "e" + suffix,
        "RECONCILE_QUEUE_NAME": reconcile_queue,
        "NOTICE_QUEUE_NAME": f"e2e-not-{suffix}",
        "ENFORCEMENT_MODE": "enforce",
        "NOTICE_WEBHOOK_SECRET": SECRET,
        **named_key_env(KEY),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    fixed = FixedClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
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
        _flow(host, fixed, receiver, azurite.connection_string, reconcile_queue)
    finally:
        host.stop()
        clock.set_clock(previous)
        runtime.reset()


def _flow(host: DevHost, fixed: FixedClock, receiver: Receiver, conn: str, reconcile_queue: str) -> None:
    api = host.base_url + "/api"
    headers = {"x-functions-key": KEY, "content-type": "application/json"}
    cid = str(uuid.uuid4())

    def call(method: str, path: str, body: Any = None) -> requests.Response:
        data = json.dumps(body).encode() if body is not None else None
        return requests.request(method, api + path, data=data, headers=headers, timeout=30)

    profile = {"name": "上海示例科技有限公司", "locale": "zh-CN", "notice_webhook_url": receiver.url}
    assert call("PUT", f"/customers/{cid}", profile).status_code == 201
    invoice = {
        "invoice_id": "INV-1",
        "customer_id": cid,
        "number": "2026-0001",
        "amount": {"amount": "1200.00", "currency": "CNY"},
        "issued_on": "2026-02-01",
        "due_date": "2026-03-02",
    }
    assert call("POST", "/invoices", invoice).status_code == 201
    assert call("POST", "/invoices", invoice).status_code == 200
    assert call("POST", "/invoices", {**invoice, "number": "x"}).status_code == 409
    bad = call(
        "POST", "/invoices", {**invoice, "invoice_id": "INV-2", "amount": {"amount": "1", "currency": "usd"}}
    )
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")

    for day, stage in ((5, "reminder"), (12, "warning")):
        fixed.set(datetime(2026, 3, day, 2, 0, tzinfo=UTC))
        host.invoke("collections_scan")
        notices = receiver.wait_for(1 if stage == "reminder" else 2)
        assert notices[-1]["stage"] == stage and notices[-1]["locale"] == "zh-CN"
        assert "2026-0001" in notices[-1]["body_text"]
    warning = receiver.wait_for(2)[-1]
    assert warning["suspension_date"] == "2026-03-23"
    assert "2026年3月23日" in warning["body_text"]
    assert _reconciles(conn, reconcile_queue) == []

    fixed.set(datetime(2026, 3, 23, 2, 0, tzinfo=UTC))
    assert call("GET", "/collections/preview").json()["customers"][0]["actions"][0] == "place_hold:suspension"
    host.invoke("collections_scan")
    assert [m["reason"] for m in _reconciles(conn, reconcile_queue)] == ["non_payment hold placed"]
    view = call("GET", f"/customers/{cid}").json()
    assert view["stage"] == "suspension" and view["holds"][0]["reason"] == "non_payment"
    assert receiver.wait_for(3)[-1]["stage"] == "suspension"

    payment = {
        "payment_id": "PAY-1",
        "customer_id": cid,
        "amount": {"amount": "1200.00", "currency": "CNY"},
        "received_at": "2026-03-23T10:00:00+08:00",
    }
    assert call("POST", "/payments", payment).status_code == 201
    assert [m["reason"] for m in _reconciles(conn, reconcile_queue)] == ["non_payment hold lifted"]
    view = call("GET", f"/customers/{cid}").json()
    assert view["holds"] == [] and view["balance"] == "0.00 CNY"
    audit = call("GET", f"/customers/{cid}/audit").json()
    assert audit["verified"] is True
    delivered = [e for e in audit["entries"] if e["action"] == "notice.delivered"]
    assert len(delivered) == 3
