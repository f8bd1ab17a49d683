"""Health: can the app do its job right now? Each check answers ok or a reason."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

import shared
from shared import runtime
from shared.domain.policy import PolicyError, load_policy
from shared.domain.triage import TriageConfigError, load_triage
from shared.settings import SettingsError, get_settings


class CheckResult(BaseModel):
    ok: bool
    detail: str = "ok"


class HealthReport(BaseModel):
    status: str
    version: str
    queue_transport: str | None
    enforcement_mode: str | None
    checks: dict[str, CheckResult]


def check_settings() -> CheckResult:
    try:
        get_settings()
    except SettingsError as exc:
        return CheckResult(ok=False, detail=str(exc))
    return CheckResult(ok=True)


def check_table_storage() -> CheckResult:
    try:
        runtime.table_store().ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "does not answer"
        return CheckResult(ok=False, detail=f"Table storage does not answer: {type(exc).__name__}")
    return CheckResult(ok=True)


def check_policy() -> CheckResult:
    """The collections policy file loads and validates; else the PolicyError text."""
    try:
        policy = load_policy(get_settings().resolved_policy_file())
    except PolicyError as exc:
        return CheckResult(ok=False, detail=str(exc))
    return CheckResult(ok=True, detail=f"version {policy.version}")


def check_triage() -> CheckResult:
    """The fraud triage rules load and validate (else fraud reports are refused with 503)."""
    try:
        triage = load_triage(get_settings().resolved_triage_file())
    except TriageConfigError as exc:
        return CheckResult(ok=False, detail=str(exc))
    return CheckResult(ok=True, detail=f"version {triage.label}")


# Checks in order; a later issue adds its own (e.g. the policy file) to this list.
CHECKS: dict[str, Callable[[], CheckResult]] = {
    "settings": check_settings,
    "table_storage": check_table_storage,
    "policy": check_policy,
    "triage": check_triage,
}


def health_report() -> HealthReport:
    """Run every check; a check whose prerequisites failed is reported as skipped."""
    results: dict[str, CheckResult] = {}
    settings_result = check_settings()
    results["settings"] = settings_result
    for name, check in CHECKS.items():
        if name == "settings":
            continue
        if not settings_result.ok:
            results[name] = CheckResult(ok=False, detail="skipped: settings are invalid")
            continue
        results[name] = check()
    ok = all(r.ok for r in results.values())
    transport = mode = None
    if settings_result.ok:
        settings = get_settings()
        transport, mode = settings.queue_transport.value, settings.enforcement_mode.value
    return HealthReport(
        status="ok" if ok else "unavailable",
        version=shared.__version__,
        queue_transport=transport,
        enforcement_mode=mode,
        checks=results,
    )
