"""The app settings in Bicep and the settings model in shared/ name the same keys.

`shared.settings.setting_names()` is read at test time, so a setting added to the model
without a line in infra/main.bicep (or the other way round) fails here.
"""

from __future__ import annotations

import pytest

from shared.settings import load_settings, setting_names
from tests.infra.bicep import conditional_branches, is_expression, object_keys, template, text
from tools.devhost.ncrontab import parse_schedule

# The variables of main.bicep whose union is the app's settings.
SETTINGS_VARIABLES = (
    "connectionSettings",
    "behaviourSettings",
    "optionalSettings",
    "signInSettings",
    "dedicatedPlanSettings",
)
# Named for keys, holding none: a switch, and a Key Vault reference to the SHA-256 of the keys.
NOT_A_KEY = {"FUNCTION_KEYS_ENABLED", "FUNCTION_KEYS"}

# Read by the Functions host or the platform, not by our settings model.
RUNTIME_ONLY = {
    "AzureWebJobsStorage__blobServiceUri": "host storage with identity: blobs (keys, timer leases)",
    "AzureWebJobsStorage__credential": "host storage uses the managed identity",
    "AzureWebJobsStorage__clientId": "which (user-assigned) identity",
    "SERVICEBUS__credential": "the Service Bus trigger connection uses the managed identity",
    "SERVICEBUS__clientId": "which (user-assigned) identity",
    "FUNCTIONS_EXTENSION_VERSION": "Dedicated plan only: the Functions runtime version",
    "FUNCTIONS_WORKER_RUNTIME": "Dedicated plan only: the language worker",
    "SCM_DO_BUILD_DURING_DEPLOYMENT": "Dedicated plan only: install requirements.txt at deployment",
    "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET": "App Service Authentication: the sign-in app's client secret",
}

# Read by the model, and deliberately not set in Azure.
NOT_SET_IN_AZURE = {
    "AzureWebJobsStorage": "a connection string carries an account key; Azure uses the identity",
    "PARTNER_CENTER_BASE_URL": "points the app at the simulator; Azure uses the cloud's documented URL",
    "PARTNER_CENTER_CERTIFICATE_PATH": "certificate auth; the template uses the client secret in Key Vault",
    "WEBSITE_AUTH_ENABLED": "set by the platform itself while App Service Authentication is on",
    "AZURE_SDK_HTTP_LOGGING": "off by default; switched on by hand only while debugging a storage call",
}

IDENTITY_CLIENT_ID = "identity.outputs.clientId"


def variables() -> dict:
    return template("main.bicep")["variables"]


def bicep_setting_names() -> set[str]:
    names: set[str] = set()
    for name in SETTINGS_VARIABLES:
        names |= object_keys(variables()[name]["value"])
    return names


def bicep_settings() -> dict[str, object]:
    """Setting name -> value; a setting whose value depends on a condition appears once per branch."""
    values: dict[str, object] = {}
    for name in SETTINGS_VARIABLES:
        for branch in conditional_branches(variables()[name]["value"]):
            if isinstance(branch, dict) and not is_expression(branch):
                values.update(branch)
    return values


def test_the_app_receives_the_union_of_exactly_these_variables():
    app_settings = template("main.bicep")["modules"]["functionApp"]["config"]["params"]["appSettings"]
    args = list(app_settings["function"]["parameters"].values())
    assert app_settings["function"]["type"] == "union"
    assert args[:4] == ["connectionSettings", "behaviourSettings", "optionalSettings", "signInSettings"]
    assert conditional_branches(args[4]) == [{}, "dedicatedPlanSettings"]
    assert len(args) == 5
    config = template("modules/functionapp.bicep")["resources"]["settings"]["config"]
    assert config["name"] == "appsettings"
    assert config["properties"] == "appSettings", "the module adds no setting of its own"


def test_every_setting_the_code_reads_is_set_in_azure():
    missing = set(setting_names()) - bicep_setting_names() - set(NOT_SET_IN_AZURE)
    assert missing == set(), "add these to infra/main.bicep (or to NOT_SET_IN_AZURE with a reason)"


def test_no_setting_is_set_that_nothing_reads():
    unread = bicep_setting_names() - set(setting_names()) - set(RUNTIME_ONLY)
    assert unread == set(), "remove these from infra/main.bicep, or read them in shared/settings.py"


def test_the_allow_lists_are_current():
    assert set(NOT_SET_IN_AZURE) <= set(setting_names()), "a setting the model no longer reads"
    assert set(NOT_SET_IN_AZURE).isdisjoint(bicep_setting_names())
    assert set(RUNTIME_ONLY) <= bicep_setting_names()
    assert set(RUNTIME_ONLY).isdisjoint(setting_names())


