"""The GitHub workflows: tests on every push and pull request, deploy with azd through OIDC."""

from __future__ import annotations

from typing import Any

import yaml

from tests.infra.bicep import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(flow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    return flow.get("on", flow.get(True))


def steps(flow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return flow["jobs"][job]["steps"]


def uses(flow: dict[str, Any], job: str) -> dict[str, dict[str, Any]]:
    return {s["uses"].split("@")[0]: s.get("with", {}) for s in steps(flow, job) if "uses" in s}


def runs(flow: dict[str, Any], job: str) -> list[str]:
    return [s["run"] for s in steps(flow, job) if "run" in s]


def test_ci_runs_make_test_on_every_push_and_pull_request():
    flow = workflow("ci.yml")
    assert set(triggers(flow)) == {"push", "pull_request"}
    assert triggers(flow)["push"] is None, "every branch"
    actions = uses(flow, "test")
    assert "actions/checkout" in actions
    assert actions["actions/setup-python"]["python-version"] == "3.11"
    assert actions["actions/setup-node"]["node-version"] == "20"
    assert any(run.startswith("make test") for run in runs(flow, "test"))


def test_deploy_runs_on_main_after_the_tests():
    flow = workflow("deploy.yml")
    assert triggers(flow)["push"] == {"branches": ["main"]}
    assert flow["jobs"]["deploy"]["needs"] == "test"
    assert any(run.startswith("make test") for run in runs(flow, "test"))


def test_deploy_signs_in_with_oidc_and_no_azure_secret():
    flow = workflow("deploy.yml")
    assert flow["permissions"]["id-token"] == "write"
    login = uses(flow, "deploy")["azure/login"]
    assert set(login) == {"client-id", "tenant-id", "subscription-id", "environment"}
    text = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    assert "creds:" not in text and "client-secret" not in text and "AZURE_CREDENTIALS" not in text


def test_deploy_provisions_then_deploys_with_azd():
    flow = workflow("deploy.yml")
    commands = runs(flow, "deploy")
    provision = next(i for i, run in enumerate(commands) if run.startswith("azd provision"))
    deploy = next(i for i, run in enumerate(commands) if run.startswith("azd deploy"))
    assert provision < deploy
    assert "Azure/setup-azd" in uses(flow, "deploy")
    assert any("azd config set cloud.name" in run for run in commands)
