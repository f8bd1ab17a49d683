"""The reconcile executor through the local Functions host: Storage queue trigger on Azurite,
the real app, the Partner Center simulator over HTTP."""

from __future__ import annotations

import base64
import importlib
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from azure.storage.queue import QueueClient

from shared import runtime
from shared.adapters.audit import AuditLog
from shared.adapters.layout import CUSTOMERS_TABLE, hold_row
from shared.adapters.queues import StorageQueuePublisher
from shared.adapters.tables import Table, TableStore
from shared.domain.holds import Hold, HoldReason
from shared.domain.messages import ReconcileRequest
from shared.settings import default_app_settings
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http
from tools.pcsim import Simulator

C1 = "11111111-1111-4111-8111-111111111111"
C2 = "22222222-2222-4222-8222-222222222222"
MAX_DELIVERIES = 2


@dataclass
class World:
    host: DevHost
    sim: Simulator
    table: Table
    publisher: StorageQueuePublisher
    poison: QueueClient

    def publish(self, customer_id: str) -> None:
        message = ReconcileRequest(
            customer_id=customer_id,
            reason="e2e",
            correlation_id=str(uuid.uuid4()),
            requested_at=datetime.now(UTC),
        )
        self.publisher.publish(message, message_id=str(uuid.uuid4()))

    def place_hold(self, customer_id: str) -> None:
        hold = Hold(
            hold_id="non_payment", reason=HoldReason.NON_PAYMENT, placed_at=datetime.now(UTC), placed_by="e2e"
        )
        self.table.upsert(hold, customer_id, hold_row("non_payment"))


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


@pytest.fixture
def world(
    storage_connection_string: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    sim = Simulator().start()
    queue = "rq-" + unique_name
    values = {
        "AzureWebJobsStorage": storage_connection_string,
        "QUEUE_TRANSPORT": "storage",
        "TABLE_PREFIX": unique_name,
        "RECONCILE_QUEUE_NAME": queue,
        "ENFORCEMENT_MODE": "enforce",
        "PARTNER_CENTER_BASE_URL": sim.base_url,
        "PARTNER_CENTER_AUTH": "none",
        "PARTNER_CENTER_TIMEOUT_SECONDS": "2",
        "RECONCILE_MAX_DELIVERIES": str(MAX_DELIVERIES),
        "RECONCILE_RETRY_BASE_SECONDS": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    module = (
        importlib.reload(sys.modules["function_app"])
        if "function_app" in sys.modules
        else importlib.import_module("function_app")
    )
    host_json = {
        "functions": ["reconcile", "drift_sweep"],
        "extensions": {
            "queues": {
                "maxDequeueCount": MAX_DELIVERIES,
                "visibilityTimeout": "00:00:00",
                "maxPollingInterval": "00:00:00.2",
            }
        },
    }
    host = DevHost(
        module.app, port=0, host_json=with_app_http(host_json), settings_defaults=default_app_settings()
    )
    store = TableStore.from_connection_string(storage_connection_string, unique_name)
    host.start()
    try:
        yield World(
            host,
            sim,
            store.table(CUSTOMERS_TABLE),
            StorageQueuePublisher.from_connection_string(storage_connection_string, queue),
            QueueClient.from_connection_string(storage_connection_string, queue + "-poison"),
        )
    finally:
        host.stop()
        sim.stop()
        store.close()
        runtime.reset()


def test_a_hold_then_its_lifting_suspend_and_reactivate_through_the_host(world: World) -> None:
    world.place_hold(C1)
    world.publish(C1)
    wait_for(
        lambda: {s["status"] for s in world.sim.state()["customers"][0]["subscriptions"]} == {"suspended"}
    )
    world.table.delete(C1, hold_row("non_payment"))
    world.publish(C1)
    wait_for(lambda: {s["status"] for s in world.sim.state()["customers"][0]["subscriptions"]} == {"active"})

    def audited(action: str) -> int:
        return [r.action for r in AuditLog(world.table).read(C1).records].count(action)

    wait_for(lambda: audited("pc.reactivate") == 2)  # the audit entry follows each PATCH
    assert audited("pc.suspend") == 2


def test_an_unexpected_error_ends_in_the_poison_queue_with_an_alert(world: World) -> None:
    """Not Partner Center's: a message that is not a reconcile request fails every delivery."""
    world.publisher.queue_client.send_message(base64.b64encode(b'{"customer_id": "not-a-guid"}').decode())
    wait_for(lambda: world.poison.get_queue_properties().approximate_message_count == 1)
    alerts = [
        r for r in AuditLog(world.table).read("_partner").records if r.action == "alert.reconcile_failed"
    ]
    assert len(alerts) == 1 and f"delivery {MAX_DELIVERIES}" in alerts[0].reason


def test_a_partner_center_refusal_never_ends_in_the_poison_queue(world: World) -> None:
    world.sim.refuse("b2222222-0000-4000-8000-000000000001", code=900115)
    world.place_hold(C2)
    world.publish(C2)
    wait_for(
        lambda: any(r.action == "alert.subscription_refused" for r in AuditLog(world.table).read(C2).records)
    )
    wait_for(lambda: world.publisher.queue_client.get_queue_properties().approximate_message_count == 0)
    assert world.poison.get_queue_properties().approximate_message_count == 0


def test_the_drift_timer_finds_a_customer_reactivated_by_hand_and_the_executor_fixes_it(world: World) -> None:
    world.place_hold(C2)
    world.publish(C2)
    sub = "b2222222-0000-4000-8000-000000000001"
    wait_for(lambda: world.sim.subscription(C2, sub)["status"] == "suspended")
    world.sim.set_subscription_status(C2, sub, "active", "")  # someone reactivated it in the portal
    world.host.invoke("drift_sweep")
    wait_for(lambda: world.sim.subscription(C2, sub)["status"] == "suspended")
    sweep = AuditLog(world.table).read("_partner").records[0]
    assert sweep.action == "drift.sweep" and sweep.details["drifted"] == [C2]
