"""Where Partner Center is and how this app signs in to it (app-only, client credentials)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.settings import (
    AppSettings,
    PartnerCenterAuth,
    PartnerCenterCloud,
    PartnerCenterPacing,
    SettingsError,
)


@dataclass(frozen=True)
class CloudEndpoints:
    """API host, Entra authority and app-only token scope of one Partner Center cloud."""

    api_base_url: str
    authority: str
    scope: str


# The 21Vianet defaults are the best-sourced values (../shared/design/partner-center.md, "Checked
# against Microsoft's own sources"): Microsoft's Partner Center PowerShell module signs in to
# China at `login.chinacloudapi.cn` (azure-identity's AZURE_CHINA) and asks app-only tokens for
# `https://graph.chinacloudapi.cn/.default`. Which scope the 21Vianet API accepts is not
# documented: both stay settings (PARTNER_CENTER_AUTHORITY, PARTNER_CENTER_SCOPE), and
# `python -m tools.check_partner_center` says plainly when one is wrong.
CLOUDS: dict[PartnerCenterCloud, CloudEndpoints] = {
    PartnerCenterCloud.CHINA: CloudEndpoints(
        api_base_url="https://partner.partnercenterapi.microsoftonline.cn",
        authority="https://login.chinacloudapi.cn",
        scope="https://graph.chinacloudapi.cn/.default",
    ),
    PartnerCenterCloud.GLOBAL: CloudEndpoints(
        api_base_url="https://api.partnercenter.microsoft.com",
        authority="https://login.microsoftonline.com",
        scope="https://api.partnercenter.microsoft.com/.default",
    ),
}


@dataclass(frozen=True)
class PartnerCenterConfig:
    """Everything the client needs, resolved and checked from the app settings."""

    base_url: str
    authority: str
    scope: str
    auth: PartnerCenterAuth
    tenant_id: str | None
    client_id: str | None
    client_secret: str | None = field(repr=False)  # never in a log line or a traceback
    certificate_path: str | None
    read_timeout_seconds: float
    connect_timeout_seconds: float
    retries: int
    max_rpm: int
    pacing: PartnerCenterPacing = PartnerCenterPacing.PROCESS

    @property
    def partner_key(self) -> str:
        """Identifies the partner tenant whose rate limit the calls share."""
        return f"{self.tenant_id or 'anonymous'}@{self.base_url}"


def config_from_settings(settings: AppSettings) -> PartnerCenterConfig:
    """Resolve the cloud, the base-URL override and the credentials; SettingsError if incomplete."""
    cloud = CLOUDS[settings.partner_center_cloud]
    auth = settings.partner_center_auth
    missing: list[str] = []
    if auth is not PartnerCenterAuth.NONE:
        if not settings.partner_center_tenant_id:
            missing.append("PARTNER_CENTER_TENANT_ID")
        if not settings.partner_center_client_id:
            missing.append("PARTNER_CENTER_CLIENT_ID")
    if auth is PartnerCenterAuth.CLIENT_SECRET and not settings.partner_center_client_secret:
        missing.append("PARTNER_CENTER_CLIENT_SECRET")
    if auth is PartnerCenterAuth.CERTIFICATE and not settings.partner_center_certificate_path:
        missing.append("PARTNER_CENTER_CERTIFICATE_PATH")
    if missing:
        raise SettingsError(f"PARTNER_CENTER_AUTH={auth.value} needs " + ", ".join(missing))
    if auth is PartnerCenterAuth.NONE and not settings.partner_center_base_url:
        raise SettingsError("PARTNER_CENTER_AUTH=none needs PARTNER_CENTER_BASE_URL (the simulator)")
    read_timeout = settings.partner_center_timeout_seconds
    return PartnerCenterConfig(
        base_url=(settings.partner_center_base_url or cloud.api_base_url).rstrip("/"),
        authority=(settings.partner_center_authority or cloud.authority).rstrip("/"),
        scope=settings.partner_center_scope or cloud.scope,
        auth=auth,
        tenant_id=settings.partner_center_tenant_id,
        client_id=settings.partner_center_client_id,
        client_secret=settings.partner_center_client_secret,
        certificate_path=settings.partner_center_certificate_path,
        read_timeout_seconds=read_timeout,
        connect_timeout_seconds=min(10.0, read_timeout),
        retries=settings.partner_center_retries,
        max_rpm=settings.partner_center_max_rpm,
        pacing=settings.partner_center_pacing,
    )


def build_credential(config: PartnerCenterConfig) -> Any | None:
    """An azure-identity credential for app-only tokens, or None for `none` (the simulator).

    Managed identity is not offered: Partner Center accepts app-only tokens only from the
    partner's own app registration (client secret or certificate).
    """
    if config.auth is PartnerCenterAuth.NONE:
        return None
    from azure.identity import CertificateCredential, ClientSecretCredential

    assert config.tenant_id and config.client_id  # checked by config_from_settings
    if config.auth is PartnerCenterAuth.CERTIFICATE:
        assert config.certificate_path
        return CertificateCredential(
            config.tenant_id, config.client_id, config.certificate_path, authority=config.authority
        )
    assert config.client_secret
    return ClientSecretCredential(
        config.tenant_id, config.client_id, config.client_secret, authority=config.authority
    )
