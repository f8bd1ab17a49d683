"""Fraud and misuse HTTP API: report intake, cases, resolution, escalation to 21Vianet.

The use cases are imported inside each handler: indexing the app loads none of them.
"""

from __future__ import annotations

import azure.functions as func

from functions.auth import current_actor, requires
from functions.http_support import http_handler, json_response, read_body, read_json
from functions.paging import page_params, query_date
from shared.domain.roles import Role

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)

MAX_REPORT_BYTES = 65_536


@bp.route(route="api/fraud-reports", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_REPORT)
def fraud_report_submit(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.fraud import FraudReport
    from shared.services.fraud import intake
    from shared.services.fraud.signatures import verify_signature

    deps = wiring.fraud()
    body = read_body(req, MAX_REPORT_BYTES)
    actor = current_actor()
    sender = req.headers.get("x-sender")
    verify_signature(
        body,
        sender,
        req.headers.get("x-signature"),
        deps.settings.signing_secrets(),
        machine=actor.kind.value in ("app", "key"),
    )
    report = read_json(req, FraudReport, max_bytes=MAX_REPORT_BYTES)
    submitted = intake.submit(
        deps, report, actor=actor, idempotency_key=req.headers.get("idempotency-key"), sender=sender
    )
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else None
    # 202: the report is accepted; the suspension it may cause happens asynchronously.
    return func.HttpResponse(
        submitted.answer, status_code=202, headers=headers, mimetype="application/json", charset="utf-8"
    )


@bp.route(route="api/fraud-reports", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_list(req: func.HttpRequest) -> func.HttpResponse:
    """Cases by status (open by default), or one customer's; by category, severity and the
    days they were opened (local dates, inclusive)."""
    from shared import wiring
    from shared.services.fraud import case_lists

    params = page_params(req, {"status", "customer_id", "category", "severity", "opened_from", "opened_to"})
    page = case_lists.list_cases(
        wiring.fraud(),
        status=params.get("status", None if params.get("customer_id") else "open"),
        customer_id=params.get("customer_id"),
        category=params.get("category"),
        severity=params.get("severity"),
        opened_from=query_date(params, "opened_from"),
        opened_to=query_date(params, "opened_to"),
        limit=params.limit,
        continuation_token=params.token,
    )
    return json_response(page)


@bp.route(route="api/fraud-reports/{case_id}", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_get(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import cases

    return json_response(cases.view_case(wiring.fraud(), req.route_params["case_id"]))


@bp.route(route="api/fraud-reports/{case_id}/resolution", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_resolve(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import cases

    request = read_json(req, cases.ResolutionRequest, max_bytes=MAX_REPORT_BYTES)
    return json_response(
        cases.resolve_case(wiring.fraud(), req.route_params["case_id"], request, actor=current_actor())
    )


@bp.route(route="api/fraud-reports/{case_id}/escalation", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_escalate(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.service_request import EscalationRequest
    from shared.services.fraud import cases

    body = read_body(req, MAX_REPORT_BYTES)
    request = read_json(req, EscalationRequest, MAX_REPORT_BYTES) if body.strip() else EscalationRequest()
    return json_response(
        cases.escalate_case(wiring.fraud(), req.route_params["case_id"], request, actor=current_actor())
    )


@bp.route(route="api/fraud-reports/{case_id}/escalation", methods=["PATCH"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_ticket(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.service_request import TicketUpdate
    from shared.services.fraud import cases

    request = read_json(req, TicketUpdate, max_bytes=MAX_REPORT_BYTES)
    return json_response(
        cases.record_ticket(wiring.fraud(), req.route_params["case_id"], request, actor=current_actor())
    )
