"""Sign-in in the templates: App Service Authentication with Entra ID on the function app, the
issuer taken from the target cloud (global or operated by 21Vianet), unauthenticated requests
left for the app to answer, and the app registration's roles exactly the app's roles."""

from __future__ import annotations

import json
import re
import uuid

from shared.domain.roles import Role
from tests.infra.bicep import INFRA, resources_of_type, template, text


def auth_config() -> dict:
    [config] = resources_of_type(
        template("modules/authsettings.bicep"), "Microsoft.Web/sites/config"
    ).values()
    return config


def test_app_service_authentication_is_on_with_entra_id():
    config = auth_config()
    assert config["name"] == "authsettingsV2"
    props = config["properties"]
    assert props["platform"]["enabled"] is True
    assert props["httpSettings"]["requireHttps"] is True
    assert props["login"]["tokenStore"]["enabled"] is True
    aad = props["identityProviders"]["azureActiveDirectory"]
    assert aad["enabled"] is True
    audiences = [text(a) for a in aad["validation"]["allowedAudiences"]]
    assert audiences == ["api://${clientId}", "clientId"]


def test_unauthenticated_requests_reach_the_app_which_answers_them():
    """Health, the OpenAPI document and the policy are public; the app answers 401/403 itself."""
    validation = auth_config()["properties"]["globalValidation"]
    assert validation == {"requireAuthentication": False, "unauthenticatedClientAction": "AllowAnonymous"}


def test_the_issuer_comes_from_the_target_cloud():
    main = template("main.bicep")
    source = (INFRA / "main.bicep").read_text(encoding="utf-8")
    assert "environment().authentication.loginEndpoint" in source
    assert re.search(r"signInIssuer = .*\$\{signInTenant\}/v2\.0", source)
    module = main["modules"]["signIn"]["config"]
    condition = module["condition"]["operator"]  # only when a sign-in app is configured
    assert condition["type"] == "not"
    assert condition["operands"]["bool_value"]["function"]["parameters"]["item_to_test"] == "signInClientId"
    assert text(module["config"]["params"]["openIdIssuer"]) == "signInIssuer"
    assert module["config"]["params"]["clientId"] == "signInClientId"
    assert main["parameters"]["signInClientId"]["default"] == ""


def test_the_redirect_uri_is_the_platforms_callback():
    main = (INFRA / "main.bicep").read_text(encoding="utf-8")
    assert "/.auth/login/aad/callback" in main
    script = (INFRA / "scripts" / "register-sign-in-app.sh").read_text(encoding="utf-8")
    assert "/.auth/login/aad/callback" in script
    assert "appRoleAssignmentRequired=true" in script  # only people and apps given a role sign in
    assert "api://${APP_ID}" in script and "app-roles.json" in script


def test_the_registration_declares_exactly_the_apps_roles_for_people_and_machines():
    roles = json.loads((INFRA / "sign-in" / "app-roles.json").read_text(encoding="utf-8"))
    assert sorted(r["value"] for r in roles) == sorted(r.value for r in Role)
    assert all(r["allowedMemberTypes"] == ["User", "Application"] and r["isEnabled"] for r in roles)
    ids = [str(uuid.UUID(r["id"])) for r in roles]
    assert len(set(ids)) == len(ids)
    assert all("/" in r["description"] for r in roles)  # English / Chinese


def test_the_sign_in_secret_is_a_key_vault_reference_only_when_used():
    main = template("main.bicep")
    value = main["variables"]["signInSettings"]["value"]
    assert "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET" in json.dumps(value, default=str)
    assert "keyVault.outputs.signInSecretUri" in json.dumps(value, default=str)
    assert main["parameters"]["signInClientSecretEnabled"]["default"] is False
