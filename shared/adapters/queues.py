"""Queue publisher with two transports: Service Bus (Azure) and Storage queues (local, Azurite).

Messages are pydantic models serialised as JSON. `message_id` feeds Service Bus duplicate
detection; Storage queues have none, which is harmless because every consumer is idempotent
(the executor is level-triggered; notices are deduplicated by their rows).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from azure.core.exceptions import ResourceExistsError
from pydantic import BaseModel

# Storage queue messages become visible after at most 7 days.
MAX_STORAGE_DELAY = timedelta(days=7)


class Publisher(Protocol):
    """Sends messages to one queue."""

    queue_name: str

    def publish(self, message: BaseModel, *, message_id: str, delay: timedelta | None = None) -> None: ...

    def close(self) -> None: ...


def encode_body(message: BaseModel) -> str:
    return message.model_dump_json()


class StorageQueuePublisher:
    """Azure Storage queue; base64 text, as the Functions queue trigger expects by default."""

    def __init__(self, queue_client: Any) -> None:
        self.queue_client = queue_client
        self.queue_name: str = queue_client.queue_name
        self._created = False

    @classmethod
    def from_connection_string(cls, connection_string: str, queue_name: str) -> StorageQueuePublisher:
        from azure.storage.queue import QueueClient

        return cls(QueueClient.from_connection_string(connection_string, queue_name))

    @classmethod
    def from_endpoint(cls, endpoint: str, queue_name: str, credential: Any) -> StorageQueuePublisher:
        from azure.storage.queue import QueueClient

        return cls(QueueClient(account_url=endpoint, queue_name=queue_name, credential=credential))

    def _ensure_queue(self) -> None:
        if self._created:
            return
        try:
            self.queue_client.create_queue()
        except ResourceExistsError:
            pass
        self._created = True

    def publish(self, message: BaseModel, *, message_id: str, delay: timedelta | None = None) -> None:
        if not message_id:
            raise ValueError("message_id is required")
        if delay is not None and (delay < timedelta(0) or delay > MAX_STORAGE_DELAY):
            raise ValueError("a Storage queue delay must be between 0 and 7 days")
        self._ensure_queue()
        text = base64.b64encode(encode_body(message).encode("utf-8")).decode("ascii")
        visibility = int(delay.total_seconds()) if delay else None
        self.queue_client.send_message(text, visibility_timeout=visibility)

    def close(self) -> None:
        self.queue_client.close()


class ServiceBusPublisher:
    """Azure Service Bus queue: MessageId for duplicate detection, scheduled enqueue for delay."""

    def __init__(self, client: Any, queue_name: str) -> None:
        self.client = client
        self.queue_name = queue_name
        self._sender: Any = None

    @classmethod
    def from_namespace(cls, namespace: str, queue_name: str, credential: Any) -> ServiceBusPublisher:
        from azure.servicebus import ServiceBusClient

        return cls(ServiceBusClient(fully_qualified_namespace=namespace, credential=credential), queue_name)

    def build(
        self,
        message: BaseModel,
        *,
        message_id: str,
        delay: timedelta | None = None,
        now: datetime | None = None,
    ) -> Any:
        """The ServiceBusMessage that `publish` sends."""
        from azure.servicebus import ServiceBusMessage

        if not message_id:
            raise ValueError("message_id is required")
        if delay is not None and delay < timedelta(0):
            raise ValueError("delay cannot be negative")
        scheduled = None
        if delay:
            scheduled = (now or datetime.now(UTC)) + delay
        return ServiceBusMessage(
            encode_body(message),
            message_id=message_id,
            content_type="application/json",
            scheduled_enqueue_time_utc=scheduled,
        )

    def publish(self, message: BaseModel, *, message_id: str, delay: timedelta | None = None) -> None:
        sb_message = self.build(message, message_id=message_id, delay=delay)
        if self._sender is None:
            self._sender = self.client.get_queue_sender(self.queue_name)
        self._sender.send_messages(sb_message)

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()
        self.client.close()
