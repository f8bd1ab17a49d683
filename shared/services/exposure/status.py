"""What `GET /api/exposure/run` shows: the run in progress or the last one (no writes)."""

from __future__ import annotations

from typing import Any

from shared.services.exposure.deps import ExposureDeps


def run_status(deps: ExposureDeps) -> dict[str, Any]:
    stored = deps.runs.current()
    settings = deps.settings
    body: dict[str, Any] = {
        "enabled": settings.exposure_enabled,
        "schedule": settings.exposure_schedule,
        "currencies": settings.exposure_currency_list(),
        "reads_usage": settings.exposure_read_usage,
        "enforcement_mode": settings.enforcement_mode.value,
        "run": None,
    }
    if stored is not None:
        run = stored.value.model_dump(mode="json")
        for listing in run["listings"]:
            listing.pop("cursor", None)  # an opaque token; the page count says how far it got
        body["run"] = run
    return body
