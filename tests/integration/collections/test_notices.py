"""The notice sender against Azurite and a webhook receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import runtime
from shared.adapters.audit import AuditLog
from shared.adapters.customers import CustomerRepository
from shared.adapters.tables import Table
from shared.services.collections import customer_view, ledger, notices
from shared.services.collections import scan as collections
from shared.services.collections.notices import NOTICE_OUTBOX_TABLE, OutboxMail, backoff, handle_notice, sign
from shared.services.collections.outbox import NoticeMessage
from tests.actors import TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer


class Hook:
    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[str, bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.headers.get("X-CollectionsGuard-Signature", ""), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/n"


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.server.shutdown()
    h.server.server_close()


def reminder(env: Env, hook: Hook, locale: str = "zh-CN") -> NoticeMessage:
    from datetime import date

    cid = new_customer("上海示例科技有限公司", locale, notice_webhook_url=hook.url, contacts=[])
    ledger.post_invoice(
        deps(), invoice(cid, "i1", "1000", date(2026, 3, 2)), actor=TEST_ACTOR, correlation_id="c"
    )
    env.clock.set(datetime(2026, 3, 5, 2, 0, tzinfo=UTC))
    collections.run_scan(deps())
    (message,) = env.published_notices()
    return NoticeMessage.model_validate(message)


def test_signed_webhook_and_outbox_in_the_customer_language_at_most_once(env: Env, hook: Hook) -> None:
    message = reminder(env, hook)
    assert handle_notice(deps(), message) == "delivered"
    ((signature, body),) = hook.received
    assert signature == sign(body, "test-secret")
    assert signature == "sha256=" + hmac.new(b"test-secret", body, hashlib.sha256).hexdigest()
    payload = json.loads(body)
    assert payload["stage"] == "reminder" and "付款提醒" in payload["subject"]
    mail = (
        runtime.table_store()
        .table(NOTICE_OUTBOX_TABLE)
        .get(OutboxMail, message.customer_id, message.notice_id)
    )
    assert mail is not None and mail.value.locale == "zh-CN" and "INV-i1" in mail.value.body_text
    assert handle_notice(deps(), message) == "already delivered"
    assert len(hook.received) == 1
    actions = [e["action"] for e in customer_view.audit_trail(deps(), message.customer_id)["entries"]]
    assert actions.count("notice.delivered") == 1


def test_failed_webhook_is_retried_later_without_blocking(env: Env, hook: Hook) -> None:
    message = reminder(env, hook, locale="en")
    hook.status = 500
    assert handle_notice(deps(), message) == "retry scheduled"
    stored = CustomerRepository.of(runtime.table_store()).get_notice(message.customer_id, message.notice_id)
    assert stored is not None
    assert not stored.value.delivered and stored.value.last_error == "webhook answered 500"
    assert stored.value.outbox_written  # the e-mail channel is not held up by the webhook
    assert env.published_notices() == []  # the retry is delayed (invisible for now)
    hook.status = 200
    assert handle_notice(deps(), message.model_copy(update={"attempt": 1})) == "delivered"
    assert len(hook.received) == 2


def test_no_secret_means_no_unsigned_webhook(env: Env, hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    message = reminder(env, hook)
    monkeypatch.setenv("NOTICE_WEBHOOK_SECRET", "")
    runtime.reset()
    assert handle_notice(deps(), message) == "retry scheduled"
    assert hook.received == []
    entries = customer_view.audit_trail(deps(), message.customer_id)["entries"]
    assert entries[0]["action"] == "notice.failed" and "NOTICE_WEBHOOK_SECRET" in entries[0]["reason"]


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (0, 1, 2)] == [30, 60, 120]
    assert backoff(20).total_seconds() == 3600


def test_delivery_and_its_audit_entry_are_one_transaction(
    env: Env, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notice row is marked delivered together with its audit entry, not in a second write
    that could fail after the first (a standalone append is not used on the normal path)."""
    message = reminder(env, hook)

    def no_standalone_append(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit append outside the notice's transaction")

    monkeypatch.setattr(AuditLog, "append", no_standalone_append)
    assert handle_notice(deps(), message) == "delivered"
    stored = CustomerRepository.of(runtime.table_store()).get_notice(message.customer_id, message.notice_id)
    assert stored is not None and stored.value.delivered
    trail = customer_view.audit_trail(deps(), message.customer_id)
    assert trail["verified"] and trail["entries"][0]["action"] == "notice.delivered"


def test_a_storage_error_while_delivering_is_retried_not_lost(
    env: Env, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = reminder(env, hook, locale="en")
    original = Table.upsert
    failures = [1]

    def flaky_upsert(self: Table, *args: Any, **kwargs: Any) -> Any:
        if failures:
            failures.pop()
            raise OSError("storage unavailable")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Table, "upsert", flaky_upsert)
    assert handle_notice(deps(), message) == "retry scheduled"
    stored = CustomerRepository.of(runtime.table_store()).get_notice(message.customer_id, message.notice_id)
    assert stored is not None and stored.value.claimed_at is None and not stored.value.delivered
    assert handle_notice(deps(), message.model_copy(update={"attempt": 1})) == "delivered"
    assert len(hook.received) == 1


def test_a_notice_claimed_by_a_sender_that_died_is_looked_at_again_after_the_lease(
    env: Env, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = reminder(env, hook)
    repo = CustomerRepository.of(runtime.table_store())
    stored = repo.get_notice(message.customer_id, message.notice_id)
    assert stored is not None
    claimed = stored.value.model_copy(update={"claimed_at": env.clock.now(), "attempts": 1})
    repo.update_notice(message.customer_id, claimed, stored.etag)  # a sender claimed it, then died
    later: list[tuple[NoticeMessage, timedelta]] = []
    monkeypatch.setattr(notices, "_republish", lambda deps, m, mid, delay: later.append((m, delay)))
    assert handle_notice(deps(), message) == "being delivered by another sender"
    ((again, delay),) = later
    assert notices.CLAIM_LEASE <= delay <= notices.CLAIM_LEASE + timedelta(seconds=5)
    env.clock.advance(delay)
    assert handle_notice(deps(), again) == "delivered"
    assert len(hook.received) == 1
