"""azure.yaml and the parameters file agree with infra/main.bicep."""

from __future__ import annotations

import json
import re

import yaml

from tests.infra.bicep import INFRA, REPO_ROOT, template


def test_azure_yaml_deploys_the_repo_as_a_python_function_app():
    project = yaml.safe_load((REPO_ROOT / "azure.yaml").read_text(encoding="utf-8"))
    assert project["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert project["services"] == {"api": {"project": ".", "language": "python", "host": "function"}}
    # azd finds the app by this tag on the site.
    site_tags = template("modules/functionapp.bicep")["resources"]["site"]["config"]["tags"]
    assert site_tags["function"]["parameters"]["arg_2"] == {"'azd-service-name'": "api"}


def test_parameters_file_names_only_parameters_of_main_and_every_required_one():
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    declared = template("main.bicep")["parameters"]
    assert set(parameters) <= set(declared)
    required = {name for name, p in declared.items() if "default" not in p or p["default"] is None}
    assert required <= set(parameters)
    for name, entry in parameters.items():
        assert re.fullmatch(r"\$\{[A-Z_]+(=[^}]*)?\}", entry["value"]), name


def test_secrets_come_from_the_azd_environment_not_the_file():
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert parameters["partnerCenterClientSecret"]["value"] == "${PARTNER_CENTER_CLIENT_SECRET}"
    assert parameters["fraudReportSigningSecrets"]["value"] == "${FRAUD_REPORT_SIGNING_SECRETS}"
    assert parameters["noticeWebhookSecret"]["value"] == "${NOTICE_WEBHOOK_SECRET}"
    assert parameters["enforcementMode"]["value"] == "${ENFORCEMENT_MODE=dry_run}"


def test_azd_environment_files_stay_out_of_git_and_the_package():
    """`.azure/<env>/.env` holds the values given to `azd env set`, secrets included."""
    gitignore = (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    funcignore = (REPO_ROOT / ".funcignore").read_text(encoding="utf-8").split()
    assert ".azure/" in gitignore or ".azure" in gitignore
    assert ".azure" in funcignore
    for excluded in ("infra", "tests", "tools", "local.settings.json"):
        assert excluded in funcignore
