"""Ledger and customer HTTP API: customers, invoices, payments, CSV import, holds, exemptions,
audit. Thin: parse the request, call the collections use case, shape the response.

The use cases are imported inside each handler: indexing the app loads none of them.
"""

from __future__ import annotations

import azure.functions as func

from functions.auth import requires, who
from functions.http_support import http_handler, json_response, read_body, read_json, written_response
from shared.domain.roles import Role
from shared.errors import UnsupportedMediaType, ValidationFailed

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)


@bp.route(route="api/customers/{customer_id}", methods=["PUT"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def put_customer(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.customer import CustomerProfile
    from shared.services.collections import ledger

    body = read_json(req, CustomerProfile)
    customer_id = req.route_params["customer_id"]
    return written_response(ledger.put_customer(wiring.collections(), customer_id, body, **who(req)))


@bp.route(route="api/customers/{customer_id}", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_READ)
def get_customer(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import customer_view

    return json_response(customer_view.customer_view(wiring.collections(), req.route_params["customer_id"]))


@bp.route(route="api/invoices", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def post_invoice(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.ledger import InvoiceIn
    from shared.services.collections import ledger

    body = read_json(req, InvoiceIn)
    return written_response(ledger.post_invoice(wiring.collections(), body, **who(req)))


@bp.route(route="api/invoices/{invoice_id}", methods=["PATCH"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def patch_invoice(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import ledger

    body = read_json(req, ledger.InvoicePatch)
    invoice_id = req.route_params["invoice_id"]
    return written_response(ledger.patch_invoice(wiring.collections(), invoice_id, body, **who(req)))


@bp.route(route="api/payments", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def post_payment(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.ledger import PaymentIn
    from shared.services.collections import ledger

    body = read_json(req, PaymentIn)
    return written_response(ledger.post_payment(wiring.collections(), body, **who(req)))


@bp.route(route="api/ledger/import", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def import_ledger(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import ledger_import

    content_type = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "text/csv":
        raise UnsupportedMediaType(f"send text/csv, not {content_type or 'no content type'}")
    report = ledger_import.import_csv(wiring.collections(), read_body(req), **who(req))
    # All rows applied: 200; some customers applied, others not: 207; none applied: 422.
    status = 200 if report.failed == 0 else 207 if report.customers_applied else 422
    return json_response(report, status=status)


@bp.route(route="api/customers/{customer_id}/holds", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def place_hold(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    body = read_json(req, controls.ManualHoldIn)
    customer_id = req.route_params["customer_id"]
    return written_response(controls.place_manual_hold(wiring.collections(), customer_id, body, **who(req)))


@bp.route(route="api/customers/{customer_id}/holds/{hold_id}", methods=["DELETE"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def lift_hold(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    params = req.route_params
    deps = wiring.collections()
    return written_response(
        controls.lift_manual_hold(deps, params["customer_id"], params["hold_id"], **who(req))
    )


@bp.route(route="api/customers/{customer_id}/exemptions", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def add_exemption(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    body = read_json(req, controls.ExemptionIn)
    customer_id = req.route_params["customer_id"]
    return written_response(controls.add_exemption(wiring.collections(), customer_id, body, **who(req)))


@bp.route(
    route="api/customers/{customer_id}/exemptions/{exemption_id}",
    methods=["PATCH"],
    auth_level=ANONYMOUS,
)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def shorten_exemption(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    body = read_json(req, controls.ExemptionPatch)
    params = req.route_params
    return written_response(
        controls.shorten_exemption(
            wiring.collections(), params["customer_id"], params["exemption_id"], body, **who(req)
        )
    )


@bp.route(
    route="api/customers/{customer_id}/exemptions/{exemption_id}",
    methods=["DELETE"],
    auth_level=ANONYMOUS,
)
@http_handler
@requires(Role.COLLECTIONS_WRITE)
def revoke_exemption(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    params = req.route_params
    return written_response(
        controls.revoke_exemption(
            wiring.collections(), params["customer_id"], params["exemption_id"], **who(req)
        )
    )


@bp.route(route="api/customers/{customer_id}/audit", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.AUDIT_READ)
def customer_audit(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import customer_view

    raw = req.params.get("limit")
    limit = None
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1000:
            raise ValidationFailed("limit must be an integer from 1 to 1000")
        limit = int(raw)
    customer_id = req.route_params["customer_id"]
    return json_response(customer_view.audit_trail(wiring.collections(), customer_id, limit))
