"""Every setting the app reads, in one pydantic-settings model.

Names are the app-setting names used in Azure (and in `local.settings.json` `Values`), so the
Bicep templates, the README and this model can be checked against each other. Missing or invalid
settings fail fast with a message that names the setting.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class QueueTransport(StrEnum):
    STORAGE = "storage"
    SERVICEBUS = "servicebus"


class EnforcementMode(StrEnum):
    ENFORCE = "enforce"
    DRY_RUN = "dry_run"


class PartnerCenterCloud(StrEnum):
    CHINA = "china"
    GLOBAL = "global"


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

    @model_validator(mode="after")
    def _check_combinations(self) -> AppSettings:
        if not self.storage_connection_string and not self.storage_table_endpoint:
            raise ValueError(
                "set AzureWebJobsStorage (a connection string) or "
                "AzureWebJobsStorage__tableServiceUri (managed identity)"
            )
        if self.queue_transport is QueueTransport.SERVICEBUS and not self.servicebus_namespace:
            raise ValueError("QUEUE_TRANSPORT=servicebus needs SERVICEBUS__fullyQualifiedNamespace")
        return self

    def resolved_policy_file(self) -> Path:
        path = self.policy_file
        return path if path.is_absolute() else REPO_ROOT / path


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
