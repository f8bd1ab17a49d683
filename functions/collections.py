"""Collections: the timer scan, the preview, the forecast and the approval of held-back suspensions."""

from __future__ import annotations

import azure.functions as func

from functions import entry_point
from functions.auth import correlation_id, current_actor, requires
from functions.http_support import http_handler, json_response, written_response
from shared.domain.roles import Role

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)


@bp.function_name("collections_scan")
@bp.timer_trigger(arg_name="timer", schedule="%COLLECTIONS_SCAN_SCHEDULE%", run_on_startup=False)
@entry_point
def collections_scan(timer: func.TimerRequest) -> None:
    """Evaluate the customers whose review is due (an invalid policy stops it, logged)."""
    from shared import wiring
    from shared.services.collections import scan

    scan.run_scan(wiring.collections())


@bp.route(route="api/collections/preview", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def collections_preview(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import preview

    deps = wiring.collections()
    return json_response(preview.preview(deps, deps.policy_for_request()))


@bp.route(route="api/collections/forecast", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def collections_forecast(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import forecast

    days = _int_param(req, "days", 14, 1, forecast.MAX_DAYS)
    limit = _int_param(req, "limit", 50, 1, forecast.MAX_PAGE)
    deps = wiring.collections()
    page = forecast.forecast_page(
        deps, deps.policy_for_request(), days=days, limit=limit, continuation=req.params.get("continuation")
    )
    return json_response(page)


def _int_param(req: func.HttpRequest, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter in [low, high] (ASCII digits only), else 422 naming it."""
    from shared.errors import ValidationFailed

    raw = req.params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        message = f"{name} must be a whole number from {low} to {high}"
        raise ValidationFailed(message, errors=[{"field": name, "message": message}])
    return int(raw)


@bp.route(route="api/collections/approvals/{batch_id}", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_APPROVE)
def approve_batch(req: func.HttpRequest) -> func.HttpResponse:
    """Release a held-back batch: 202 with the pending change under four-eyes (a second person
    approves it at POST /api/changes/{change_id}/approval), else 200 with the released batch."""
    from shared import wiring
    from shared.services.collections import four_eyes

    deps = wiring.collections()
    written = four_eyes.request_batch_release(
        deps,
        req.route_params["batch_id"],
        actor=current_actor(),
        policy=deps.policy_for_request(),
        correlation_id=correlation_id(req),
    )
    return written_response(written)
