"""Four-eyes changes: the pending list, one change, and its approval or rejection by a second
person. The use cases are imported inside each handler: indexing the app loads none of them."""

from __future__ import annotations

import azure.functions as func

from functions.auth import requires, who
from functions.http_support import http_handler, json_response, read_body, read_json
from functions.paging import page_params
from shared.domain.roles import Role

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)


@bp.route(route="api/changes", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def changes_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import pending

    params = page_params(req, {"status", "customer_id"})
    page = pending.list_changes(
        wiring.collections(),
        status=params.get("status", "pending"),
        customer_id=params.get("customer_id"),
        limit=params.limit,
        continuation_token=params.token,
    )
    return json_response(page)


@bp.route(route="api/changes/{change_id}", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def change_get(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import pending

    return json_response(pending.get_change(wiring.collections(), req.route_params["change_id"]))


@bp.route(route="api/changes/{change_id}/approval", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_APPROVE)
def change_approve(req: func.HttpRequest) -> func.HttpResponse:
    """Approve and carry out a change another person asked for (403 for your own)."""
    from shared import wiring
    from shared.services.collections import four_eyes

    body = read_body(req)
    decision = read_json(req, four_eyes.ApprovalNote) if body.strip() else four_eyes.ApprovalNote()
    change_id = req.route_params["change_id"]
    return json_response(four_eyes.approve_change(wiring.collections(), change_id, decision, **who(req)))


@bp.route(route="api/changes/{change_id}/rejection", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_APPROVE)
def change_reject(req: func.HttpRequest) -> func.HttpResponse:
    """Reject a change another person asked for, with the reason (403 for your own)."""
    from shared import wiring
    from shared.services.collections import four_eyes

    decision = read_json(req, four_eyes.Rejection)
    change_id = req.route_params["change_id"]
    return json_response(four_eyes.reject_change(wiring.collections(), change_id, decision, **who(req)))
