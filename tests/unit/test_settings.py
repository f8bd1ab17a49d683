"""Settings fail fast and name the offending app setting."""

from __future__ import annotations

import pytest

from shared.settings import (
    EnforcementMode,
    QueueTransport,
    SettingsError,
    default_app_settings,
    load_settings,
    setting_names,
)

STORAGE = "UseDevelopmentStorage=true"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", STORAGE)
    settings = load_settings()
    assert settings.enforcement_mode is EnforcementMode.DRY_RUN
    assert settings.queue_transport is QueueTransport.STORAGE
    assert settings.collections_scan_schedule == "0 0 * * * *"
    assert settings.resolved_policy_file().name == "collections.toml"


def test_missing_storage_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="AzureWebJobsStorage"):
        load_settings()


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", STORAGE)
    monkeypatch.setenv("ENFORCEMENT_MODE", "sometimes")
    with pytest.raises(SettingsError, match=r"ENFORCEMENT_MODE: .*enforce"):
        load_settings()


def test_bad_queue_name_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", STORAGE)
    monkeypatch.setenv("RECONCILE_QUEUE_NAME", "Bad_Name")
    with pytest.raises(SettingsError, match="RECONCILE_QUEUE_NAME"):
        load_settings()


def test_service_bus_needs_a_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage", STORAGE)
    monkeypatch.setenv("QUEUE_TRANSPORT", "servicebus")
    with pytest.raises(SettingsError, match="SERVICEBUS__fullyQualifiedNamespace"):
        load_settings()
    monkeypatch.setenv("SERVICEBUS__fullyQualifiedNamespace", "cg.servicebus.chinacloudapi.cn")
    assert load_settings().queue_transport is QueueTransport.SERVICEBUS


def test_managed_identity_endpoint_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AzureWebJobsStorage__tableServiceUri", "https://cg.table.core.chinacloudapi.cn")
    with pytest.raises(SettingsError, match="AzureWebJobsStorage__queueServiceUri"):
        load_settings()  # the storage transport has no queue endpoint: fail now, not at the first publish
    monkeypatch.setenv("AzureWebJobsStorage__queueServiceUri", "https://cg.queue.core.chinacloudapi.cn")
    settings = load_settings()
    assert settings.storage_connection_string is None
    assert settings.storage_table_endpoint == "https://cg.table.core.chinacloudapi.cn"


def test_defaults_resolve_schedule_names() -> None:
    defaults = default_app_settings()
    assert defaults["COLLECTIONS_SCAN_SCHEDULE"] == "0 0 * * * *"
    assert defaults["ENFORCEMENT_MODE"] == "dry_run"
    assert "AzureWebJobsStorage" not in defaults  # no default: must be set


def test_secrets_stay_out_of_repr_and_error_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "AzureWebJobsStorage": "AccountName=a;AccountKey=STORAGE-KEY-0123456789",
        "PARTNER_CENTER_CLIENT_SECRET": "PC-SECRET-0123456789",
        "NOTICE_WEBHOOK_SECRET": "WEBHOOK-SECRET-0123456789",
        "FRAUD_REPORT_SIGNING_SECRETS": '{"monitor": "SIGNING-SECRET-0123456789"}',
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.partner_center_client_secret == "PC-SECRET-0123456789"  # callers still read it
    assert settings.signing_secrets() == {"monitor": "SIGNING-SECRET-0123456789"}
    for text in (repr(settings), str(settings)):
        for marker in ("STORAGE-KEY", "PC-SECRET", "WEBHOOK-SECRET", "SIGNING-SECRET"):
            assert marker not in text
    monkeypatch.setenv("FRAUD_REPORT_SIGNING_SECRETS", '{"monitor": "SIGNING-SHORT"}')
    monkeypatch.setenv("ENFORCEMENT_MODE", "PC-SECRET-as-a-mode")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "FRAUD_REPORT_SIGNING_SECRETS" in str(caught.value) and "ENFORCEMENT_MODE" in str(caught.value)
    assert "SIGNING-SHORT" not in str(caught.value) and "PC-SECRET" not in str(caught.value)
