"""Every setting the app reads, in one pydantic-settings model.

Names are the app-setting names used in Azure (and in `local.settings.json` `Values`), so the
Bicep templates, the README and this model can be checked against each other. Missing or invalid
settings fail fast with a message that names the setting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.domain.roles import Role, parse_role

REPO_ROOT = Path(__file__).resolve().parent.parent


class QueueTransport(StrEnum):
    STORAGE = "storage"
    SERVICEBUS = "servicebus"


class EnforcementMode(StrEnum):
    ENFORCE = "enforce"
    DRY_RUN = "dry_run"


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587)
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"  # no encryption: only for a relay on loopback or inside the network


class PartnerCenterCloud(StrEnum):
    CHINA = "china"
    GLOBAL = "global"


class PartnerCenterPacing(StrEnum):
    SHARED = "shared"  # one budget for every instance and process, in Table storage
    PROCESS = "process"  # each process paces itself (one process only: local runs, tests)


class PartnerCenterAuth(StrEnum):
    CLIENT_SECRET = "client_secret"  # noqa: S105 (the auth method's name, not a secret)
    CERTIFICATE = "certificate"
    NONE = "none"  # only with PARTNER_CENTER_BASE_URL (the simulator)


class SettingsError(RuntimeError):
    """The app settings are missing or invalid; the message names each offending setting."""


class AppSettings(BaseSettings):
    """The app's configuration, read from environment variables (app settings in Azure)."""

    model_config = SettingsConfigDict(
        case_sensitive=False,
        extra="ignore",
        populate_by_name=False,
        frozen=True,
    )

    # --- Storage (tables for state; queues for the Storage transport) ---
    storage_connection_string: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage",
        repr=False,  # carries the account key: never in repr(), logs or tracebacks
        description="Storage connection string (Azurite locally); the Functions runtime uses it too.",
    )
    storage_table_endpoint: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__tableServiceUri",
        description="Table endpoint used with managed identity when no connection string is set.",
    )
    storage_queue_endpoint: str | None = Field(
        default=None,
        validation_alias="AzureWebJobsStorage__queueServiceUri",
        description="Queue endpoint used with managed identity when no connection string is set.",
    )
    azure_client_id: str | None = Field(
        default=None,
        validation_alias="AZURE_CLIENT_ID",
        description="Client id of the user-assigned managed identity (DefaultAzureCredential).",
    )
    table_prefix: str = Field(
        default="",
        validation_alias="TABLE_PREFIX",
        pattern=r"^[A-Za-z][A-Za-z0-9]{0,20}$|^$",
        description="Prefix for every table name (letters and digits), to share one account.",
    )

    # --- Queues ---
    queue_transport: QueueTransport = Field(
        default=QueueTransport.STORAGE,
        validation_alias="QUEUE_TRANSPORT",
        description="`storage` (Azure Storage queues; local) or `servicebus` (Azure).",
    )
    servicebus_namespace: str | None = Field(
        default=None,
        validation_alias="SERVICEBUS__fullyQualifiedNamespace",
        description="Service Bus namespace host (managed identity), e.g. cg.servicebus.windows.net.",
    )
    reconcile_queue_name: str = Field(
        default="reconcile",
        validation_alias="RECONCILE_QUEUE_NAME",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="Queue of `reconcile customer X` messages for the executor.",
    )
    notice_queue_name: str = Field(
        default="notices",
        validation_alias="NOTICE_QUEUE_NAME",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="Queue of customer notices for the notice sender.",
    )

    # --- Schedules (6-field NCRONTAB, UTC) ---
    collections_scan_schedule: str = Field(
        default="0 0 * * * *",
        validation_alias="COLLECTIONS_SCAN_SCHEDULE",
        description="When the collections scan runs (hourly by default).",
    )
    drift_sweep_schedule: str = Field(
        default="0 30 2 * * *",
        validation_alias="DRIFT_SWEEP_SCHEDULE",
        description="When the drift sweep compares Partner Center with the holds (daily).",
    )

    # --- Partner Center ---
    partner_center_cloud: PartnerCenterCloud = Field(
        default=PartnerCenterCloud.CHINA,
        validation_alias="PARTNER_CENTER_CLOUD",
        description="`china` (operated by 21Vianet) or `global`.",
    )
    partner_center_base_url: str | None = Field(
        default=None,
        validation_alias="PARTNER_CENTER_BASE_URL",
        pattern=r"^https?://[^\s/]+(/.*)?$",
        description="Override of the API base URL (the simulator locally).",
    )
    partner_center_auth: PartnerCenterAuth = Field(
        default=PartnerCenterAuth.CLIENT_SECRET,
        validation_alias="PARTNER_CENTER_AUTH",
        description="App-only auth: `client_secret`, `certificate`, or `none` (simulator only).",
    )
    partner_center_tenant_id: str | None = Field(
        default=None,
        validation_alias="PARTNER_CENTER_TENANT_ID",
        description="The partner's Entra tenant id (app-only token requests).",
    )
    partner_center_client_id: str | None = Field(
        default=None,
        validation_alias="PARTNER_CENTER_CLIENT_ID",
        description="Application (client) id of the partner's Partner Center app registration.",
    )
    partner_center_client_secret: str | None = Field(
        default=None,
        validation_alias="PARTNER_CENTER_CLIENT_SECRET",
        repr=False,  # a secret: never in repr(), logs or tracebacks
        description="Client secret (in Azure: a Key Vault reference, resolved by the platform).",
    )
    partner_center_certificate_path: str | None = Field(
        default=None,
        validation_alias="PARTNER_CENTER_CERTIFICATE_PATH",
        description="PEM/PFX certificate file for PARTNER_CENTER_AUTH=certificate.",
    )
    partner_center_authority: str | None = Field(
        default=None,
        validation_alias="PARTNER_CENTER_AUTHORITY",
        pattern=r"^https://[^\s/]+/?$",
        description="Entra authority host for app-only tokens; default per cloud (china: `https://login.chinacloudapi.cn`).",
    )
    partner_center_scope: str | None = Field(
        default=None,
        validation_alias="PARTNER_CENTER_SCOPE",
        description="App-only token scope; default per cloud (china: `https://graph.chinacloudapi.cn/.default`).",
    )
    partner_center_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=300,
        validation_alias="PARTNER_CENTER_TIMEOUT_SECONDS",
        description="Read timeout of one Partner Center call (the connect timeout is at most 10 s).",
    )
    partner_center_retries: int = Field(
        default=2,
        ge=0,
        le=5,
        validation_alias="PARTNER_CENTER_RETRIES",
        description="In-call retries of transient failures (5xx, resets, timeouts); never 429 or 409.",
    )
    partner_center_max_rpm: int = Field(
        default=450,
        ge=1,
        le=100_000,
        validation_alias="PARTNER_CENTER_MAX_RPM",
        description=(
            "Pace of Partner Center calls per minute for the partner tenant, all instances together "
            "(Partner Center's limit is 500)."
        ),
    )
    partner_center_pacing: PartnerCenterPacing = Field(
        default=PartnerCenterPacing.SHARED,
        validation_alias="PARTNER_CENTER_PACING",
        description=(
            "`shared`: one budget of PARTNER_CENTER_MAX_RPM for the whole fleet (Table storage); "
            "`process`: per process."
        ),
    )
    reconcile_max_deliveries: int = Field(
        default=5,
        ge=1,
        le=100,
        validation_alias="RECONCILE_MAX_DELIVERIES",
        description="Deliveries before a reconcile message is dead-lettered (= host.json maxDequeueCount).",
    )
    reconcile_max_attempts: int = Field(
        default=20,
        ge=1,
        le=1000,
        validation_alias="RECONCILE_MAX_ATTEMPTS",
        description=(
            "Rescheduled attempts (throttling, transient failures, a refused token) before an alert ends "
            'them; "try later" answers have their own budgets.'
        ),
    )
    reconcile_conflict_delay_seconds: int = Field(
        default=120,
        ge=0,
        le=3600,
        validation_alias="RECONCILE_CONFLICT_DELAY_SECONDS",
        description=(
            "Delay between tries in a 409 renewal window (for up to 24 hours), "
            "and after a 429 without Retry-After."
        ),
    )
    reconcile_retry_base_seconds: float = Field(
        default=5.0,
        ge=0,
        le=600,
        validation_alias="RECONCILE_RETRY_BASE_SECONDS",
        description="First back-off after a transient failure; doubles with each attempt (max 15 min).",
    )
    reconcile_lease_seconds: int = Field(
        default=300,
        ge=5,
        le=3600,
        validation_alias="RECONCILE_LEASE_SECONDS",
        description="Per-customer executor lease; a crashed holder blocks the customer at most this long.",
    )
    reconcile_settle_minutes: int = Field(
        default=60,
        ge=1,
        le=7 * 24 * 60,
        validation_alias="RECONCILE_SETTLE_MINUTES",
        description=(
            "How long an unanswered PATCH may still be applied late; "
            "after that a read showing no change settles it."
        ),
    )
    drift_lookback_days: int = Field(
        default=7,
        ge=0,
        le=365,
        validation_alias="DRIFT_LOOKBACK_DAYS",
        description="The drift sweep also checks customers with a record of ours closed in the last N days.",
    )
    drift_alert_failures: int = Field(
        default=10,
        ge=1,
        le=100_000,
        validation_alias="DRIFT_ALERT_FAILURES",
        description="The drift sweep alerts when at least this many customers could not be checked.",
    )

    # --- Telemetry (Application Insights; unset locally) ---
    applicationinsights_connection_string: str | None = Field(
        default=None,
        validation_alias="APPLICATIONINSIGHTS_CONNECTION_STRING",
        description="Application Insights connection string; when set, OpenTelemetry exports to it.",
    )
    applicationinsights_authentication_string: str | None = Field(
        default=None,
        validation_alias="APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        description="`Authorization=AAD;ClientId=<identity client id>`: export with the managed identity.",
    )
    azure_sdk_http_logging: bool = Field(
        default=False,
        validation_alias="AZURE_SDK_HTTP_LOGGING",
        description="`true` logs every Azure SDK request's headers (debugging only; read at start-up).",
    )

    # --- Behaviour ---
    enforcement_mode: EnforcementMode = Field(
        default=EnforcementMode.DRY_RUN,
        validation_alias="ENFORCEMENT_MODE",
        description="`dry_run` decides and records but changes nothing; `enforce` acts.",
    )
    policy_file: Path = Field(
        default=Path("policy/collections.toml"),
        validation_alias="POLICY_FILE",
        description="The collections policy file (TOML); relative paths are from the app root.",
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=100 * 1_048_576,
        validation_alias="MAX_REQUEST_BYTES",
        description="Largest HTTP request body accepted (413 above it).",
    )

    # --- Fraud and misuse ---
    triage_file: Path = Field(
        default=Path("policy/triage.toml"),
        validation_alias="TRIAGE_FILE",
        description="The fraud triage rules (TOML); relative paths are from the app root.",
    )
    fraud_report_signing_secrets: str = Field(
        default="",
        validation_alias="FRAUD_REPORT_SIGNING_SECRETS",
        repr=False,  # a secret: never in repr(), logs or tracebacks
        description=(
            "JSON object sender -> HMAC-SHA256 secret for signed fraud reports "
            "(X-Sender + X-Signature: sha256=<hex>); empty = signatures off."
        ),
    )
    fraud_escalate_after_reports: int = Field(
        default=3,
        ge=2,
        le=100,
        validation_alias="FRAUD_ESCALATE_AFTER_REPORTS",
        description="This many reports on one case inside the window raise its severity one step.",
    )
    fraud_escalate_window_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 90,
        validation_alias="FRAUD_ESCALATE_WINDOW_HOURS",
        description="The window (hours) of FRAUD_ESCALATE_AFTER_REPORTS.",
    )
    fraud_events_enabled: bool = Field(
        default=False,
        validation_alias="FRAUD_EVENTS_ENABLED",
        description="Poll Partner Center fraud events (global cloud; App+User auth).",
    )
    fraud_events_schedule: str = Field(
        default="0 */15 * * * *",
        validation_alias="FRAUD_EVENTS_SCHEDULE",
        description="When the fraud events poll runs (every 15 minutes by default).",
    )

    # --- Exposure and credit control (docs/exposure.md) ---
    exposure_enabled: bool = Field(
        default=True,
        validation_alias="EXPOSURE_ENABLED",
        description=(
            "Read Partner Center's unbilled charges on EXPOSURE_SCHEDULE (credit control, usage anomalies)."
        ),
    )
    exposure_schedule: str = Field(
        default="0 20 */2 * * *",
        validation_alias="EXPOSURE_SCHEDULE",
        description="When the exposure refresh runs (every two hours by default).",
    )
    exposure_currencies: str = Field(
        default="CNY",
        validation_alias="EXPOSURE_CURRENCIES",
        pattern=r"^[A-Z]{3}(,[A-Z]{3}){0,9}$",
        description="The billing currencies whose unbilled line items are read (comma-separated: CNY,USD).",
    )
    exposure_read_usage: bool = Field(
        default=True,
        validation_alias="EXPOSURE_READ_USAGE",
        description=(
            "Also read the unbilled daily rated usage line items (v1 `usagelineitems`, deprecated by "
            "Microsoft on the global cloud); false = billing line items only."
        ),
    )
    exposure_page_size: int = Field(
        default=2000,
        ge=1,
        le=2000,
        validation_alias="EXPOSURE_PAGE_SIZE",
        description="Line items asked per page (Partner Center's maximum is 2000).",
    )
    exposure_listings_per_run: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        validation_alias="EXPOSURE_LISTINGS_PER_RUN",
        description="At most this many customers' subscription listings (seat counts) per refresh.",
    )
    exposure_listing_max_age_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        validation_alias="EXPOSURE_LISTING_MAX_AGE_HOURS",
        description="A customer's seat counts are read again once their last listing is this old.",
    )
    exposure_run_seconds: int = Field(
        default=480,
        ge=10,
        le=3600,
        validation_alias="EXPOSURE_RUN_SECONDS",
        description="A refresh stops after this long and the next run resumes where it stopped.",
    )

    # --- Collections (issue 3: ledger, scan, notices) ---
    notice_webhook_secret: str = Field(
        default="",
        validation_alias="NOTICE_WEBHOOK_SECRET",
        repr=False,  # a secret: never in repr(), logs or tracebacks
        description=(
            "HMAC-SHA256 key that signs notice webhooks (X-CollectionsGuard-Signature); empty = "
            "webhook notices are not sent (recorded as an error), the outbox table still gets them."
        ),
    )
    smtp_host: str | None = Field(
        default=None,
        validation_alias="SMTP_HOST",
        pattern=r"^[A-Za-z0-9.-]{1,253}$",
        description="The partner's SMTP relay for e-mail notices; unset = no e-mail (webhook only).",
    )
    smtp_port: int = Field(
        default=587, ge=1, le=65535, validation_alias="SMTP_PORT", description="SMTP relay port."
    )
    smtp_security: SmtpSecurity = Field(
        default=SmtpSecurity.STARTTLS,
        validation_alias="SMTP_SECURITY",
        description="`starttls` (port 587), `tls` (TLS from the start, port 465) or `none` (loopback relay).",
    )
    smtp_user: str | None = Field(
        default=None, validation_alias="SMTP_USER", description="SMTP login; unset = no authentication."
    )
    smtp_password: str | None = Field(
        default=None,
        validation_alias="SMTP_PASSWORD",
        repr=False,  # a secret: never in repr(), logs or tracebacks
        description="SMTP password (in Azure: a Key Vault reference, resolved by the platform).",
    )
    smtp_from: str | None = Field(
        default=None,
        validation_alias="SMTP_FROM",
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Sender address of e-mail notices (needed with SMTP_HOST).",
    )
    smtp_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=300,
        validation_alias="SMTP_TIMEOUT_SECONDS",
        description="Timeout of one SMTP connection and each of its commands.",
    )
    scan_max_customers: int = Field(
        default=5000,
        ge=1,
        le=1_000_000,
        validation_alias="SCAN_MAX_CUSTOMERS",
        description="Most due customers one collections scan evaluates; the rest wait for the next scan.",
    )

    # --- Who is calling (issue 12: sign-in, roles, named keys) ---
    easy_auth_enabled: bool = Field(
        default=False,
        validation_alias="WEBSITE_AUTH_ENABLED",
        description=(
            "Set by the platform when App Service Authentication is on (the local host sets it too); "
            "only then is X-MS-CLIENT-PRINCIPAL trusted."
        ),
    )
    function_keys_enabled: bool = Field(
        default=False,
        validation_alias="FUNCTION_KEYS_ENABLED",
        description="Switch on the named-key fallback (x-functions-key or ?code=): the key names the actor.",
    )
    function_keys: str = Field(
        default="",
        validation_alias="FUNCTION_KEYS",
        repr=False,  # hashes only, but kept out of logs all the same
        description=(
            'JSON object key name -> {"sha256": "<hex of the key>", "roles": [...]} '
            "(`python -m tools.function_keys new <name> --role ...`); used only when FUNCTION_KEYS_ENABLED."
        ),
    )

    @model_validator(mode="after")
    def _check_combinations(self) -> AppSettings:
        if not self.storage_connection_string and not self.storage_table_endpoint:
            raise ValueError(
                "set AzureWebJobsStorage (a connection string) or "
                "AzureWebJobsStorage__tableServiceUri (managed identity)"
            )
        if self.queue_transport is QueueTransport.SERVICEBUS and not self.servicebus_namespace:
            raise ValueError("QUEUE_TRANSPORT=servicebus needs SERVICEBUS__fullyQualifiedNamespace")
        if (
            self.queue_transport is QueueTransport.STORAGE
            and not self.storage_connection_string
            and not self.storage_queue_endpoint
        ):
            raise ValueError(
                "QUEUE_TRANSPORT=storage with managed identity needs AzureWebJobsStorage__queueServiceUri"
            )
        if self.smtp_host and not self.smtp_from:
            raise ValueError("SMTP_HOST needs SMTP_FROM (the sender address of e-mail notices)")
        if self.partner_center_auth is PartnerCenterAuth.NONE and not self.partner_center_base_url:
            raise ValueError(
                "PARTNER_CENTER_AUTH=none is only allowed with PARTNER_CENTER_BASE_URL (the simulator)"
            )
        return self

    @field_validator("partner_center_authority", "partner_center_scope", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        # Bicep passes an empty string for "use the cloud's default".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("smtp_host", "smtp_user", "smtp_password", "smtp_from", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An app setting written empty (e-mail not configured in this deployment) means unset.
        return None if value == "" else value

    @field_validator("fraud_report_signing_secrets")
    @classmethod
    def _signing_secrets_json(cls, value: str) -> str:
        _parse_signing_secrets(value)
        return value

    @field_validator("function_keys")
    @classmethod
    def _function_keys_json(cls, value: str) -> str:
        parse_function_keys(value)
        return value

    def named_keys(self) -> dict[str, NamedKey]:
        """FUNCTION_KEYS as key name -> its hash and roles; empty when the fallback is off."""
        if not self.function_keys_enabled:
            return {}
        return parse_function_keys(self.function_keys)

    def exposure_currency_list(self) -> list[str]:
        return [c for c in self.exposure_currencies.split(",") if c]

    def signing_secrets(self) -> dict[str, str]:
        """FRAUD_REPORT_SIGNING_SECRETS as sender -> secret (empty: signatures are off)."""
        return _parse_signing_secrets(self.fraud_report_signing_secrets)

    def resolved_triage_file(self) -> Path:
        path = self.triage_file
        return path if path.is_absolute() else REPO_ROOT / path

    def resolved_policy_file(self) -> Path:
        path = self.policy_file
        return path if path.is_absolute() else REPO_ROOT / path


@dataclass(frozen=True)
class NamedKey:
    """One named key of the fallback: the SHA-256 of the key (never the key) and its roles."""

    name: str
    sha256: str
    roles: frozenset[Role]


_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def parse_function_keys(value: str) -> dict[str, NamedKey]:
    """Parse FUNCTION_KEYS; ValueError naming what is wrong."""
    if not value.strip():
        return {}
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError('must be a JSON object: name -> {"sha256": ..., "roles": [...]}') from None
    if not isinstance(data, dict):
        raise ValueError('must be a JSON object: name -> {"sha256": ..., "roles": [...]}')
    keys: dict[str, NamedKey] = {}
    known = ", ".join(r.value for r in Role)
    for name, entry in data.items():
        if not isinstance(name, str) or not _KEY_NAME.match(name):
            raise ValueError(f"key name {name!r}: letters, digits, '.', '_' or '-', at most 64")
        if not isinstance(entry, dict) or set(entry) - {"sha256", "roles"}:
            raise ValueError(f'key {name}: give exactly {{"sha256": ..., "roles": [...]}}')
        digest = entry.get("sha256")
        if not isinstance(digest, str) or not _SHA256_HEX.match(digest.lower()):
            raise ValueError(f"key {name}: sha256 must be 64 hex digits (the SHA-256 of the key)")
        roles = entry.get("roles")
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise ValueError(f"key {name}: roles must be a non-empty list of role names ({known})")
        unknown = [r for r in roles if parse_role(r) is None]
        if unknown:
            raise ValueError(f"key {name}: unknown role(s) {', '.join(unknown)} (known: {known})")
        keys[name] = NamedKey(name, digest.lower(), frozenset(Role(r) for r in roles))
    hashes = [k.sha256 for k in keys.values()]
    if len(set(hashes)) != len(hashes):
        raise ValueError("two key names share one key: give each caller its own key")
    return keys


def _parse_signing_secrets(value: str) -> dict[str, str]:
    if not value.strip():
        return {}
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError("must be a JSON object of sender -> secret") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and len(v) >= 16 for k, v in data.items()
    ):
        raise ValueError("must be a JSON object of sender -> secret (secrets of 16+ characters)")
    return data


def _alias_of(name: str) -> str:
    alias = AppSettings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return str(alias)


def describe_error(exc: ValidationError) -> str:
    """One line per problem, naming the app setting (not the Python field)."""
    lines = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else ""
        name = _alias_of(field) if field in AppSettings.model_fields else field
        if name:
            lines.append(f"{name}: {err['msg']}")
        else:
            lines.append(str(err["msg"]).removeprefix("Value error, "))
    return "invalid app settings: " + "; ".join(lines)


def load_settings(**overrides: Any) -> AppSettings:
    """Read the settings from the environment; raise SettingsError naming what is wrong."""
    try:
        return AppSettings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> AppSettings:
    """The process-wide settings, read once."""
    return load_settings()


def default_app_settings() -> dict[str, str]:
    """Setting name -> default, for settings that have one (used to resolve `%NAME%` locally)."""
    defaults: dict[str, str] = {}
    for name, field in AppSettings.model_fields.items():
        if field.default is None:
            continue
        default = field.default
        defaults[_alias_of(name)] = str(default.value if isinstance(default, StrEnum) else default)
    return defaults


def setting_names() -> list[str]:
    """Every app-setting name this model reads (first alias of each field)."""
    return [_alias_of(name) for name in AppSettings.model_fields]
