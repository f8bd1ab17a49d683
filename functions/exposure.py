"""Exposure and credit control: the refresh timer, the credit watch list, the run's status and
a refresh on demand. The use cases are imported inside each handler (docs/exposure.md)."""

from __future__ import annotations

import logging

import azure.functions as func

from functions import entry_point
from functions.auth import requires
from functions.http_support import http_handler, json_response
from functions.paging import page_params
from shared.domain.roles import Role

bp = func.Blueprint()
log = logging.getLogger(__name__)
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)
# A refresh asked for over HTTP stops after this long (the next timer run carries it on).
HTTP_REFRESH_SECONDS = 120


@bp.function_name("exposure_refresh")
@bp.timer_trigger(arg_name="timer", schedule="%EXPOSURE_SCHEDULE%", run_on_startup=False)
@entry_point
def exposure_refresh(timer: func.TimerRequest) -> None:
    """Partner Center's unbilled charges -> exposure, credit decisions, usage anomalies."""
    from shared import wiring
    from shared.services.exposure.refresh import refresh_exposure

    result = refresh_exposure(wiring.exposure())
    log.info(
        "exposure refresh",
        extra={
            "run_id": result.run_id,
            "phase": result.phase,
            "finished": result.finished,
            "pages": result.pages_read,
            "customers": result.customers_applied,
            "failures": len(result.failures),
        },
    )


@bp.route(route="api/exposure", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def exposure_watch(req: func.HttpRequest) -> func.HttpResponse:
    """Customers at or over the credit alert threshold: at the limit first, then by share used."""
    from shared import wiring
    from shared.services.collections.credit_watch import list_credit_watch

    params = page_params(req, {"level"})
    page = list_credit_watch(
        wiring.collections(), level=params.get("level"), limit=params.limit, continuation_token=params.token
    )
    return json_response(page)


@bp.route(route="api/exposure/run", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def exposure_run(req: func.HttpRequest) -> func.HttpResponse:
    """The exposure refresh in progress, or the last one: phase, counters, failures."""
    from shared import wiring
    from shared.services.exposure.status import run_status

    return json_response(run_status(wiring.exposure()))


@bp.route(route="api/exposure/refresh", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.ADMIN)
def exposure_refresh_now(req: func.HttpRequest) -> func.HttpResponse:
    """Start or carry on the refresh now, for at most HTTP_REFRESH_SECONDS; the run's status."""
    from shared import wiring
    from shared.services.exposure.refresh import refresh_exposure
    from shared.services.exposure.status import run_status

    deps = wiring.exposure()
    result = refresh_exposure(deps, seconds=HTTP_REFRESH_SECONDS)
    status = run_status(deps)
    status["this_call"] = {
        "enabled": result.enabled,
        "pages_read": result.pages_read,
        "customers_applied": result.customers_applied,
        "finished": result.finished,
    }
    return json_response(status, 200 if result.finished or not result.enabled else 202)
