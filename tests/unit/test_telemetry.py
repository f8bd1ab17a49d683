"""Telemetry: metrics, correlation ids and the Application Insights switch."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shared import telemetry
from shared.settings import load_settings

STORAGE = "UseDevelopmentStorage=true"
CONNECTION = (
    "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/"
)
CLIENT_ID = "11111111-2222-3333-4444-555555555555"


class FakeCounter:
    def __init__(self) -> None:
        self.adds: list[tuple[float, dict[str, Any]]] = []

    def add(self, value: float, attributes: dict[str, Any] | None = None) -> None:
        self.adds.append((value, dict(attributes or {})))


class FakeMeter:
    def __init__(self) -> None:
        self.counters: dict[str, FakeCounter] = {}

    def create_counter(self, name: str) -> FakeCounter:
        assert name not in self.counters, "one counter per name, created once"
        self.counters[name] = FakeCounter()
        return self.counters[name]


@pytest.fixture(autouse=True)
def _clean_telemetry():
    telemetry.reset_telemetry()
    yield
    telemetry.reset_telemetry()


def settings(**overrides: str):
    return load_settings(AzureWebJobsStorage=STORAGE, **overrides)


def test_without_connection_string_nothing_is_configured_and_metric_still_logs(caplog):
    calls: list[dict[str, Any]] = []

    configured = telemetry.configure_telemetry(
        settings(), configure=lambda **kw: calls.append(kw), meter_factory=FakeMeter
    )
    with caplog.at_level(logging.INFO, logger="collections_guard.metrics"):
        telemetry.metric("scan.evaluated", 3, segment="default")

    assert configured is False
    assert calls == []
    record = next(r for r in caplog.records if r.name == "collections_guard.metrics")
    assert record.metric == "scan.evaluated"
    assert record.value == 3
    assert record.segment == "default"


def test_fake_meter_receives_counters_with_attributes():
    meter = FakeMeter()
    telemetry.set_meter(meter)

    telemetry.metric("reconcile.suspended", 2, cloud="china", dry_run=False)
    telemetry.metric("reconcile.suspended", 1, cloud="china", dry_run=True)
    telemetry.metric("scan.capped")

    assert meter.counters["reconcile.suspended"].adds == [
        (2, {"cloud": "china", "dry_run": False}),
        (1, {"cloud": "china", "dry_run": True}),
    ]
    assert meter.counters["scan.capped"].adds == [(1, {})]


def test_connection_string_configures_azure_monitor_and_installs_meter():
    calls: list[dict[str, Any]] = []
    meter = FakeMeter()

    configured = telemetry.configure_telemetry(
        settings(APPLICATIONINSIGHTS_CONNECTION_STRING=CONNECTION),
        configure=lambda **kw: calls.append(kw),
        meter_factory=lambda: meter,
    )
    telemetry.metric("fraud.cases_opened", 1, source="monitoring")

    assert configured is True
    assert calls == [{"connection_string": CONNECTION}]
    assert meter.counters["fraud.cases_opened"].adds == [(1, {"source": "monitoring"})]


def test_aad_authentication_string_exports_with_the_managed_identity():
    calls: list[dict[str, Any]] = []
    identities: list[str] = []

    def credential_factory(client_id: str) -> str:
        identities.append(client_id)
        return f"credential-for-{client_id}"

    telemetry.configure_telemetry(
        settings(
            APPLICATIONINSIGHTS_CONNECTION_STRING=CONNECTION,
            APPLICATIONINSIGHTS_AUTHENTICATION_STRING=f"Authorization=AAD;ClientId={CLIENT_ID}",
        ),
        configure=lambda **kw: calls.append(kw),
        credential_factory=credential_factory,
        meter_factory=FakeMeter,
    )

    assert identities == [CLIENT_ID]
    assert calls[0]["credential"] == f"credential-for-{CLIENT_ID}"


def test_configuring_twice_configures_once():
    calls: list[dict[str, Any]] = []
    with_connection = settings(APPLICATIONINSIGHTS_CONNECTION_STRING=CONNECTION)

    for _ in range(2):
        assert telemetry.configure_telemetry(
            with_connection, configure=lambda **kw: calls.append(kw), meter_factory=FakeMeter
        )

    assert len(calls) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("Authorization=AAD", ""),
        (f"Authorization=AAD;ClientId={CLIENT_ID}", CLIENT_ID),
        (f"authorization=aad; clientid={CLIENT_ID}", CLIENT_ID),
        ("Authorization=Key", None),
    ],
)
def test_aad_client_id_parses_the_functions_format(text, expected):
    assert telemetry.aad_client_id(text) == expected


def test_correlation_scope_sets_and_restores_the_current_id():
    assert telemetry.current_correlation_id() is None
    with telemetry.correlation_scope("outer"):
        with telemetry.correlation_scope("inner"):
            assert telemetry.current_correlation_id() == "inner"
        assert telemetry.current_correlation_id() == "outer"
    assert telemetry.current_correlation_id() is None


def _capture_handler() -> tuple[logging.Handler, list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    return Capture(), records


def test_correlation_filter_tags_records_from_any_logger_in_scope():
    handler, records = _capture_handler()
    telemetry.install_correlation_filter(handler)
    telemetry.install_correlation_filter(handler)  # idempotent
    logger = logging.getLogger("tests.telemetry.some.module")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("outside")
        with telemetry.correlation_scope("scan-2026-11-25T01"):
            logger.info("inside")
            logger.info("own id", extra={"correlation_id": "explicit"})
    finally:
        logger.removeHandler(handler)

    assert len(handler.filters) == 1
    assert not hasattr(records[0], "correlation_id")
    assert records[1].correlation_id == "scan-2026-11-25T01"
    assert records[2].correlation_id == "explicit"


def test_functions_package_import_guard_swallows_a_telemetry_failure(monkeypatch):
    import functions

    def broken_configurator():
        def configure(**_: Any) -> None:
            raise RuntimeError("exporter exploded")

        return configure

    monkeypatch.setenv("AzureWebJobsStorage", STORAGE)
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING", CONNECTION)
    monkeypatch.setattr(telemetry, "_azure_monitor_configurator", broken_configurator)

    assert functions.configure_process_telemetry() is False
    # A failed attempt is not remembered as configured: a later start can try again.
    monkeypatch.setattr(telemetry, "_azure_monitor_configurator", lambda: lambda **_: None)
    monkeypatch.setattr(telemetry, "_default_meter", FakeMeter)
    assert functions.configure_process_telemetry() is True


def test_azure_monitor_distro_is_installed_and_importable():
    configure = telemetry._azure_monitor_configurator()
    assert callable(configure)


def test_functions_package_without_connection_string_configures_nothing(monkeypatch):
    import functions

    calls: list[dict[str, Any]] = []
    monkeypatch.delenv("APPLICATIONINSIGHTS_CONNECTION_STRING", raising=False)
    monkeypatch.setattr(telemetry, "_azure_monitor_configurator", lambda: lambda **kw: calls.append(kw))

    assert functions.configure_process_telemetry() is False
    assert calls == []


def test_functions_package_survives_invalid_settings(monkeypatch):
    import functions

    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING", CONNECTION)
    monkeypatch.setenv("ENFORCEMENT_MODE", "sometimes")
    monkeypatch.setenv("AzureWebJobsStorage", STORAGE)

    assert functions.configure_process_telemetry() is False
