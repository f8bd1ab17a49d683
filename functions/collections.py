"""Collections: the timer scan, the preview and the approval of held-back suspensions."""

from __future__ import annotations

import azure.functions as func

from functions import entry_point
from functions.http_support import http_handler, json_response

bp = func.Blueprint()


@bp.function_name("collections_scan")
@bp.timer_trigger(arg_name="timer", schedule="%COLLECTIONS_SCAN_SCHEDULE%", run_on_startup=False)
@entry_point
def collections_scan(timer: func.TimerRequest) -> None:
    """Evaluate the customers whose review is due (an invalid policy stops it, logged)."""
    from shared import wiring
    from shared.services.collections import scan

    scan.run_scan(wiring.collections())


@bp.route(route="collections/preview", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def collections_preview(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import preview

    deps = wiring.collections()
    return json_response(preview.preview(deps, deps.policy_for_request()))


@bp.route(route="collections/approvals/{batch_id}", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def approve_batch(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import approvals

    actor = (req.headers.get("x-actor") or "api").strip()[:200] or "api"
    deps = wiring.collections()
    batch = approvals.release_batch(
        deps, req.route_params["batch_id"], actor=actor, policy=deps.policy_for_request()
    )
    return json_response(batch)
