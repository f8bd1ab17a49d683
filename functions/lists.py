"""The lists staff work from, each a page with a continuation token: customers, open holds,
exemptions, suspension batches, alerts (and their acknowledgement), the ageing report (JSON or
CSV), and who the caller is (`GET /api/me`). Use cases are imported inside each handler."""

from __future__ import annotations

import azure.functions as func

from functions.auth import current_actor, requires, signed_in, who
from functions.http_support import http_handler, json_response, read_body, read_json
from functions.paging import page_params, query_date, read_query
from shared.domain.roles import Role
from shared.errors import BadRequest

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)
CUSTOMER_FILTERS = {
    "name",
    "id_prefix",
    "stage",
    "segment",
    "hold",
    "currency",
    "overdue_min",
    "overdue_max",
    "sort",
}


@bp.route(route="api/me", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@signed_in
def me(req: func.HttpRequest) -> func.HttpResponse:
    """Who the app takes the caller to be: kind, id, name, UPN and roles."""
    caller = current_actor()
    body = caller.model_dump(mode="json")
    body["roles"] = sorted(body["roles"])
    return json_response(body)


@bp.route(route="api/customers", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def customers_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import lists

    query = read_query(req, lists.CustomerQuery, CUSTOMER_FILTERS)
    return json_response(lists.list_customers(wiring.collections(), query))


@bp.route(route="api/holds", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def holds_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import lists

    params = page_params(req, {"reason", "customer_id"})
    page = lists.list_holds(
        wiring.collections(),
        reason=params.get("reason"),
        customer_id=params.get("customer_id"),
        limit=params.limit,
        continuation_token=params.token,
    )
    return json_response(page)


@bp.route(route="api/exemptions", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def exemptions_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import lists

    params = page_params(req, {"ended", "ends_by", "kind", "customer_id"})
    ended = params.get("ended", "false")
    if ended not in ("true", "false"):
        raise BadRequest("ended must be true or false")
    page = lists.list_exemptions(
        wiring.collections(),
        ended=ended == "true",
        ends_by=query_date(params, "ends_by"),
        kind=params.get("kind"),
        customer_id=params.get("customer_id"),
        limit=params.limit,
        continuation_token=params.token,
    )
    return json_response(page)


@bp.route(route="api/collections/batches", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def batches_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import batches

    params = page_params(req, {"status"})
    page = batches.list_batches(
        wiring.collections(), status=params.get("status"), limit=params.limit, continuation_token=params.token
    )
    return json_response(page)


@bp.route(route="api/collections/batches/{batch_id}", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def batch_get(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import batches

    params = page_params(req, set())
    detail = batches.batch_detail(
        wiring.collections(),
        req.route_params["batch_id"],
        limit=params.limit,
        continuation_token=params.token,
    )
    return json_response(detail)


@bp.route(route="api/alerts", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def alerts_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import alerts

    params = page_params(req, {"status", "kind", "customer_id"})
    page = alerts.list_alerts(
        wiring.collections(),
        status=params.get("status", "open") or "open",
        kind=params.get("kind"),
        customer_id=params.get("customer_id"),
        limit=params.limit,
        continuation_token=params.token,
    )
    return json_response(page)


@bp.route(route="api/alerts/{alert_id}/acknowledgement", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def alert_acknowledge(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import alerts

    body = read_json(req, alerts.Acknowledgement) if read_body(req).strip() else alerts.Acknowledgement()
    alert = alerts.acknowledge_alert(wiring.collections(), req.route_params["alert_id"], body, **who(req))
    return json_response(alert)


def _csv(text: str, name: str, token: str | None = None) -> func.HttpResponse:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if token:
        headers["X-Continuation-Token"] = token
    # A byte-order mark: spreadsheets then read the UTF-8 (Chinese names) as UTF-8.
    return func.HttpResponse(
        "\ufeff" + text, status_code=200, headers=headers, mimetype="text/csv", charset="utf-8"
    )


def _format(req: func.HttpRequest, allowed: set[str]) -> tuple[str, dict[str, str | None], int, str | None]:
    params = page_params(req, allowed | {"format"})
    fmt = params.get("format", "json") or "json"
    if fmt not in ("json", "csv"):
        raise BadRequest("format must be json or csv")
    return (
        fmt,
        {"currency": params.get("currency"), "segment": params.get("segment")},
        params.limit,
        params.token,
    )


@bp.route(route="api/reports/ageing", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def ageing_report(req: func.HttpRequest) -> func.HttpResponse:
    """Totals per currency and segment by days past due; `format=csv` for the CSV export."""
    from shared import wiring
    from shared.services.collections import ageing

    fmt, filters, _, _ = _format(req, {"currency", "segment"})
    report = ageing.ageing_report(wiring.collections(), **filters)
    if fmt == "csv":
        return _csv(ageing.report_csv(report), f"ageing-{report.as_of.isoformat()}.csv")
    return json_response(report)


@bp.route(route="api/reports/ageing/customers", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def ageing_customers(req: func.HttpRequest) -> func.HttpResponse:
    """A page of customers with what they owe by days past due; `format=csv` for CSV (the
    continuation token then comes in the X-Continuation-Token header)."""
    from shared import wiring
    from shared.services.collections import ageing

    fmt, filters, limit, token = _format(req, {"currency", "segment"})
    page = ageing.ageing_lines(wiring.collections(), limit=limit, continuation_token=token, **filters)
    if fmt == "csv":
        return _csv(
            ageing.lines_csv(page), f"ageing-customers-{page.as_of.isoformat()}.csv", page.continuation_token
        )
    return json_response(page)


@bp.route(route="api/admin/switches", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.ADMIN)
def admin_switches(req: func.HttpRequest) -> func.HttpResponse:
    """The switches that change how the app runs, as this instance sees them (changed through
    the app settings: `azd env set` + `azd provision`, never over HTTP)."""
    from shared import wiring
    from shared.services.switches import switches

    return json_response(switches(wiring.health_probes()))
