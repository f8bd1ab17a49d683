"""Queue publishers: the Storage transport against Azurite; the Service Bus message shape."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.queue import QueueClient

from shared.adapters.queues import ServiceBusPublisher, StorageQueuePublisher
from shared.domain.messages import ReconcileRequest, derived_message_id

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def request() -> ReconcileRequest:
    return ReconcileRequest(
        customer_id="11111111-1111-4111-8111-111111111111",
        reason="hold placed",
        correlation_id="corr-1",
        requested_at=NOW,
    )


def test_storage_publisher_sends_base64_json(storage_connection_string: str, unique_name: str) -> None:
    publisher = StorageQueuePublisher.from_connection_string(storage_connection_string, unique_name)
    publisher.publish(request(), message_id="m1")
    client = QueueClient.from_connection_string(storage_connection_string, unique_name)
    [message] = list(client.receive_messages(max_messages=5))
    body = json.loads(base64.b64decode(message.content))
    assert ReconcileRequest.model_validate(body) == request()


def test_storage_publisher_delay_hides_the_message(storage_connection_string: str, unique_name: str) -> None:
    publisher = StorageQueuePublisher.from_connection_string(storage_connection_string, unique_name)
    publisher.publish(request(), message_id="m1", delay=timedelta(minutes=5))
    client = QueueClient.from_connection_string(storage_connection_string, unique_name)
    assert list(client.receive_messages(max_messages=5)) == []
    assert client.get_queue_properties().approximate_message_count == 1


def test_storage_publisher_refuses_delays_it_cannot_honour(
    storage_connection_string: str, unique_name: str
) -> None:
    publisher = StorageQueuePublisher.from_connection_string(storage_connection_string, unique_name)
    with pytest.raises(ValueError, match="7 days"):
        publisher.publish(request(), message_id="m1", delay=timedelta(days=8))
    with pytest.raises(ValueError, match="message_id"):
        publisher.publish(request(), message_id="")


def test_service_bus_message_carries_id_and_schedule() -> None:
    # No Service Bus emulator runs here: this checks the message we hand to the SDK.
    publisher = ServiceBusPublisher(client=None, queue_name="reconcile")
    message_id = derived_message_id("cust", "7")
    message = publisher.build(request(), message_id=message_id, delay=timedelta(minutes=2), now=NOW)
    assert message.message_id == message_id
    assert message.scheduled_enqueue_time_utc == NOW + timedelta(minutes=2)
    assert message.content_type == "application/json"
    assert ReconcileRequest.model_validate_json(str(message)) == request()
    immediate = publisher.build(request(), message_id=message_id)
    assert immediate.scheduled_enqueue_time_utc is None


def test_derived_message_ids_are_stable_and_distinct() -> None:
    assert derived_message_id("a", "1") == derived_message_id("a", "1")
    assert derived_message_id("a", "1") != derived_message_id("a", "2")
    assert derived_message_id("a1", "") != derived_message_id("a", "1")
