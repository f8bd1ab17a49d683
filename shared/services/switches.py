"""The switches an administrator looks at: how this instance of the app runs. They are app
settings (changed with `azd env set` and `azd provision`, see docs/deploy.md), never over HTTP:
this shows them, with the four-eyes rules of the policy, for `GET /api/admin/switches`."""

from __future__ import annotations

from pydantic import BaseModel

from shared.domain.policy import FourEyes, PolicyError
from shared.services.health import HealthProbes


class NamedKeyView(BaseModel):
    name: str
    roles: list[str]


class Switches(BaseModel):
    enforcement_mode: str
    queue_transport: str
    partner_center_cloud: str
    app_service_authentication: bool  # WEBSITE_AUTH_ENABLED: the platform vouches for the caller
    named_keys_enabled: bool  # FUNCTION_KEYS_ENABLED
    named_keys: list[NamedKeyView]  # names and roles only, never the hashes
    signed_fraud_senders: list[str]  # senders with a signing secret (names only)
    fraud_events_enabled: bool
    policy_version: str | None
    four_eyes: FourEyes | None
    policy_error: str | None = None


def switches(probes: HealthProbes) -> Switches:
    """The switches as this instance sees them (settings errors surface as unavailable upstream)."""
    settings = probes.settings()
    policy_version, four_eyes, policy_error = None, None, None
    try:
        policy = probes.policy_files().policy()
        policy_version, four_eyes = policy.version, policy.four_eyes
    except PolicyError as exc:
        policy_error = str(exc)
    keys = settings.named_keys()
    return Switches(
        enforcement_mode=settings.enforcement_mode.value,
        queue_transport=settings.queue_transport.value,
        partner_center_cloud=settings.partner_center_cloud.value,
        app_service_authentication=settings.easy_auth_enabled,
        named_keys_enabled=settings.function_keys_enabled,
        named_keys=[NamedKeyView(name=k.name, roles=sorted(r.value for r in k.roles)) for k in keys.values()],
        signed_fraud_senders=sorted(settings.signing_secrets()),
        fraud_events_enabled=settings.fraud_events_enabled,
        policy_version=policy_version,
        four_eyes=four_eyes,
        policy_error=policy_error,
    )
