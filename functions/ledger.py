"""Ledger and customer HTTP API: customers, invoices, payments, CSV import, holds, exemptions,
audit. Thin: parse the request, call `shared.services.ledger`, shape the response."""

from __future__ import annotations

import uuid

import azure.functions as func

from functions.http_support import http_handler, json_response, read_body, read_json
from shared.domain.customer import CustomerProfile
from shared.domain.ledger import InvoiceIn, PaymentIn
from shared.errors import UnsupportedMediaType, ValidationFailed
from shared.services.collections import ledger, ledger_import

bp = func.Blueprint()


def _actor(req: func.HttpRequest) -> str:
    """Who asked: the `x-actor` header (a person or system name), else `api`."""
    value = (req.headers.get("x-actor") or "api").strip()
    return value[:200] or "api"


def _correlation(req: func.HttpRequest) -> str:
    value = (req.headers.get("x-correlation-id") or "").strip()
    return value[:100] if value else uuid.uuid4().hex


def _respond(result: ledger.Result) -> func.HttpResponse:
    if result.status == 204:
        return func.HttpResponse(status_code=204)
    return json_response(result.body, status=result.status)


@bp.route(route="customers/{customer_id}", methods=["PUT"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def put_customer(req: func.HttpRequest) -> func.HttpResponse:
    body = read_json(req, CustomerProfile)
    return _respond(
        ledger.put_customer(req.route_params["customer_id"], body, _actor(req), _correlation(req))
    )


@bp.route(route="customers/{customer_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def get_customer(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(ledger.customer_view(req.route_params["customer_id"]))


@bp.route(route="invoices", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def post_invoice(req: func.HttpRequest) -> func.HttpResponse:
    body = read_json(req, InvoiceIn)
    return _respond(ledger.post_invoice(body, _actor(req), _correlation(req)))


@bp.route(route="invoices/{invoice_id}", methods=["PATCH"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def patch_invoice(req: func.HttpRequest) -> func.HttpResponse:
    body = read_json(req, ledger.InvoicePatch)
    return _respond(
        ledger.patch_invoice(req.route_params["invoice_id"], body, _actor(req), _correlation(req))
    )


@bp.route(route="payments", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def post_payment(req: func.HttpRequest) -> func.HttpResponse:
    body = read_json(req, PaymentIn)
    return _respond(ledger.post_payment(body, _actor(req), _correlation(req)))


@bp.route(route="ledger/import", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def import_ledger(req: func.HttpRequest) -> func.HttpResponse:
    content_type = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "text/csv":
        raise UnsupportedMediaType(f"send text/csv, not {content_type or 'no content type'}")
    report = ledger_import.import_csv(read_body(req), _actor(req), _correlation(req))
    status = 200 if report.failed == 0 else 207 if report.customers_applied else 422
    return json_response(report, status=status)


@bp.route(route="customers/{customer_id}/holds", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def place_hold(req: func.HttpRequest) -> func.HttpResponse:
    body = read_json(req, ledger.ManualHoldIn)
    return _respond(
        ledger.place_manual_hold(req.route_params["customer_id"], body, _actor(req), _correlation(req))
    )


@bp.route(
    route="customers/{customer_id}/holds/{hold_id}", methods=["DELETE"], auth_level=func.AuthLevel.FUNCTION
)
@http_handler
def lift_hold(req: func.HttpRequest) -> func.HttpResponse:
    params = req.route_params
    return _respond(
        ledger.lift_manual_hold(params["customer_id"], params["hold_id"], _actor(req), _correlation(req))
    )


@bp.route(route="customers/{customer_id}/exemptions", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def add_exemption(req: func.HttpRequest) -> func.HttpResponse:
    body = read_json(req, ledger.ExemptionIn)
    return _respond(
        ledger.add_exemption(req.route_params["customer_id"], body, _actor(req), _correlation(req))
    )


@bp.route(route="customers/{customer_id}/audit", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_handler
def customer_audit(req: func.HttpRequest) -> func.HttpResponse:
    raw = req.params.get("limit")
    limit = None
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1000:
            raise ValidationFailed("limit must be an integer from 1 to 1000")
        limit = int(raw)
    return json_response(ledger.audit_trail(req.route_params["customer_id"], limit))
