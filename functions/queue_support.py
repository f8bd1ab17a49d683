"""Queue triggers on the configured transport: Service Bus in Azure, Storage queues locally.

The transport is read from QUEUE_TRANSPORT when the app is indexed; reading it must never fail,
because an import error means "0 functions found" and a silently dead app.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import azure.functions as func

from shared.settings import QueueTransport

STORAGE_CONNECTION = "AzureWebJobsStorage"
SERVICEBUS_CONNECTION = "SERVICEBUS"


def configured_transport() -> QueueTransport:
    value = os.environ.get("QUEUE_TRANSPORT", QueueTransport.STORAGE.value).strip().lower()
    try:
        return QueueTransport(value)
    except ValueError:
        # Indexing must not fail; the settings model reports the bad value at run time.
        return QueueTransport.STORAGE


def queue_trigger(
    bp: func.Blueprint, *, arg_name: str, queue_setting: str
) -> Callable[[Callable[..., Any]], Any]:
    """Register a queue-triggered function on the transport set in QUEUE_TRANSPORT."""
    queue_name = f"%{queue_setting}%"
    if configured_transport() is QueueTransport.SERVICEBUS:
        return bp.service_bus_queue_trigger(
            arg_name=arg_name, queue_name=queue_name, connection=SERVICEBUS_CONNECTION
        )
    return bp.queue_trigger(arg_name=arg_name, queue_name=queue_name, connection=STORAGE_CONNECTION)


def message_body(message: Any) -> bytes:
    """The body of a Storage queue or Service Bus message."""
    return bytes(message.get_body())


def delivery_count(message: Any) -> int:
    """How many times this message has been delivered, counting this one."""
    count = getattr(message, "dequeue_count", None)
    if count is None:
        count = getattr(message, "delivery_count", None)
    return int(count or 1)
