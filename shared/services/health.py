"""Health: can the app do its job right now? Each check answers ok or a reason.

The checks are given their probes (`HealthProbes`, wired in `shared/wiring.py`): the settings,
which may themselves be what is broken, the storage account, and the rule files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel

import shared
from shared.adapters.policy_files import PolicyFiles
from shared.domain.policy import PolicyError
from shared.domain.triage import TriageConfigError
from shared.settings import AppSettings, SettingsError


class CheckResult(BaseModel):
    ok: bool
    detail: str = "ok"
    # ok, but something needs a person soon (the app still works): the report says "degraded".
    degraded: bool = False


class HealthReport(BaseModel):
    status: str
    version: str
    queue_transport: str | None
    enforcement_mode: str | None
    checks: dict[str, CheckResult]


@dataclass(frozen=True)
class HealthProbes:
    """How to reach what the checks look at."""

    settings: Callable[[], AppSettings]  # raises SettingsError when a setting is invalid
    ping_storage: Callable[[], None]  # raises when Table storage does not answer
    policy_files: Callable[[], PolicyFiles]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Why the payments feed looks broken, or None (raises when storage does not answer).
    payments_feed: Callable[[], str | None] = field(default=lambda: None)


def check_settings(probes: HealthProbes) -> CheckResult:
    try:
        probes.settings()
    except SettingsError as exc:
        return CheckResult(ok=False, detail=str(exc))
    return CheckResult(ok=True)


def check_table_storage(probes: HealthProbes) -> CheckResult:
    try:
        probes.ping_storage()
    except Exception as exc:  # noqa: BLE001 - any failure means "does not answer"
        return CheckResult(ok=False, detail=f"Table storage does not answer: {type(exc).__name__}")
    return CheckResult(ok=True)


def check_policy(probes: HealthProbes) -> CheckResult:
    """The collections policy file loads and validates; else the PolicyError text."""
    try:
        policy = probes.policy_files().policy()
    except PolicyError as exc:
        return CheckResult(ok=False, detail=str(exc))
    return CheckResult(ok=True, detail=f"version {policy.version}")


def check_calendar(probes: HealthProbes) -> CheckResult:
    """The policy lists this year's days off and, from 1 December, next year's: else degraded
    (the library's statutory holidays apply and make-up working days are unknown)."""
    try:
        policy = probes.policy_files().policy()
    except PolicyError:
        return CheckResult(ok=False, detail="skipped: the policy is invalid")
    today = policy.calendar().local_date(probes.now())
    missing = policy.missing_calendar_years(today)
    if not missing:
        listed = sorted(policy.enforcement_window.listed_years())
        return CheckResult(ok=True, detail=f"days off listed for {', '.join(map(str, listed))}")
    return CheckResult(ok=True, degraded=True, detail=policy.calendar_gap(missing))


def check_payments_feed(probes: HealthProbes) -> CheckResult:
    """Payments keep coming in while invoices do; else degraded with the reason."""
    try:
        reason = probes.payments_feed()
    except Exception as exc:  # noqa: BLE001 - storage or policy trouble shows in their own checks
        return CheckResult(ok=True, detail=f"not checked: {type(exc).__name__}")
    if reason is None:
        return CheckResult(ok=True)
    return CheckResult(ok=True, degraded=True, detail=reason)


def check_triage(probes: HealthProbes) -> CheckResult:
    """The fraud triage rules load and validate (else fraud reports are refused as unavailable)."""
    try:
        triage = probes.policy_files().triage()
    except TriageConfigError as exc:
        return CheckResult(ok=False, detail=str(exc))
    return CheckResult(ok=True, detail=f"version {triage.label}")


# Checks in order; each later issue adds its own to this list.
CHECKS: dict[str, Callable[[HealthProbes], CheckResult]] = {
    "settings": check_settings,
    "table_storage": check_table_storage,
    "policy": check_policy,
    "calendar": check_calendar,
    "payments_feed": check_payments_feed,
    "triage": check_triage,
}


def health_report(probes: HealthProbes) -> HealthReport:
    """Run every check; a check whose prerequisites failed is reported as skipped."""
    results: dict[str, CheckResult] = {}
    settings_result = check_settings(probes)
    results["settings"] = settings_result
    for name, check in CHECKS.items():
        if name == "settings":
            continue
        if not settings_result.ok:
            results[name] = CheckResult(ok=False, detail="skipped: settings are invalid")
            continue
        results[name] = check(probes)
    ok = all(r.ok for r in results.values())
    degraded = any(r.degraded for r in results.values())
    transport = mode = None
    if settings_result.ok:
        settings = probes.settings()
        transport, mode = settings.queue_transport.value, settings.enforcement_mode.value
    return HealthReport(
        status="unavailable" if not ok else "degraded" if degraded else "ok",
        version=shared.__version__,
        queue_transport=transport,
        enforcement_mode=mode,
        checks=results,
    )
