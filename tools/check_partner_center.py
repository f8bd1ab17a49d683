"""Check the Partner Center credentials: settings, token, one page of customers.

    python -m tools.check_partner_center [--settings local.settings.json]

It reads the same settings as the app (the environment; `local.settings.json` Values fill in
what the environment leaves unset), gets an app-only token from the configured authority for the
configured scope, and reads one page of customers. It says plainly which step failed and what to
change (docs/partner-center-app.md, "Check the credentials"); exit status 0 when all passed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.adapters.partner_center import ErrorKind, PartnerCenterClient, PartnerCenterError
from shared.adapters.partner_center.auth import (
    CLOUDS,
    PartnerCenterConfig,
    build_credential,
    config_from_settings,
)
from shared.settings import AppSettings, PartnerCenterAuth, SettingsError, load_settings
from tools.devhost.errors import ConfigurationError
from tools.devhost.settings import load_local_settings

REPO_ROOT = Path(__file__).resolve().parents[1]

# Entra's AADSTS codes the check knows, and what to change for each.
_AADSTS_ADVICE = {
    "7000215": "the client secret is wrong: set PARTNER_CENTER_CLIENT_SECRET to a current secret of the app",
    "7000222": "the client secret has expired: create a new one and set PARTNER_CENTER_CLIENT_SECRET",
    "700016": (
        "no such app in that tenant: check PARTNER_CENTER_CLIENT_ID and PARTNER_CENTER_TENANT_ID, and that "
        "the app is registered in the cloud PARTNER_CENTER_AUTHORITY signs in to"
    ),
    "90002": (
        "the tenant is not known to this authority: check PARTNER_CENTER_TENANT_ID and "
        "PARTNER_CENTER_AUTHORITY"
    ),
    "900023": "PARTNER_CENTER_TENANT_ID is not a tenant id (a GUID) or domain",
    "500011": (
        "the token's resource is not known in the tenant: PARTNER_CENTER_SCOPE is probably wrong for this "
        "cloud"
    ),
    "70011": "PARTNER_CENTER_SCOPE is not a valid scope (app-only scopes end in /.default)",
    "700027": (
        "the certificate is not registered on the app: upload it, or check PARTNER_CENTER_CERTIFICATE_PATH"
    ),
    "53003": (
        "a conditional access policy blocked the token: exclude this app (workload identity) from the policy"
    ),
}


@dataclass
class Step:
    name: str
    ok: bool
    detail: str


@dataclass
class CheckReport:
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok

    def text(self) -> str:
        lines = [f"{'ok  ' if s.ok else 'FAIL'} {s.name}: {s.detail}" for s in self.steps]
        lines.append(
            "all checks passed" if self.ok else f"failed at: {next(s.name for s in self.steps if not s.ok)}"
        )
        return "\n".join(lines)


def token_advice(message: str) -> str:
    """What to change, from the AADSTS code in a token error (or the error as it came)."""
    for code in re.findall(r"AADSTS(\d+)", message):
        if code in _AADSTS_ADVICE:
            return f"AADSTS{code}: {_AADSTS_ADVICE[code]}"
    if "connection" in message.lower() or "resolve" in message.lower():
        return "the authority could not be reached: check PARTNER_CENTER_AUTHORITY and the network"
    return message[:300]


def _listing_advice(error: PartnerCenterError, config: PartnerCenterConfig) -> str:
    kind = error.classification.kind
    said = f"Partner Center answered {error.status}" + (
        f" (code {error.error_code})" if error.error_code is not None else ""
    )
    if kind is ErrorKind.TOKEN_REFUSED and error.status == 401:
        return (
            f"{said}: the token was refused. The scope is probably not the one this Partner Center accepts "
            f"(PARTNER_CENTER_SCOPE={config.scope}); or the app is not added in Partner Center "
            "(Account settings > App management)"
        )
    if kind is ErrorKind.TOKEN_REFUSED:
        return (
            f"{said}: {error.classification.meaning}. Add the app in Partner Center (Account settings > App "
            "management) with the admin agent role, or exclude it from the conditional access policy"
        )
    if kind in (ErrorKind.TRANSIENT, ErrorKind.THROTTLED):
        return f"{said or 'no answer'}: Partner Center at {config.base_url} did not answer; try again later"
    return f"{said}: {error.description or error}"


def run_checks(settings: AppSettings, credential: Any | None = None) -> CheckReport:
    """Settings, token, one page of customers; stops at the first step that fails."""
    report = CheckReport()
    try:
        config = config_from_settings(settings)
    except SettingsError as exc:
        report.add("settings", False, f"{exc}: set them (docs/partner-center-app.md)")
        return report
    cloud = CLOUDS[settings.partner_center_cloud]
    report.add(
        "settings",
        True,
        f"cloud {settings.partner_center_cloud.value}, API {config.base_url}, authority {config.authority}"
        + ("" if config.authority == cloud.authority else " (PARTNER_CENTER_AUTHORITY)")
        + f", scope {config.scope}"
        + ("" if config.scope == cloud.scope else " (PARTNER_CENTER_SCOPE)"),
    )
    if config.auth is PartnerCenterAuth.NONE:
        report.add("token", True, "PARTNER_CENTER_AUTH=none: no token (the simulator only)")
    else:
        credential = credential if credential is not None else build_credential(config)
        try:
            credential.get_token(config.scope)
        except Exception as exc:  # noqa: BLE001 - every way of not getting a token is reported
            report.add("token", False, token_advice(str(exc)))
            return report
        report.add("token", True, f"an app-only token for {config.scope} from {config.authority}")
    client = PartnerCenterClient.from_config(config, credential)
    try:
        first = next(iter(client.list_customers(page_size=1, correlation_id="credential-check")), None)
    except PartnerCenterError as exc:
        report.add("read one page of customers", False, _listing_advice(exc, config))
        return report
    found = "no customers yet" if first is None else f"first customer {first.id}"
    report.add("read one page of customers", True, f"Partner Center answered: {found}")
    return report


def settings_from(local_settings: Path | None, environ: dict[str, str]) -> AppSettings:
    """The app settings: the environment, `local.settings.json` Values where it is silent."""
    values: dict[str, str] = {}
    if local_settings is not None:
        try:
            local = load_local_settings(local_settings).values
        except ConfigurationError as exc:
            raise SettingsError(str(exc)) from None
        present = {name.lower() for name in environ}
        values = {name: value for name, value in local.items() if name.lower() not in present}
    return load_settings(**values)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description="Check the Partner Center credentials of this app.")
    parser.add_argument("--settings", type=Path, default=REPO_ROOT / "local.settings.json")
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args.settings, dict(os.environ))
    except SettingsError as exc:
        out(f"FAIL settings: {exc}")
        return 1
    report = run_checks(settings)
    out(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
