"""Fixtures for the Partner Center adapter and executor tests: a real simulator on a loopback
port, real Azurite tables and queues, and a helper that drains the reconcile queue like the host."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from shared.adapters.layout import CUSTOMERS_TABLE, hold_row
from shared.adapters.partner_center.auth import config_from_settings
from shared.adapters.partner_center.client import PartnerCenterClient
from shared.adapters.queues import StorageQueuePublisher
from shared.adapters.tables import Table, TableStore
from shared.domain.holds import Hold, HoldReason
from shared.domain.messages import ReconcileRequest
from shared.services.reconcile.common import ReconcileDeps, ReconcileResult
from shared.services.reconcile.handler import handle_reconcile_message
from shared.settings import AppSettings, load_settings
from tools.pcsim import DEMO_TENANT, Simulator

C1 = "11111111-1111-4111-8111-111111111111"
C2 = "22222222-2222-4222-8222-222222222222"
C3 = "33333333-3333-4333-8333-333333333333"
C1_BASE = "a1111111-0000-4000-8000-000000000001"
C1_ADDON = "a1111111-0000-4000-8000-000000000002"
C1_OTHER = "a1111111-0000-4000-8000-000000000003"
C2_SUB = "b2222222-0000-4000-8000-000000000001"
C3_SUSPENDED_ELSEWHERE = "c3333333-0000-4000-8000-000000000001"
C3_ACTIVE = "c3333333-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    sim = Simulator(random_seed=11).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim(simulator: Simulator) -> Simulator:
    """The module's simulator, reset to the demo tenant with no faults and no calls logged."""
    simulator.reset(json.loads(DEMO_TENANT.read_text(encoding="utf-8")))
    simulator.set_rate_limit(10_000)
    return simulator


def make_settings(sim: Simulator, connection_string: str, **overrides: str) -> AppSettings:
    values = {
        "AzureWebJobsStorage": connection_string,
        "PARTNER_CENTER_BASE_URL": sim.base_url,
        "PARTNER_CENTER_AUTH": "none",
        "PARTNER_CENTER_MAX_RPM": "100000",
        "PARTNER_CENTER_TIMEOUT_SECONDS": "2",
        "ENFORCEMENT_MODE": "enforce",
        "RECONCILE_RETRY_BASE_SECONDS": "0",
        "RECONCILE_CONFLICT_DELAY_SECONDS": "1",
        **overrides,
    }
    return load_settings(**values)


def make_client(
    sim: Simulator, connection_string: str = "UseDevelopmentStorage=true", **overrides: str
) -> PartnerCenterClient:
    return PartnerCenterClient.from_config(
        config_from_settings(make_settings(sim, connection_string, **overrides))
    )


@dataclass
class Env:
    """One test's world: its own tables (prefix) and reconcile queue, on the shared simulator."""

    sim: Simulator
    deps: ReconcileDeps
    queue: QueueClient

    @property
    def table(self) -> Table:
        return self.deps.table

    def place_hold(
        self, customer_id: str, hold_id: str = "non_payment", reason: HoldReason = HoldReason.NON_PAYMENT
    ) -> None:
        hold = Hold(hold_id=hold_id, reason=reason, placed_at=datetime.now(UTC), placed_by="test")
        self.table.upsert(hold, customer_id, hold_row(hold_id))

    def lift_hold(self, customer_id: str, hold_id: str = "non_payment") -> None:
        self.table.delete(customer_id, hold_row(hold_id))

    def request(self, customer_id: str, attempt: int = 0, correlation_id: str | None = None) -> bytes:
        return (
            ReconcileRequest(
                customer_id=customer_id,
                reason="test",
                correlation_id=correlation_id or str(uuid.uuid4()),
                requested_at=datetime.now(UTC),
                attempt=attempt,
            )
            .model_dump_json()
            .encode()
        )

    def reconcile(self, customer_id: str, delivery: int = 1) -> ReconcileResult:
        return handle_reconcile_message(self.deps, self.request(customer_id), delivery)

    def status(self, customer_id: str, subscription_id: str) -> str:
        return str(self.sim.subscription(customer_id, subscription_id)["status"])

    def enqueue(self, customer_id: str) -> None:
        self.queue.send_message(base64.b64encode(self.request(customer_id)).decode())

    def pending_messages(self) -> int:
        return int(self.queue.get_queue_properties().approximate_message_count)

    def drain(self, timeout: float = 60.0) -> list[ReconcileResult | Exception]:
        """Process the queue like the host (delete on success, redeliver on error) until empty."""
        outcomes: list[ReconcileResult | Exception] = []
        deadline = time.monotonic() + timeout
        while self.pending_messages() and time.monotonic() < deadline:
            received = list(self.queue.receive_messages(max_messages=16, visibility_timeout=1))
            if not received:
                time.sleep(0.2)
                continue
            for message in received:
                try:
                    outcome: ReconcileResult | Exception = handle_reconcile_message(
                        self.deps, base64.b64decode(message.content), message.dequeue_count
                    )
                except Exception as exc:  # noqa: BLE001 - the host redelivers any failure
                    outcomes.append(exc)
                    continue
                outcomes.append(outcome)
                self.queue.delete_message(message)
        assert not self.pending_messages(), "the queue did not drain in time"
        return outcomes

    def status_patches(self, subscription_id: str) -> list[str]:
        """The statuses this subscription's applied PATCHes asked for, repeats folded (an
        auto-renew PATCH repeats the status it was sent with; replays are left out)."""
        changes: list[str] = []
        for call in self.patches_applied(subscription_id):
            sent = {str(k).lower(): v for k, v in (call["body"] or {}).items()}
            status = str(sent.get("status", "")).lower()
            if not changes or changes[-1] != status:
                changes.append(status)
        return changes

    def patches_applied(self, subscription_id: str) -> list[dict[str, Any]]:
        """PATCHes that changed this subscription (replays of one MS-RequestId excluded)."""
        return [
            c
            for c in self.sim.calls()
            if c["method"] == "PATCH"
            and c["path"].endswith(subscription_id)
            and c["applied"]
            and not c["replayed"]
        ]


@pytest.fixture
def env(sim: Simulator, storage_connection_string: str, unique_name: str) -> Iterator[Env]:
    settings = make_settings(sim, storage_connection_string, RECONCILE_QUEUE_NAME="rq-" + unique_name)
    store = TableStore.from_connection_string(storage_connection_string, unique_name)
    queue = QueueClient.from_connection_string(storage_connection_string, "rq-" + unique_name)
    queue.create_queue()
    deps = ReconcileDeps(
        table=store.table(CUSTOMERS_TABLE),
        partner_center=PartnerCenterClient.from_config(config_from_settings(settings)),
        publisher=StorageQueuePublisher(queue),
        settings=settings,
    )
    yield Env(sim, deps, queue)
    queue.delete_queue()
    store.close()
