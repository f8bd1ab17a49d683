"""Process-wide clients, created once from the settings and reused by every invocation."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from shared.adapters.queues import Publisher, ServiceBusPublisher, StorageQueuePublisher
from shared.adapters.tables import TableStore
from shared.settings import AppSettings, QueueTransport, get_settings

T = TypeVar("T")

_lock = threading.Lock()
_publishers: dict[str, Publisher] = {}
_wired: dict[str, Any] = {}


@lru_cache(maxsize=1)
def credential() -> Any:
    """DefaultAzureCredential, pinned to the user-assigned identity when AZURE_CLIENT_ID is set."""
    from azure.identity import DefaultAzureCredential

    settings = get_settings()
    return DefaultAzureCredential(managed_identity_client_id=settings.azure_client_id)


def make_table_store(settings: AppSettings) -> TableStore:
    if settings.storage_connection_string:
        return TableStore.from_connection_string(settings.storage_connection_string, settings.table_prefix)
    assert settings.storage_table_endpoint  # checked by the settings model
    return TableStore.from_endpoint(settings.storage_table_endpoint, credential(), settings.table_prefix)


def make_publisher(settings: AppSettings, queue_name: str) -> Publisher:
    if settings.queue_transport is QueueTransport.SERVICEBUS:
        assert settings.servicebus_namespace  # checked by the settings model
        return ServiceBusPublisher.from_namespace(settings.servicebus_namespace, queue_name, credential())
    if settings.storage_connection_string:
        return StorageQueuePublisher.from_connection_string(settings.storage_connection_string, queue_name)
    if not settings.storage_queue_endpoint:
        raise RuntimeError(
            "QUEUE_TRANSPORT=storage with managed identity needs AzureWebJobsStorage__queueServiceUri"
        )
    return StorageQueuePublisher.from_endpoint(settings.storage_queue_endpoint, queue_name, credential())


@lru_cache(maxsize=1)
def table_store() -> TableStore:
    """The process-wide Table storage client."""
    return make_table_store(get_settings())


def publisher(queue_name: str) -> Publisher:
    """The process-wide publisher for one queue."""
    with _lock:
        existing = _publishers.get(queue_name)
        if existing is None:
            existing = make_publisher(get_settings(), queue_name)
            _publishers[queue_name] = existing
        return existing


def wired(name: str, build: Callable[[], T]) -> T:
    """The process-wide dependencies object `name` (see `shared/wiring.py`), built once."""
    with _lock:
        if name in _wired:
            return _wired[name]  # type: ignore[no-any-return]
    value = build()  # outside the lock: building takes other runtime clients
    with _lock:
        return _wired.setdefault(name, value)  # type: ignore[no-any-return]


def reset() -> None:
    """Forget every client and the settings (tests that change the environment call this)."""
    with _lock:
        _wired.clear()
        for pub in _publishers.values():
            with contextlib.suppress(Exception):
                pub.close()
        _publishers.clear()
    if table_store.cache_info().currsize:
        with contextlib.suppress(Exception):
            table_store().close()
    table_store.cache_clear()
    credential.cache_clear()
    get_settings.cache_clear()
