"""Fixtures of the collections integration tests: settings on a fresh Azurite table prefix and
fresh queues, the injected clock, and helpers to read what was published."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from shared import clock, runtime, wiring
from shared.clock import FixedClock
from shared.domain.customer import CustomerProfile
from shared.domain.ledger import InvoiceIn, PaymentIn
from shared.domain.money import Money
from shared.services.collections import ledger
from shared.services.collections.deps import CollectionsDeps
from tests.actors import TEST_ACTOR
from tests.conftest import smtp_settings
from tools.mailsink import MailSink

# Monday 2 March 2026, 10:00 in Shanghai: inside the enforcement window.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@dataclass
class Env:
    connection_string: str
    clock: FixedClock
    reconcile_queue: str
    notice_queue: str

    def queue_messages(self, name: str) -> list[dict[str, Any]]:
        """Every message now visible on a queue (read and deleted)."""
        client = QueueClient.from_connection_string(self.connection_string, name)
        out: list[dict[str, Any]] = []
        try:
            for message in client.receive_messages(messages_per_page=32, visibility_timeout=60):
                out.append(json.loads(base64.b64decode(message.content)))
                client.delete_message(message)
        except Exception as exc:  # the queue may not exist yet: nothing was published
            if "QueueNotFound" not in str(exc):
                raise
        return out

    def reconciles(self) -> list[dict[str, Any]]:
        return self.queue_messages(self.reconcile_queue)

    def notices(self) -> list[dict[str, Any]]:
        """The notice messages published since the last call, each handed to the notice
        sender (as the queue trigger would), so warnings are delivered (e-mail to the sink)."""
        from shared.services.collections.notices import handle_notice
        from shared.services.collections.outbox import NoticeMessage

        messages = self.queue_messages(self.notice_queue)
        for body in messages:
            handle_notice(deps(), NoticeMessage.model_validate(body))
        return messages

    def waiting(self, name: str) -> int:
        """Messages on a queue, visible or not yet (a retry is published with a delay)."""
        client = QueueClient.from_connection_string(self.connection_string, name)
        return int(client.get_queue_properties().approximate_message_count)

    def published_notices(self) -> list[dict[str, Any]]:
        """The notice messages published since the last call, NOT delivered."""
        return self.queue_messages(self.notice_queue)


@pytest.fixture
def env(azurite: Any, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    suffix = uuid.uuid4().hex[:10]
    values = {
        "AzureWebJobsStorage": azurite.connection_string,
        "QUEUE_TRANSPORT": "storage",
        "TABLE_PREFIX": "t" + suffix,
        "RECONCILE_QUEUE_NAME": f"rec-{suffix}",
        "NOTICE_QUEUE_NAME": f"not-{suffix}",
        "ENFORCEMENT_MODE": "enforce",
        "NOTICE_WEBHOOK_SECRET": "test-secret",
        **smtp_settings(mail_sink),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    runtime.reset()
    fixed = FixedClock(START)
    previous = clock.set_clock(fixed)
    try:
        yield Env(
            azurite.connection_string, fixed, values["RECONCILE_QUEUE_NAME"], values["NOTICE_QUEUE_NAME"]
        )
    finally:
        clock.set_clock(previous)
        runtime.reset()


def deps() -> CollectionsDeps:
    """The collections dependencies of this test's settings (its tables, queues and clock)."""
    return wiring.collections()


def new_customer(name: str = "Contoso", locale: str = "en", **extra: Any) -> str:
    customer_id = str(uuid.uuid4())
    extra.setdefault("contacts", [{"name": "Billing", "email": f"billing-{customer_id[:8]}@example.cn"}])
    profile = CustomerProfile.model_validate({"name": name, "locale": locale, **extra})
    ledger.put_customer(deps(), customer_id, profile, actor=TEST_ACTOR, correlation_id="c1")
    return customer_id


def invoice(customer_id: str, invoice_id: str, amount: str, due: date, **extra: Any) -> InvoiceIn:
    return InvoiceIn.model_validate(
        {
            "invoice_id": invoice_id,
            "customer_id": customer_id,
            "number": f"INV-{invoice_id}",
            "amount": Money(amount=Decimal(amount)),
            "issued_on": date(due.year, due.month, 1),
            "due_date": due,
            **extra,
        }
    )


def payment(customer_id: str, payment_id: str, amount: str, **extra: Any) -> PaymentIn:
    return PaymentIn.model_validate(
        {
            "payment_id": payment_id,
            "customer_id": customer_id,
            "amount": Money(amount=Decimal(amount)),
            "received_at": clock.now(),
            **extra,
        }
    )
