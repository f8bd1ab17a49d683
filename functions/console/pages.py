"""The console's pages (GET): Today, customers, a customer, the credit watch, approvals, fraud
cases, a case, reports, ledger import, about. Each reads through the existing use cases and renders."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from functions.auth import SIGNED_IN, current_actor
from functions.console import bp
from functions.console.web import page, render
from shared.domain.roles import Role

ANONYMOUS = func.AuthLevel.ANONYMOUS
TODAY_DAYS = 7
TODAY_WATCH = 10  # rows of the credit watch on Today (the rest on /console/exposure)
WATCH_PAGE = 50


def _safe(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A section of a page that failed shows as unavailable, not as a broken page."""
    import logging

    try:
        return fn(*args, **kwargs)
    except Exception:
        logging.getLogger(__name__).exception("console section %s failed", getattr(fn, "__name__", fn))
        return None


@bp.route(route="console", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_READ)
def console_today(req: func.HttpRequest) -> func.HttpResponse:
    """Suspensions and warnings of the next days, approvals waiting, alerts, critical cases, health."""
    from shared import wiring
    from shared.services import health
    from shared.services.collections import alerts, batches, credit_watch, forecast, pending

    deps = wiring.collections()
    policy = deps.policy_for_request()
    ahead = _safe(forecast.forecast_page, deps, policy, days=TODAY_DAYS, limit=50)
    cases = None
    if Role.FRAUD_INVESTIGATE in current_actor().roles:
        from shared.services.fraud import case_lists

        # Unresolved: open, or investigating (a case whose hold is placed).
        cases = [
            item
            for status in ("open", "investigating")
            for item in getattr(
                _safe(case_lists.list_cases, wiring.fraud(), status=status, severity="critical", limit=20),
                "items",
                [],
            )
        ]
    return render(
        req,
        "today.html",
        forecast=ahead,
        days=TODAY_DAYS,
        batches=_safe(batches.list_batches, deps, status="pending", limit=20),
        changes=_safe(pending.list_changes, deps, status="pending", limit=20),
        alerts=_safe(alerts.list_alerts, deps, status="open", limit=20),
        cases=cases,
        health=_safe(health.health_report, wiring.health_probes()),
        watch=_safe(credit_watch.list_credit_watch, deps, limit=TODAY_WATCH),
    )


@bp.route(route="console/customers", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_READ)
def console_customers(req: func.HttpRequest) -> func.HttpResponse:
    from pydantic import ValidationError

    from shared import wiring
    from shared.services.collections import lists

    fields = {
        k: v
        for k, v in req.params.items()
        if k in {"name", "id_prefix", "stage", "hold", "currency", "continuation_token"} and v
    }
    error = None
    try:
        query = lists.CustomerQuery.model_validate(fields)
        found = lists.list_customers(wiring.collections(), query)
    except ValidationError as exc:
        found, error = None, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return render(req, "customers.html", found=found, filters=fields, error=error)


@bp.route(route="console/customers/{customer_id}", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_READ)
def console_customer(req: func.HttpRequest) -> func.HttpResponse:
    return customer_page(req, req.route_params["customer_id"])


def customer_page(
    req: func.HttpRequest,
    customer_id: str,
    status: int = 200,
    problems: dict[str, Any] | None = None,
    typed: dict[str, str] | None = None,
    done: str | None = None,
) -> func.HttpResponse:
    """The customer page (also re-rendered by a refused form, with its reasons and what was typed)."""
    from shared import wiring
    from shared.services.collections import customer_records, customer_view

    deps = wiring.collections()
    view = customer_view.customer_view(deps, customer_id)
    records = customer_records.customer_records(deps, view.customer_id)
    trail = None
    if Role.AUDIT_READ in current_actor().roles:
        trail = _safe(customer_view.audit_trail, deps, view.customer_id, 50)
    return render(
        req,
        "customer.html",
        status=status,
        c=view,
        records=records,
        trail=trail,
        problems=problems or {},
        typed=typed or {},
        done=done or req.params.get("done"),
    )


