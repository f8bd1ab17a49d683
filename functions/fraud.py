"""Fraud and misuse HTTP API: report intake, cases, resolution, escalation to 21Vianet.

The use cases are imported inside each handler: indexing the app loads none of them.
"""

from __future__ import annotations

import re

import azure.functions as func

from functions.auth import current_actor, requires
from functions.http_support import http_handler, json_response, read_body, read_json
from shared.domain.roles import Role
from shared.errors import BadRequest

bp = func.Blueprint()
ANONYMOUS = func.AuthLevel.ANONYMOUS  # the app checks the caller itself (functions/auth.py)

MAX_REPORT_BYTES = 65_536
_LIST_PARAMS = {"status", "limit", "continuation_token", "code"}


@bp.route(route="fraud-reports", methods=["POST"], auth_level=ANONYMOUS)
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


@bp.route(route="fraud-reports", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import cases

    unknown = sorted(set(req.params) - _LIST_PARAMS)
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)[:200]}")
    # A parameter that is present must be valid: an empty value is refused, not defaulted.
    limit_text = req.params.get("limit", "50")
    if not re.fullmatch(r"[0-9]{1,3}", limit_text):
        raise BadRequest("limit must be a whole number between 1 and 100")
    page = cases.list_cases(
        wiring.fraud(),
        req.params.get("status", "open"),
        int(limit_text),
        req.params.get("continuation_token"),
    )
    return json_response(page)


@bp.route(route="fraud-reports/{case_id}", methods=["GET"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_get(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import cases

    return json_response(cases.view_case(wiring.fraud(), req.route_params["case_id"]))


@bp.route(route="fraud-reports/{case_id}/resolution", methods=["POST"], auth_level=ANONYMOUS)
@http_handler
@requires(Role.FRAUD_INVESTIGATE)
def fraud_report_resolve(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import cases

    request = read_json(req, cases.ResolutionRequest, max_bytes=MAX_REPORT_BYTES)
    return json_response(
        cases.resolve_case(wiring.fraud(), req.route_params["case_id"], request, actor=current_actor())
    )


@bp.route(route="fraud-reports/{case_id}/escalation", methods=["POST"], auth_level=ANONYMOUS)
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


@bp.route(route="fraud-reports/{case_id}/escalation", methods=["PATCH"], auth_level=ANONYMOUS)
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
