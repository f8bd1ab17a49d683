"""`python -m tools.check_partner_center`: settings, token, one page of customers, against the
simulator; it says plainly which step failed and what to change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from azure.core.exceptions import ClientAuthenticationError

from tests.integration.partner_center.conftest import make_settings
from tools.check_partner_center import main, run_checks, token_advice
from tools.pcsim import Simulator

ROOT = Path(__file__).resolve().parents[3]


class RefusingCredential:
    def __init__(self, message: str) -> None:
        self.message = message

    def get_token(self, *scopes: str, **_: Any) -> Any:
        raise ClientAuthenticationError(self.message)


def secret_settings(sim: Simulator, **overrides: str):  # type: ignore[no-untyped-def]
    return make_settings(
        sim,
        "UseDevelopmentStorage=true",
        PARTNER_CENTER_AUTH="client_secret",
        PARTNER_CENTER_TENANT_ID="00000000-0000-4000-8000-0000000000aa",
        PARTNER_CENTER_CLIENT_ID="00000000-0000-4000-8000-0000000000bb",
        PARTNER_CENTER_CLIENT_SECRET="not-the-secret",
        **overrides,
    )


def test_all_steps_pass_against_the_simulator(sim: Simulator) -> None:
    report = run_checks(make_settings(sim, "UseDevelopmentStorage=true"))
    assert report.ok, report.text()
    assert [s.name for s in report.steps] == ["settings", "token", "read one page of customers"]
    assert "first customer" in report.steps[-1].detail
    (call,) = sim.calls()
    assert call["path"] == "/v1/customers" and call["status"] == 200


def test_missing_settings_are_named(sim: Simulator) -> None:
    settings = make_settings(sim, "UseDevelopmentStorage=true", PARTNER_CENTER_AUTH="client_secret")
    report = run_checks(settings)
    assert not report.ok and report.steps[0].name == "settings"
    assert "PARTNER_CENTER_TENANT_ID" in report.steps[0].detail and sim.calls() == []


def test_a_wrong_secret_is_named_as_the_thing_to_change(sim: Simulator) -> None:
    refusing = RefusingCredential("AADSTS7000215: Invalid client secret provided. Ensure the secret...")
    report = run_checks(secret_settings(sim), refusing)
    assert [s.ok for s in report.steps] == [True, False]
    assert "PARTNER_CENTER_CLIENT_SECRET" in report.steps[1].detail and "failed at: token" in report.text()
    assert sim.calls() == []


def test_a_token_partner_center_refuses_points_at_the_scope(sim: Simulator) -> None:
    class Token:
        def get_token(self, *scopes: str, **_: Any) -> Any:
            from azure.core.credentials import AccessToken

            return AccessToken("t", 4_000_000_000)

    sim.add_fault("status", method="GET", path="/v1/customers$", status=401, code=800001)
    report = run_checks(secret_settings(sim), Token())
    assert report.steps[-1].name == "read one page of customers" and not report.steps[-1].ok
    assert "PARTNER_CENTER_SCOPE=https://graph.chinacloudapi.cn/.default" in report.steps[-1].detail
    sim.clear_faults()
    sim.add_fault("status", method="GET", path="/v1/customers$", status=403, code=900309)
    report = run_checks(secret_settings(sim), Token())
    assert "conditional access" in report.steps[-1].detail


def test_token_advice_knows_the_common_entra_refusals() -> None:
    assert "PARTNER_CENTER_CLIENT_ID" in token_advice(
        "AADSTS700016: Application with identifier 'x' was not found"
    )
    assert "PARTNER_CENTER_TENANT_ID" in token_advice("AADSTS90002: Tenant 'x' not found.")
    assert "PARTNER_CENTER_SCOPE" in token_advice(
        "AADSTS500011: The resource principal named x was not found"
    )
    assert token_advice("something else entirely") == "something else entirely"


def test_the_command_reads_local_settings_and_exits_non_zero_on_failure(
    sim: Simulator, tmp_path: Path
) -> None:
    local = tmp_path / "local.settings.json"
    values = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "PARTNER_CENTER_BASE_URL": sim.base_url}
    local.write_text(json.dumps({"IsEncrypted": False, "Values": {**values, "PARTNER_CENTER_AUTH": "none"}}))
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("PARTNER_CENTER", "AZUREWEBJOBS"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "tools.check_partner_center", "--settings", str(local)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    lines: list[str] = []
    env["PARTNER_CENTER_AUTH"] = "client_secret"  # the environment wins over the file
    os_environ = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        assert main(["--settings", str(local)], out=lines.append) == 1
    finally:
        os.environ.clear()
        os.environ.update(os_environ)
    assert "PARTNER_CENTER_TENANT_ID" in "\n".join(lines)
