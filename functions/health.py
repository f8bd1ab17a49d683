"""GET /api/health (anonymous): version, queue transport, and whether storage answers."""

from __future__ import annotations

import azure.functions as func

from functions.auth import public
from functions.http_support import http_handler, json_response

bp = func.Blueprint()


@bp.route(route="api/health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_handler
@public
def health(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.health import health_report

    report = health_report(wiring.health_probes())
    # 200 when every check passes (status ok) or one needs a person soon (status degraded, with
    # the reason in its check); 503 names what stops the app.
    return json_response(report, status=503 if report.status == "unavailable" else 200)
