"""Fixtures of the fraud integration tests: tables under a unique prefix and the fraud area's
dependencies on them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared import runtime
from shared.adapters.policy_files import PolicyFiles
from shared.adapters.tables import TableStore
from shared.domain.fraud import FraudReport
from shared.services.fraud import intake
from shared.services.fraud.deps import FraudDeps
from shared.settings import load_settings
from tests.actors import TEST_ACTOR


@pytest.fixture
def store(storage_connection_string: str, unique_name: str) -> Iterator[TableStore]:
    tables = TableStore.from_connection_string(storage_connection_string, prefix=unique_name)
    yield tables
    tables.close()


def make_fraud(store: TableStore) -> FraudDeps:
    """The fraud dependencies on these tables, with the settings of the environment now."""
    settings = load_settings()
    return FraudDeps.of(
        store,
        reconcile_queue=runtime.publisher(settings.reconcile_queue_name),
        policies=PolicyFiles(settings.resolved_policy_file(), settings.resolved_triage_file()),
        settings=settings,
    )


@pytest.fixture
def fraud(
    store: TableStore, storage_connection_string: str, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FraudDeps]:
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("QUEUE_TRANSPORT", "storage")
    monkeypatch.setenv("RECONCILE_QUEUE_NAME", f"{unique_name}-rq")
    monkeypatch.setenv("ENFORCEMENT_MODE", "enforce")
    runtime.reset()
    yield make_fraud(store)
    runtime.reset()


def accepted(fraud: FraudDeps, report: FraudReport) -> dict[str, Any]:
    """Submit a report without an Idempotency-Key; the answer as JSON."""
    answer: dict[str, Any] = json.loads(
        intake.submit(fraud, report, idempotency_key=None, sender=None, actor=TEST_ACTOR).answer
    )
    return answer
