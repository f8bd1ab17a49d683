"""No shared keys, TLS 1.2 and HTTPS only, and the managed identity behind every connection."""

from __future__ import annotations

from tests.infra.bicep import resources_of_type, template, text


def only(resources: dict) -> dict:
    assert len(resources) == 1
    return next(iter(resources.values()))


def test_storage_refuses_shared_keys_public_blobs_and_old_tls():
    account = only(resources_of_type(template("modules/storage.bicep"), "Microsoft.Storage/storageAccounts"))
    props = account["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["defaultToOAuthAuthentication"] is True


def test_deployment_container_is_private():
    container = only(
        resources_of_type(
            template("modules/storage.bicep"), "Microsoft.Storage/storageAccounts/blobServices/containers"
        )
    )
    assert container["properties"]["publicAccess"] == "None"


def test_service_bus_has_local_auth_off_and_tls_1_2():
    namespace = only(
        resources_of_type(template("modules/servicebus.bicep"), "Microsoft.ServiceBus/namespaces")
    )
    assert namespace["sku"]["name"] == "Standard"
    assert namespace["properties"]["disableLocalAuth"] is True
    assert namespace["properties"]["minimumTlsVersion"] == "1.2"


def test_application_insights_has_local_auth_off_on_a_workspace():
    parsed = template("modules/monitoring.bicep")
    component = only(resources_of_type(parsed, "Microsoft.Insights/components"))
    assert component["properties"]["DisableLocalAuth"] is True
    assert text(component["properties"]["WorkspaceResourceId"]) == "workspace.id"


def test_key_vault_uses_rbac_soft_delete_and_purge_protection():
    vault = only(resources_of_type(template("modules/keyvault.bicep"), "Microsoft.KeyVault/vaults"))
    props = vault["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["enablePurgeProtection"] is True
    assert "accessPolicies" not in props


def test_secrets_are_written_only_when_a_value_is_given():
    """A provision without the value must keep the secret that is there, not blank it."""
    parsed = template("modules/keyvault.bicep")
    for name, param in (
        ("partnerCenterSecret", "partnerCenterClientSecret"),
        ("signingSecrets", "fraudReportSigningSecrets"),
    ):
        resource = parsed["resources"][name]["config"]
        condition = resource["condition"]["operator"]
        assert condition["type"] == "not"
        assert condition["operands"]["bool_value"]["function"]["parameters"]["item_to_test"] == param
        assert resource["config"]["properties"]["value"] == param
        decorators = parsed["parameters"][param]["decorators"]
        assert any(d["type"] == "secure" for d in decorators), f"{param} must be @secure()"


def test_function_app_runs_as_the_user_assigned_identity_over_https():
    parsed = template("modules/functionapp.bicep")
    site = only(resources_of_type(parsed, "Microsoft.Web/sites"))
    assert site["kind"] == "functionapp,linux"
    assert site["identity"]["type"] == "UserAssigned"
    # pycep keeps the quotes of a quoted object key.
    assert list(site["identity"]["userAssignedIdentities"]) == ["'${identityId}'"]
    props = site["properties"]
    assert props["httpsOnly"] is True
    # Key Vault references resolve with this identity (there is no system-assigned one).
    assert props["keyVaultReferenceIdentity"] == "identityId"


def test_function_app_tls_and_ftp_on_both_hosting_plans():
    site = only(resources_of_type(template("modules/functionapp.bicep"), "Microsoft.Web/sites"))
    branches = site["properties"]["siteConfig"]["operator"]["operands"]
    for config in (branches["true_value"], branches["false_value"]):
        assert config["minTlsVersion"] == "1.2"
        assert config["ftpsState"] == "Disabled"
    dedicated = branches["false_value"]
    assert dedicated["linuxFxVersion"] == "Python|${pythonVersion}"
    assert dedicated["alwaysOn"] is True, "timers do not fire on an idle Dedicated plan without Always On"


def test_flex_consumption_deploys_from_blob_with_the_identity_and_runs_python_3_11():
    parsed = template("modules/functionapp.bicep")
    site = only(resources_of_type(parsed, "Microsoft.Web/sites"))
    flex = site["properties"]["functionAppConfig"]["operator"]["operands"]["true_value"]
    storage = flex["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "identityId",
    }
    assert flex["runtime"] == {"name": "python", "version": "pythonVersion"}
    assert parsed["parameters"]["pythonVersion"]["default"] == "3.11"


def test_hosting_plan_is_a_parameter_with_a_21vianet_option():
    main = template("main.bicep")["parameters"]["hostingPlan"]
    allowed = next(d["argument"] for d in main["decorators"] if d["type"] == "allowed")
    assert allowed == ["FlexConsumption", "Dedicated"]
    assert main["default"] == "FlexConsumption"
    plan = only(resources_of_type(template("modules/plan.bicep"), "Microsoft.Web/serverfarms"))
    assert plan["properties"]["reserved"] is True, "Linux"
