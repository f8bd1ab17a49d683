"""The console's forms (POST, same-origin checked): they call the same use cases as the API, as
the signed-in person (`actor=`), and on a refusal render the page again with the reasons beside
the fields and what was typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func

from functions.auth import correlation_id, current_actor, who
from functions.console import bp
from functions.console.pages import approvals_page, case_page, customer_page
from functions.console.web import form, language, page, problem_of, redirect, render, same_origin
from shared.domain.roles import Role
from shared.errors import AppError

ANONYMOUS = func.AuthLevel.ANONYMOUS


def _attempt(req: func.HttpRequest, call: Callable[[], Any]) -> dict[str, Any] | None:
    """Run a use case; None when it went through, else the refusal as a form shows it."""
    from pydantic import ValidationError

    from functions.http_support import field_errors
    from shared.errors import ValidationFailed

    try:
        call()
    except ValidationError as exc:
        return problem_of(
            ValidationFailed("the form does not match the schema", errors=field_errors(exc)), language(req)
        )
    except AppError as exc:
        return problem_of(exc, language(req))
    return None


@bp.route(route="console/customers/{customer_id}/payments", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_WRITE)
def console_post_payment(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.ledger import PaymentIn
    from shared.services.collections import ledger

    same_origin(req)
    customer_id = req.route_params["customer_id"]
    typed = form(req)

    def call() -> None:
        body = PaymentIn.model_validate(
            {
                "payment_id": typed.get("payment_id", ""),
                "customer_id": customer_id,
                "amount": {"amount": typed.get("amount", ""), "currency": typed.get("currency", "")},
                "received_at": typed.get("received_at", ""),
                "reference": typed.get("reference") or None,
            }
        )
        ledger.post_payment(wiring.collections(), body, **who(req))

    problem = _attempt(req, call)
    if problem:
        return customer_page(req, customer_id, 422, {"payment": problem}, typed)
    return redirect(f"/console/customers/{customer_id}?done=payment")


@bp.route(route="console/customers/{customer_id}/holds", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_WRITE)
def console_place_hold(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    same_origin(req)
    customer_id = req.route_params["customer_id"]
    typed = form(req)

    def call() -> None:
        body = controls.ManualHoldIn.model_validate({"reason": typed.get("reason", "")})
        controls.place_manual_hold(wiring.collections(), customer_id, body, **who(req))

    problem = _attempt(req, call)
    if problem:
        return customer_page(req, customer_id, 422, {"hold": problem}, typed)
    return redirect(f"/console/customers/{customer_id}?done=hold")


@bp.route(
    route="console/customers/{customer_id}/holds/{hold_id}/lift", methods=["POST"], auth_level=ANONYMOUS
)
@page(Role.COLLECTIONS_WRITE)
def console_lift_hold(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    same_origin(req)
    customer_id, hold_id = req.route_params["customer_id"], req.route_params["hold_id"]
    problem = _attempt(
        req, lambda: controls.lift_manual_hold(wiring.collections(), customer_id, hold_id, **who(req))
    )
    if problem:
        return customer_page(req, customer_id, 409, {"lift": problem})
    return redirect(f"/console/customers/{customer_id}?done=lift")


@bp.route(route="console/customers/{customer_id}/exemptions", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_WRITE)
def console_add_exemption(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import controls

    same_origin(req)
    customer_id = req.route_params["customer_id"]
    typed = form(req)

    def call() -> None:
        body = controls.ExemptionIn.model_validate(
            {
                "kind": typed.get("kind", ""),
                "until": typed.get("until", ""),
                "reason": typed.get("reason", ""),
            }
        )
        controls.add_exemption(wiring.collections(), customer_id, body, **who(req))

    problem = _attempt(req, call)
    if problem:
        return customer_page(req, customer_id, 422, {"exemption": problem}, typed)
    return redirect(f"/console/customers/{customer_id}?done=exemption")


@bp.route(
    route="console/customers/{customer_id}/invoices/{invoice_id}", methods=["POST"], auth_level=ANONYMOUS
)
@page(Role.COLLECTIONS_WRITE)
def console_patch_invoice(req: func.HttpRequest) -> func.HttpResponse:
    """Dispute, void or reopen an invoice."""
    from shared import wiring
    from shared.services.collections import ledger

    same_origin(req)
    customer_id, invoice_id = req.route_params["customer_id"], req.route_params["invoice_id"]
    typed = form(req)

    def call() -> None:
        body = ledger.InvoicePatch.model_validate(
            {"customer_id": customer_id, "status": typed.get("status", ""), "reason": typed.get("reason", "")}
        )
        ledger.patch_invoice(wiring.collections(), invoice_id, body, **who(req))

    problem = _attempt(req, call)
    if problem:
        return customer_page(req, customer_id, 422, {"invoice": problem}, typed)
    return redirect(f"/console/customers/{customer_id}?done=invoice")


@bp.route(
    route="console/customers/{customer_id}/exemptions/{exemption_id}/{change}",
    methods=["POST"],
    auth_level=ANONYMOUS,
)
@page(Role.COLLECTIONS_WRITE)
def console_change_exemption(req: func.HttpRequest) -> func.HttpResponse:
    """Shorten (`shorten`, a new earlier last day and why) or revoke (`revoke`) an exemption."""
    from shared import wiring
    from shared.errors import NotFound
    from shared.services.collections import controls

    same_origin(req)
    params = req.route_params
    customer_id, exemption_id, change = params["customer_id"], params["exemption_id"], params["change"]
    typed = form(req)
    deps = wiring.collections()

    def call() -> None:
        if change == "shorten":
            body = controls.ExemptionPatch.model_validate(
                {"until": typed.get("until", ""), "reason": typed.get("reason", "")}
            )
            controls.shorten_exemption(deps, customer_id, exemption_id, body, **who(req))
        elif change == "revoke":
            controls.revoke_exemption(deps, customer_id, exemption_id, **who(req))
        else:
            raise NotFound(f"no such change of an exemption: {change}")

    problem = _attempt(req, call)
    if problem:
        return customer_page(req, customer_id, 422, {"exemption_change": problem}, typed)
    return redirect(f"/console/customers/{customer_id}?done=exemption_{change}")


@bp.route(route="console/import", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_WRITE)
def console_post_import(req: func.HttpRequest) -> func.HttpResponse:
    """The CSV pasted or chosen in the page (the page's script reads a chosen file into the field)."""
    from shared import wiring
    from shared.services.collections import ledger_import

    same_origin(req)
    typed = form(req).get("csv", "")
    try:
        report = ledger_import.import_csv(wiring.collections(), typed.encode("utf-8"), **who(req))
    except AppError as exc:
        return render(
            req, "import.html", status=422, report=None, problem=problem_of(exc, language(req)), typed=typed
        )
    status = 200 if report.failed == 0 else 207 if report.customers_applied else 422
    return render(
        req, "import.html", status=status, report=report, problem=None, typed="" if status == 200 else typed
    )


@bp.route(route="console/approvals/batches/{batch_id}", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_APPROVE)
def console_release_batch(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import four_eyes

    same_origin(req)
    deps = wiring.collections()
    problem = _attempt(
        req,
        lambda: four_eyes.request_batch_release(
            deps,
            req.route_params["batch_id"],
            actor=current_actor(),
            policy=deps.policy_for_request(),
            correlation_id=correlation_id(req),
        ),
    )
    if problem:
        return approvals_page(req, 409, problem)
    return redirect("/console/approvals?done=release")


@bp.route(route="console/approvals/changes/{change_id}/{decision}", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_APPROVE)
def console_decide_change(req: func.HttpRequest) -> func.HttpResponse:
    """Approve (`approval`) or reject (`rejection`, with the reason) a four-eyes change."""
    from shared import wiring
    from shared.services.collections import four_eyes

    same_origin(req)
    change_id, decision = req.route_params["change_id"], req.route_params["decision"]
    note = form(req).get("note", "")
    deps = wiring.collections()
    if decision == "approval":
        problem = _attempt(
            req,
            lambda: four_eyes.approve_change(deps, change_id, four_eyes.ApprovalNote(note=note), **who(req)),
        )
    elif decision == "rejection":
        problem = _attempt(
            req,
            lambda: four_eyes.reject_change(
                deps, change_id, four_eyes.Rejection.model_validate({"note": note}), **who(req)
            ),
        )
    else:
        return approvals_page(req, 404, {"reason": decision, "fields": {}})
    if problem:
        return approvals_page(req, 409, problem)
    return redirect(f"/console/approvals?done={decision}")


@bp.route(route="console/fraud/{case_id}/resolution", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.FRAUD_INVESTIGATE)
def console_resolve_case(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import cases

    same_origin(req)
    case_id = req.route_params["case_id"]
    typed = form(req)

    def call() -> None:
        body = cases.ResolutionRequest.model_validate(
            {"outcome": typed.get("outcome", ""), "note": typed.get("note", "")}
        )
        cases.resolve_case(wiring.fraud(), case_id, body, actor=current_actor())

    problem = _attempt(req, call)
    if problem:
        return case_page(req, case_id, 422, {"resolution": problem}, typed)
    return redirect(f"/console/fraud/{case_id}?done=resolution")


@bp.route(route="console/fraud/{case_id}/escalation", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.FRAUD_INVESTIGATE)
def console_escalate_case(req: func.HttpRequest) -> func.HttpResponse:
    """Prepare the 21Vianet service-request draft (zh-CN and en)."""
    from shared import wiring
    from shared.domain.service_request import EscalationRequest
    from shared.services.fraud import cases

    same_origin(req)
    case_id = req.route_params["case_id"]
    problem = _attempt(
        req, lambda: cases.escalate_case(wiring.fraud(), case_id, EscalationRequest(), actor=current_actor())
    )
    if problem:
        return case_page(req, case_id, 409, {"escalation": problem})
    return redirect(f"/console/fraud/{case_id}?done=escalation")


@bp.route(route="console/fraud/{case_id}/ticket", methods=["POST"], auth_level=ANONYMOUS)
@page(Role.FRAUD_INVESTIGATE)
def console_record_ticket(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.domain.service_request import TicketUpdate
    from shared.services.fraud import cases

    same_origin(req)
    case_id = req.route_params["case_id"]
    typed = form(req)

    def call() -> None:
        body = TicketUpdate.model_validate(
            {
                "ticket_number": typed.get("ticket_number", ""),
                "state": typed.get("state") or "filed",
                "note": typed.get("note", ""),
            }
        )
        cases.record_ticket(wiring.fraud(), case_id, body, actor=current_actor())

    problem = _attempt(req, call)
    if problem:
        return case_page(req, case_id, 422, {"ticket": problem}, typed)
    return redirect(f"/console/fraud/{case_id}?done=ticket")
