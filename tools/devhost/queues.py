"""Storage queue triggers (and queue output bindings) against a real storage account / Azurite.

One polling thread per queue-triggered function. Empty polls back off from 50 ms, doubling up
to `maxPollingInterval`. A poll receives up to `batchSize` messages (hidden for 5 minutes) and
runs them concurrently on a pool of `batchSize` workers; the next poll starts when the whole
batch is done (simpler than the host's `newBatchThreshold`, same guarantees). Per message:
success -> delete; failure -> if `dequeue_count >= maxDequeueCount` copy the original text to
`<queue>-poison` and delete, else make it visible again after `visibilityTimeout`. As in the
WebJobs QueueProcessor, a message received with `dequeue_count > maxDequeueCount` (its earlier
runs never finished: the host crashed or was stopped) goes to poison without running again, and
so does a message whose body is not valid base64 (with `messageEncoding` base64).
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from typing import Any

import azure.functions as func
from azure.core.exceptions import AzureError, ResourceExistsError
from azure.functions.queue import QueueMessage as FunctionMessage
from azure.storage.queue import LinearRetry, QueueClient
from azure.storage.queue import QueueMessage as StorageMessage

from tools.devhost.settings import QueueOptions

logger = logging.getLogger("tools.devhost.queues")

RECEIVE_VISIBILITY_SECONDS = 300
MIN_POLL_SECONDS = 0.05
Handler = Callable[[FunctionMessage], None]


def queue_client(connection_string: str, queue_name: str) -> QueueClient:
    """A QueueClient with raw (unencoded) text and short retries, suited to a local loop."""
    return QueueClient.from_connection_string(
        connection_string,
        queue_name,
        retry_policy=LinearRetry(backoff=1, retry_total=2, random_jitter_range=0),
        connection_timeout=5,
        read_timeout=30,
    )


def ensure_queue(client: QueueClient) -> None:
    """Create the queue if it does not exist."""
    try:
        client.create_queue()
    except ResourceExistsError:
        pass


def encode_text(text: str | bytes, encoding: str) -> str:
    """Message text as stored on the queue for the given `messageEncoding`."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if encoding == "base64":
        return base64.b64encode(raw).decode("ascii")
    return raw.decode("utf-8")


def decode_text(content: str, encoding: str) -> bytes:
    """The message body bytes; ValueError when base64 is expected and the text is not."""
    if encoding == "base64":
        try:
            return base64.b64decode(content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueError(f"message is not valid base64: {exc}") from None
    return content.encode("utf-8")


def to_function_message(message: StorageMessage, body: bytes) -> FunctionMessage:
    """Build the func.QueueMessage a queue-triggered function receives."""
    return FunctionMessage(  # type: ignore[no-untyped-call]
        id=message.id,
        body=body,
        dequeue_count=message.dequeue_count,
        pop_receipt=message.pop_receipt,
        insertion_time=message.inserted_on,
        expiration_time=message.expires_on,
        time_next_visible=message.next_visible_on,
    )


class QueueOutput(func.Out[Any]):
    """The `func.Out` passed for a queue output binding; sent after the function succeeds."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        """Set the message(s): str, bytes, func.QueueMessage, or a list of those."""
        self._value = val

    def get(self) -> Any:
        """The value set so far."""
        return self._value

    def messages(self) -> list[bytes]:
        """The bodies to send."""
        value = self._value
        items: Iterable[Any] = value if isinstance(value, list) else ([] if value is None else [value])
        bodies = []
        for item in items:
            if isinstance(item, str):
                bodies.append(item.encode("utf-8"))
            elif isinstance(item, bytes | bytearray):
                bodies.append(bytes(item))
            elif isinstance(item, func.QueueMessage):
                bodies.append(item.get_body())
            else:
                raise TypeError(f"cannot send {type(item).__name__} to a queue")
        return bodies


class QueueListener:
    """Polls one queue for one function until `stop_event` is set."""

    def __init__(
        self,
        function_name: str,
        queue_name: str,
        connection_string: str,
        options: QueueOptions,
        handler: Handler,
        stop_event: threading.Event,
    ) -> None:
        self.function_name = function_name
        self.queue_name = queue_name
        self.poison_name = f"{queue_name}-poison"
        self._options = options
        self._handler = handler
        self._stop = stop_event
        self._client = queue_client(connection_string, queue_name)
        self._poison = queue_client(connection_string, self.poison_name)
        self._pool = ThreadPoolExecutor(
            max_workers=options.batch_size, thread_name_prefix=f"devhost-queue-{function_name}"
        )
        self._thread = threading.Thread(target=self._run, name=f"devhost-queue-{function_name}", daemon=True)

    def prepare(self) -> None:
        """Create the queue and its poison queue if missing (AzureError if storage is down)."""
        ensure_queue(self._client)
        ensure_queue(self._poison)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the poller and its workers, then close the clients."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)
        self._client.close()
        self._poison.close()

    def _run(self) -> None:
        delay = MIN_POLL_SECONDS
        ceiling = self._options.max_polling_interval.total_seconds()
        while not self._stop.is_set():
            try:
                batch = list(
                    self._client.receive_messages(
                        messages_per_page=self._options.batch_size,
                        max_messages=self._options.batch_size,
                        visibility_timeout=RECEIVE_VISIBILITY_SECONDS,
                    )
                )
            except AzureError as exc:
                logger.warning("queue %s: receive failed: %s", self.queue_name, exc)
                self._stop.wait(ceiling)
                continue
            if not batch:
                self._stop.wait(delay)
                delay = min(delay * 2, ceiling)
                continue
            delay = MIN_POLL_SECONDS
            wait([self._pool.submit(self._process, message) for message in batch])

    def _process(self, message: StorageMessage) -> None:
        count = message.dequeue_count or 0
        if count > self._options.max_dequeue_count:
            logger.error(
                "queue %s: message %s dequeued %s times (maxDequeueCount %s); moved to %s without running",
                self.queue_name,
                message.id,
                count,
                self._options.max_dequeue_count,
                self.poison_name,
            )
            self._to_poison(message)
            return
        try:
            body = decode_text(message.content or "", self._options.message_encoding)
        except ValueError as exc:
            logger.error(
                "queue %s: message %s moved to %s: %s", self.queue_name, message.id, self.poison_name, exc
            )
            self._to_poison(message)
            return
        try:
            self._handler(to_function_message(message, body))
        except Exception:  # noqa: BLE001 - logged by the invoker; retried or poisoned
            self._failed(message)
            return
        try:
            self._client.delete_message(message.id, message.pop_receipt)
        except AzureError as exc:
            logger.warning("queue %s: could not delete message %s: %s", self.queue_name, message.id, exc)

    def _failed(self, message: StorageMessage) -> None:
        count = message.dequeue_count or 0
        if count >= self._options.max_dequeue_count:
            logger.error(
                "queue %s: message %s failed %s times; moved to %s",
                self.queue_name,
                message.id,
                count,
                self.poison_name,
            )
            self._to_poison(message)
            return
        seconds = int(self._options.visibility_timeout / timedelta(seconds=1))
        try:
            self._client.update_message(message.id, message.pop_receipt, visibility_timeout=seconds)
        except AzureError as exc:  # it reappears after the receive visibility timeout anyway
            logger.warning("queue %s: could not release message %s: %s", self.queue_name, message.id, exc)

    def _to_poison(self, message: StorageMessage) -> None:
        try:
            self._poison.send_message(message.content or "")
            self._client.delete_message(message.id, message.pop_receipt)
        except AzureError as exc:
            logger.error(
                "queue %s: could not move message %s to poison: %s", self.queue_name, message.id, exc
            )
