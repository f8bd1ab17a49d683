"""Every Bicep file parses, and none hard-codes one cloud's endpoints."""

from __future__ import annotations

import pytest

from tests.infra.bicep import INFRA, bicep_files, template, text

# Suffixes that exist in one cloud only; the templates take them from environment() or from the
# resource itself, so the same files deploy to Azure and to Azure operated by 21Vianet.
CLOUD_SPECIFIC = (
    "core.windows.net",
    "servicebus.windows.net",
    "vault.azure.net",
    "azurewebsites.net",
    "chinacloudapi.cn",
    "vault.azure.cn",
    "chinacloudsites.cn",
    "login.microsoftonline",
)

EXPECTED_MODULES = {
    "main.bicep",
    "modules/alerts.bicep",
    "modules/authsettings.bicep",
    "modules/functionapp.bicep",
    "modules/identity.bicep",
    "modules/keyvault.bicep",
    "modules/monitoring.bicep",
    "modules/plan.bicep",
    "modules/servicebus.bicep",
    "modules/storage.bicep",
    "modules/roles/keyvault-secrets-user.bicep",
    "modules/roles/monitoring-metrics-publisher.bicep",
    "modules/roles/servicebus-data-receiver.bicep",
    "modules/roles/servicebus-data-sender.bicep",
    "modules/roles/storage-blob-data-owner.bicep",
    "modules/roles/storage-queue-data-contributor.bicep",
    "modules/roles/storage-table-data-contributor.bicep",
}


def relative(path) -> str:
    return path.relative_to(INFRA).as_posix()


def test_the_expected_templates_exist():
    assert {relative(p) for p in bicep_files()} == EXPECTED_MODULES


@pytest.mark.parametrize("path", bicep_files(), ids=relative)
def test_every_bicep_file_parses(path):
    parsed = template(relative(path))
    assert parsed.get("resources") or parsed.get("modules"), "a template that declares nothing"


@pytest.mark.parametrize("path", bicep_files(), ids=relative)
def test_no_cloud_specific_endpoint_is_hard_coded(path):
    source = path.read_text(encoding="utf-8").lower()
    assert [s for s in CLOUD_SPECIFIC if s in source] == []


@pytest.mark.parametrize("path", bicep_files(), ids=relative)
def test_no_key_is_read_or_written(path):
    source = path.read_text(encoding="utf-8")
    for marker in ("listKeys", "listConnectionStrings", "AccountKey=", "SharedAccessKey", "primaryKey"):
        assert marker not in source


def test_storage_endpoints_come_from_the_target_cloud():
    parsed = template("modules/storage.bicep")
    assert text(parsed["variables"]["suffix"]["value"]) == "environment().suffixes.storage"
    for output in ("blobEndpoint", "queueEndpoint", "tableEndpoint", "deploymentContainerUrl"):
        assert "${suffix}" in parsed["outputs"][output]["value"]


def test_service_bus_host_comes_from_the_namespace_itself():
    value = template("modules/servicebus.bicep")["outputs"]["fullyQualifiedNamespace"]["value"]
    assert _mentions(value, "namespace") and _mentions(value, "serviceBusEndpoint")


def test_key_vault_uris_come_from_the_vault_itself():
    outputs = template("modules/keyvault.bicep")["outputs"]
    for name in ("partnerCenterSecretUri", "signingSecretsUri", "noticeWebhookSecretUri"):
        assert outputs[name]["value"].startswith("${vault.properties.vaultUri}secrets/")


def _mentions(node, word: str) -> bool:
    if isinstance(node, str):
        return word in node
    if isinstance(node, dict):
        return any(_mentions(v, word) for v in node.values())
    if isinstance(node, list):
        return any(_mentions(v, word) for v in node)
    return False