def test_every_connection_uses_the_managed_identity():
    settings = bicep_settings()
    for prefix in ("AzureWebJobsStorage", "SERVICEBUS"):
        assert settings[f"{prefix}__credential"] == "managedidentity"
        assert text(settings[f"{prefix}__clientId"]) == IDENTITY_CLIENT_ID
    assert text(settings["AZURE_CLIENT_ID"]) == IDENTITY_CLIENT_ID
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "Authorization=AAD;ClientId=${identity.outputs.clientId}"
    )
    for service in ("blob", "queue", "table"):
        uri = settings[f"AzureWebJobsStorage__{service}ServiceUri"]
        assert text(uri) == f"storage.outputs.{service}Endpoint"
    assert (
        text(settings["SERVICEBUS__fullyQualifiedNamespace"]) == "serviceBus.outputs.fullyQualifiedNamespace"
    )
    assert settings["QUEUE_TRANSPORT"] == "servicebus"


def test_host_storage_is_named_by_service_uris_not_account_name():
    """`__accountName` builds global-cloud URIs; the service URIs work in every cloud."""
    assert "AzureWebJobsStorage__accountName" not in bicep_setting_names()


def test_no_connection_string_or_key_is_a_setting():
    for name, value in bicep_settings().items():
        if name == "APPLICATIONINSIGHTS_CONNECTION_STRING":
            # Not a credential: local auth is off, ingestion needs the identity's token.
            assert text(value) == "monitoring.outputs.connectionString"
            continue
        assert "CONNECTION_STRING" not in name.upper()
        assert "ConnectionString" not in name
        assert "key" not in name.lower() or name in NOT_A_KEY
        rendered = repr(value)
        for marker in ("AccountKey", "SharedAccessKey", "listKeys", "InstrumentationKey"):
            assert marker not in rendered, name


def test_secret_settings_are_key_vault_references():
    secret_names = {n for n in setting_names() if "SECRET" in n.upper()}
    assert secret_names, "the model reads at least the Partner Center secret"
    settings = bicep_settings()
    for name in secret_names:
        for branch in conditional_branches(settings[name]):
            if branch == "":
                continue  # explicitly off (e.g. fraud-report signatures disabled)
            assert branch.startswith("@Microsoft.KeyVault(SecretUri=${keyVault.outputs."), name
            assert branch.endswith("})")


def test_partner_center_secret_reference_is_unconditional():
    value = bicep_settings()["PARTNER_CENTER_CLIENT_SECRET"]
    assert value == "@Microsoft.KeyVault(SecretUri=${keyVault.outputs.partnerCenterSecretUri})"


def _resolved_literals() -> dict[str, str]:
    """Settings whose value is a literal or a parameter with a default, resolved to text."""
    main = template("main.bicep")
    params = {n: p.get("default") for n, p in main["parameters"].items()}
    simple_vars = {n: v["value"] for n, v in main["variables"].items() if isinstance(v["value"], str)}
    resolved = {}
    for name, value in bicep_settings().items():
        if name in RUNTIME_ONLY or not isinstance(value, str) or "${" in value:
            continue
        if value in params and params[value] is not None and not is_expression(params[value]):
            value = params[value]
        elif value in simple_vars:
            value = simple_vars[value]
        resolved[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return resolved


def test_bicep_values_are_valid_for_the_settings_model():
    values = _resolved_literals()
    assert {"QUEUE_TRANSPORT", "ENFORCEMENT_MODE", "RECONCILE_QUEUE_NAME"} <= set(values)
    values["AzureWebJobsStorage__tableServiceUri"] = "https://account.table.example"
    values["SERVICEBUS__fullyQualifiedNamespace"] = "namespace.servicebus.example"
    settings = load_settings(**values)
    assert settings.queue_transport.value == "servicebus"
    assert settings.enforcement_mode.value == "dry_run", "first rollout is a dry run"


@pytest.mark.parametrize(
    "name",
    ["COLLECTIONS_SCAN_SCHEDULE", "DRIFT_SWEEP_SCHEDULE", "FRAUD_EVENTS_SCHEDULE", "EXPOSURE_SCHEDULE"],
)
def test_schedules_are_valid_ncrontab(name):
    value = _resolved_literals().get(name)
    if name in setting_names():
        assert value is not None, f"{name} must have a literal default in main.bicep"
        parse_schedule(value)


def test_named_keys_are_off_unless_asked_for_and_kept_in_key_vault():
    settings = bicep_settings()
    main = template("main.bicep")
    assert main["parameters"]["functionKeysEnabled"]["default"] is False
    assert conditional_branches(settings["FUNCTION_KEYS_ENABLED"]) == ["true", "false"]
    branches = conditional_branches(settings["FUNCTION_KEYS"])
    assert branches == ["@Microsoft.KeyVault(SecretUri=${keyVault.outputs.functionKeysUri})", ""]
    decorators = main["parameters"]["functionKeys"]["decorators"]
    assert any(d["type"] == "secure" for d in decorators)
