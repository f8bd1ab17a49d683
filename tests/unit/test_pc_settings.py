"""Partner Center settings: combinations are checked and name the settings; client-side pacing."""

from __future__ import annotations

import pytest

from shared.adapters.partner_center.auth import config_from_settings
from shared.adapters.partner_center.errors import Throttled
from shared.adapters.partner_center.pacing import TokenBucket
from shared.settings import SettingsError, load_settings

STORAGE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}


def test_auth_none_needs_a_base_url_override() -> None:
    with pytest.raises(SettingsError, match=r"PARTNER_CENTER_AUTH=none.*PARTNER_CENTER_BASE_URL"):
        load_settings(**STORAGE, PARTNER_CENTER_AUTH="none")
    assert load_settings(
        **STORAGE, PARTNER_CENTER_AUTH="none", PARTNER_CENTER_BASE_URL="http://127.0.0.1:7081"
    )


def test_client_secret_needs_tenant_client_and_secret() -> None:
    with pytest.raises(SettingsError) as err:
        config_from_settings(load_settings(**STORAGE, PARTNER_CENTER_TENANT_ID="t"))
    assert "PARTNER_CENTER_CLIENT_ID" in str(err.value) and "PARTNER_CENTER_CLIENT_SECRET" in str(err.value)
    assert "PARTNER_CENTER_TENANT_ID" not in str(err.value)


def test_certificate_needs_its_path() -> None:
    settings = load_settings(
        **STORAGE,
        PARTNER_CENTER_AUTH="certificate",
        PARTNER_CENTER_TENANT_ID="t",
        PARTNER_CENTER_CLIENT_ID="c",
    )
    with pytest.raises(SettingsError, match="PARTNER_CENTER_CERTIFICATE_PATH"):
        config_from_settings(settings)


def test_managed_identity_is_not_an_option() -> None:
    with pytest.raises(SettingsError, match="PARTNER_CENTER_AUTH"):
        load_settings(**STORAGE, PARTNER_CENTER_AUTH="managed_identity")


def test_defaults() -> None:
    settings = load_settings(**STORAGE)
    assert settings.partner_center_max_rpm == 450
    assert settings.reconcile_max_deliveries == 5
    assert settings.reconcile_conflict_delay_seconds == 120


def test_pacing_hands_back_throttled_when_the_wait_is_too_long() -> None:
    bucket = TokenBucket(rate_per_minute=1, burst=1)
    bucket.acquire(max_wait_seconds=0)
    with pytest.raises(Throttled) as err:
        bucket.acquire(max_wait_seconds=5)
    assert err.value.retry_after_seconds is not None and err.value.retry_after_seconds > 50


def test_the_client_secret_is_not_in_the_config_repr() -> None:
    config = config_from_settings(
        load_settings(
            **STORAGE,
            PARTNER_CENTER_TENANT_ID="t",
            PARTNER_CENTER_CLIENT_ID="c",
            PARTNER_CENTER_CLIENT_SECRET="s3cr3t-value",
        )
    )
    assert config.client_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(config)
