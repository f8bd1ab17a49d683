"""Subscriptions HTTP API: a person settles whose suspension a subscription's is, where the
executor could not tell (`undecided`). Thin: parse, call the reconcile use case, shape the answer.

The use case is imported inside the handler: indexing the app loads none of it.
"""

from __future__ import annotations

import azure.functions as func

from functions.auth import current_actor, requires
from functions.http_support import http_handler, read_json, written_response
from shared.domain.roles import Role

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)


@bp.route(
    route="api/customers/{customer_id}/subscriptions/{subscription_id}/ownership",
    methods=["POST"],
    auth_level=ANONYMOUS,
)
@http_handler
@requires(Role.COLLECTIONS_APPROVE)
def settle_subscription_ownership(req: func.HttpRequest) -> func.HttpResponse:
    """`reactivate` (ours: reactivated once the customer has no hold) or `leave` (not ours)."""
    from shared import wiring
    from shared.services.reconcile.ownership import OwnershipRequest, settle_ownership

    body = read_json(req, OwnershipRequest)
    customer_id, subscription_id = req.route_params["customer_id"], req.route_params["subscription_id"]
    return written_response(
        settle_ownership(wiring.reconcile(), customer_id, subscription_id, body, actor=current_actor())
    )
