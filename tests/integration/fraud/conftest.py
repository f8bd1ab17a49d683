"""Fixtures of the fraud integration tests: tables under a unique prefix and the service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared import runtime
from shared.adapters.tables import TableStore
from shared.services.fraud.intake import FraudService
from shared.settings import load_settings


@pytest.fixture
def store(storage_connection_string: str, unique_name: str) -> Iterator[TableStore]:
    tables = TableStore.from_connection_string(storage_connection_string, prefix=unique_name)
    yield tables
    tables.close()


@pytest.fixture
def service(
    store: TableStore, storage_connection_string: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FraudService]:
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("QUEUE_TRANSPORT", "storage")
    monkeypatch.setenv("RECONCILE_QUEUE_NAME", f"{unique_name}-rq")
    monkeypatch.setenv("ENFORCEMENT_MODE", "enforce")
    runtime.reset()
    yield FraudService(store, load_settings())
    runtime.reset()
