"""The local Functions host running the real app on Azurite, for the fraud end-to-end tests.

Each host gets its own table prefix and reconcile queue, so tests can count rows and messages
without seeing anyone else's.
"""

from __future__ import annotations

import base64
import importlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueClient

from shared import runtime
from shared.settings import default_app_settings
from tests.app_functions import registered
from tests.e2e.callers import named_key_env, sign_in
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http

KEY = "fraud-e2e-key"
FRAUD_FUNCTIONS = registered("health", "openapi", "fraud")


@dataclass
class FraudHost:
    host: DevHost
    connection_string: str
    table_prefix: str
    queue_name: str
    # Who calls when a test says nothing: the named key (a machine with every role), unless a
    # test signs a person in and makes them the default (`act_as`).
    caller: dict[str, str] = field(default_factory=lambda: {"x-functions-key": KEY})

    def act_as(self, headers: dict[str, str]) -> None:
        self.caller = headers

    @property
    def url(self) -> str:
        return self.host.base_url + "/api"

    def signed_in(self, user: str | None = None, **kwargs: object) -> dict[str, str]:
        """Headers of a demo user (or app, or custom roles) signed in through the host."""
        return sign_in(self.host.base_url, user, **kwargs)  # type: ignore[arg-type]

    def post(
        self, path: str, body: Any = None, *, raw: bytes | None = None, **headers: str
    ) -> requests.Response:
        data = raw if raw is not None else json.dumps(body).encode()
        hdrs = {**self.caller, "content-type": "application/json", **headers}
        return requests.post(self.url + path, data=data, headers=hdrs, timeout=30)

    def put(self, path: str, body: Any, **headers: str) -> requests.Response:
        hdrs = {**self.caller, "content-type": "application/json", **headers}
        return requests.put(self.url + path, data=json.dumps(body).encode(), headers=hdrs, timeout=30)

    def patch(self, path: str, body: Any, **headers: str) -> requests.Response:
        hdrs = {**self.caller, "content-type": "application/json", **headers}
        return requests.patch(self.url + path, data=json.dumps(body).encode(), headers=hdrs, timeout=30)

    def get(self, path: str, params: dict[str, str] | None = None, **headers: str) -> requests.Response:
        return requests.get(self.url + path, params=params, headers={**self.caller, **headers}, timeout=30)

    def delete(self, path: str, **headers: str) -> requests.Response:
        return requests.delete(self.url + path, headers={**self.caller, **headers}, timeout=30)

    def table_rows(self) -> int:
        """Every row in this host's tables (to prove a refused request wrote nothing)."""
        service = TableServiceClient.from_connection_string(self.connection_string)
        total = 0
        for table in service.list_tables():
            if table.name.startswith(self.table_prefix):
                total += sum(1 for _ in service.get_table_client(table.name).list_entities())
        return total

    def rows(self, table: str, partition: str) -> list[dict[str, Any]]:
        service = TableServiceClient.from_connection_string(self.connection_string)
        client = service.get_table_client(self.table_prefix + table)
        return list(client.query_entities("PartitionKey eq @pk", parameters={"pk": partition}))

    def queued(self) -> int:
        """Messages in the reconcile queue, including those being handled right now (invisible)."""
        client = QueueClient.from_connection_string(self.connection_string, self.queue_name)
        try:
            return int(client.get_queue_properties().approximate_message_count or 0)
        except Exception:  # noqa: BLE001 - the queue does not exist yet: no message
            return 0

    def messages(self) -> list[dict[str, Any]]:
        """Reconcile messages waiting in the queue (peeked, left in place)."""
        client = QueueClient.from_connection_string(self.connection_string, self.queue_name)
        try:
            peeked = client.peek_messages(max_messages=32)
        except Exception:  # noqa: BLE001 - the queue does not exist yet: no message
            return []
        return [json.loads(base64.b64decode(m.content)) for m in peeked]


@contextmanager
def fraud_host(
    connection_string: str,
    functions: list[str] | None = None,
    host_json: dict[str, Any] | None = None,
    **env: str,
) -> Iterator[FraudHost]:
    """Start the app (only `functions`, by default the fraud API) with fresh tables and queue."""
    prefix = "f" + uuid.uuid4().hex[:10]
    queue = "rq-" + uuid.uuid4().hex[:12]
    with pytest.MonkeyPatch.context() as mp:
        values = {
            "AzureWebJobsStorage": connection_string,
            "QUEUE_TRANSPORT": "storage",
            "TABLE_PREFIX": prefix,
            "RECONCILE_QUEUE_NAME": queue,
            "ENFORCEMENT_MODE": "enforce",
            "FRAUD_EVENTS_ENABLED": "false",
            **named_key_env(KEY),
            **env,
        }
        for name, value in values.items():
            mp.setenv(name, value)
        runtime.reset()
        # The app reads its settings when called, not when imported: no reload needed.
        module = importlib.import_module("function_app")
        names = FRAUD_FUNCTIONS if functions is None else functions
        host = DevHost(
            module.app,
            port=0,
            host_json=with_app_http({**(host_json or {}), "functions": names}),
            settings_defaults=default_app_settings(),
            function_key=KEY,
        )
        host.start()
        try:
            yield FraudHost(host, connection_string, prefix, queue)
        finally:
            host.stop()
            runtime.reset()


def report(customer_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "subscription_ids": ["aaaaaaaa-0000-4000-8000-000000000001"],
        "category": "payment_fraud",
        "severity": "critical",
        "source": "billing-monitor",
        "reporter": "risk@example.com",
        "description": "Card chargebacks on three orders in one hour",
        "evidence": [{"kind": "order", "value": "ORD-1001"}],
    }
    body.update(overrides)
    return body
