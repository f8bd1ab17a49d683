"""Queue triggers on the configured transport: Service Bus in Azure, Storage queues locally.

The transport is read from QUEUE_TRANSPORT when the app is indexed; reading it must never fail,
because an import error means "0 functions found" and a silently dead app.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import azure.functions as func

STORAGE_CONNECTION = "AzureWebJobsStorage"
SERVICEBUS_CONNECTION = "SERVICEBUS"


# The values of QUEUE_TRANSPORT (shared.settings.QueueTransport), read here without the settings
# model: indexing must stay cheap and must never fail.
STORAGE = "storage"
SERVICEBUS = "servicebus"


def configured_transport() -> str:
    """`servicebus` when QUEUE_TRANSPORT says so, else `storage` (a bad value is reported by the
    settings model at run time; indexing must not fail)."""
    value = os.environ.get("QUEUE_TRANSPORT", STORAGE).strip().lower()
    return SERVICEBUS if value == SERVICEBUS else STORAGE


def queue_trigger(
    bp: func.Blueprint, *, arg_name: str, queue_setting: str
) -> Callable[[Callable[..., Any]], Any]:
    """Register a queue-triggered function on the transport set in QUEUE_TRANSPORT."""
    queue_name = f"%{queue_setting}%"
    if configured_transport() == SERVICEBUS:
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
