"""The identity gets exactly the roles it needs, each from its own module, each on one resource."""

from __future__ import annotations

from tests.infra.bicep import INFRA, bicep_files, resources_of_type, template, text

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"

# Built-in role definition ids (the same in every cloud).
EXPECTED_ROLES = {
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": "Azure Service Bus Data Sender",
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": "Azure Service Bus Data Receiver",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}

# Which resource each role is scoped to (never the resource group or the subscription).
EXPECTED_SCOPE_TYPE = {
    "Storage Table Data Contributor": "Microsoft.Storage/storageAccounts",
    "Storage Queue Data Contributor": "Microsoft.Storage/storageAccounts",
    "Storage Blob Data Owner": "Microsoft.Storage/storageAccounts",
    "Azure Service Bus Data Sender": "Microsoft.ServiceBus/namespaces",
    "Azure Service Bus Data Receiver": "Microsoft.ServiceBus/namespaces",
    "Key Vault Secrets User": "Microsoft.KeyVault/vaults",
    "Monitoring Metrics Publisher": "Microsoft.Insights/components",
}


def role_modules() -> dict[str, dict]:
    return {
        p.relative_to(INFRA).as_posix(): template(p.relative_to(INFRA).as_posix())
        for p in sorted((INFRA / "modules" / "roles").glob("*.bicep"))
    }


def test_the_role_set_is_exact():
    granted = [parsed["variables"]["roleDefinitionId"]["value"] for parsed in role_modules().values()]
    assert sorted(granted) == sorted(EXPECTED_ROLES), "one module per role, no role twice, none missing"


def test_each_role_module_assigns_one_role_to_the_identity_on_one_resource():
    for path, parsed in role_modules().items():
        role = EXPECTED_ROLES[parsed["variables"]["roleDefinitionId"]["value"]]
        assignments = resources_of_type(parsed, ROLE_ASSIGNMENT)
        assert len(assignments) == 1, path
        assignment = next(iter(assignments.values()))
        assert assignment["scope"] == "target", path
        target = parsed["resources"]["target"]
        assert target["existing"] is True
        assert target["type"] == EXPECTED_SCOPE_TYPE[role], path
        props = assignment["properties"]
        assert props["principalId"] == "principalId"
        assert props["principalType"] == "ServicePrincipal"
        definition = props["roleDefinitionId"]["function"]
        assert definition["type"] == "subscription_resource_id"
        assert "roleDefinitionId" in repr(definition["parameters"])


def test_no_other_template_assigns_roles():
    for path in bicep_files():
        rel = path.relative_to(INFRA).as_posix()
        if rel.startswith("modules/roles/"):
            continue
        assert resources_of_type(template(rel), ROLE_ASSIGNMENT) == {}, rel


def test_main_uses_every_role_module_once_for_the_app_identity():
    modules = template("main.bicep")["modules"]
    used = [m for m in modules.values() if m["detail"]["path"].startswith("modules/roles/")]
    assert sorted(m["detail"]["path"] for m in used) == sorted(role_modules())
    for module in used:
        assert text(module["config"]["params"]["principalId"]) == "identity.outputs.principalId"
    depends_on = modules["functionApp"]["config"]["dependsOn"]
    role_names = [name for name, m in modules.items() if m["detail"]["path"].startswith("modules/roles/")]
    assert sorted(depends_on) == sorted(role_names), "the app starts only after its roles exist"