@bp.route(route="console/exposure", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_READ)
def console_exposure(req: func.HttpRequest) -> func.HttpResponse:
    """The credit watch: customers at or over the credit alert threshold, at the limit first."""
    from shared import wiring
    from shared.services.collections import credit_watch

    level = req.params.get("level") or None
    level = level if level in ("threshold", "limit") else None
    found = credit_watch.list_credit_watch(
        wiring.collections(),
        level=level,
        limit=WATCH_PAGE,
        continuation_token=req.params.get("continuation_token") or None,
    )
    return render(req, "exposure.html", found=found, level=level or "")


@bp.route(route="console/approvals", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_READ)
def console_approvals(req: func.HttpRequest) -> func.HttpResponse:
    return approvals_page(req)


def approvals_page(
    req: func.HttpRequest, status: int = 200, problem: dict[str, Any] | None = None
) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import batches, pending

    deps = wiring.collections()
    listed = batches.list_batches(deps, status="pending", limit=20)
    details = [batches.batch_detail(deps, b.batch_id, limit=50) for b in listed.items]
    return render(
        req,
        "approvals.html",
        status=status,
        batches=details,
        changes=pending.list_changes(deps, status="pending", limit=50),
        problem=problem,
        done=req.params.get("done"),
    )


@bp.route(route="console/fraud", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.FRAUD_INVESTIGATE)
def console_fraud(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import case_lists

    status = req.params.get("status") or "open"
    severity = req.params.get("severity") or None
    statuses = ("open", "investigating", "confirmed", "dismissed")
    status = status if status in statuses else "open"
    severity = severity if severity in ("low", "medium", "high", "critical") else None
    found = case_lists.list_cases(wiring.fraud(), status=status, severity=severity, limit=50)
    return render(req, "fraud.html", found=found, chosen=status, severity=severity or "", statuses=statuses)


@bp.route(route="console/fraud/{case_id}", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.FRAUD_INVESTIGATE)
def console_case(req: func.HttpRequest) -> func.HttpResponse:
    return case_page(req, req.route_params["case_id"])


def case_page(
    req: func.HttpRequest,
    case_id: str,
    status: int = 200,
    problems: dict[str, Any] | None = None,
    typed: dict[str, str] | None = None,
) -> func.HttpResponse:
    from shared import wiring
    from shared.services.fraud import cases

    view = cases.view_case(wiring.fraud(), case_id)
    return render(
        req,
        "case.html",
        status=status,
        case=view,
        problems=problems or {},
        typed=typed or {},
        done=req.params.get("done"),
    )


@bp.route(route="console/reports", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_READ)
def console_reports(req: func.HttpRequest) -> func.HttpResponse:
    from shared import wiring
    from shared.services.collections import ageing

    report = ageing.ageing_report(wiring.collections())
    return render(req, "reports.html", report=report)


@bp.route(route="console/import", methods=["GET"], auth_level=ANONYMOUS)
@page(Role.COLLECTIONS_WRITE)
def console_import(req: func.HttpRequest) -> func.HttpResponse:
    return render(req, "import.html", report=None, problem=None, typed="")


@bp.route(route="console/about", methods=["GET"], auth_level=ANONYMOUS)
@page(SIGNED_IN)
def console_about(req: func.HttpRequest) -> func.HttpResponse:
    import re

    from shared import wiring
    from shared.services import health

    deps = wiring.collections()
    policy = deps.policy()
    report = _safe(health.health_report, wiring.health_probes())
    calendar = report.checks.get("calendar") if report else None
    years = sorted(set(re.findall(r"\b(?:19|20)\d\d\b", calendar.detail))) if calendar and calendar.ok else []
    return render(
        req,
        "about.html",
        calendar_years=years,
        mode=deps.settings.enforcement_mode.value,
        policy=policy,
        health=report,
    )
