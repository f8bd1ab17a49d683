"""Fraud cases as risk staff list them: by status (the status index), or one customer's (its
partition), with category, severity and the days they were opened. Each page reads one index
or partition page: O(page). Case ids sort by the time the case opened, so a date range is a
key range."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.domain.customer import normalise_customer_id
from shared.domain.fraud import Case, CaseStatus, Category, Severity, new_case_id
from shared.domain.policy import PolicyError
from shared.errors import BadRequest, ValidationFailed
from shared.services.fraud.deps import FraudDeps

MAX_PAGE = 100


class CaseSummary(BaseModel):
    case_id: str
    customer_id: str
    customer_known: bool
    category: str
    severity: Severity
    status: str
    hit_count: int
    opened_at: datetime
    updated_at: datetime
    escalated: bool = False


class CaseList(BaseModel):
    status: str | None
    items: list[CaseSummary]
    continuation_token: str | None


def _enum(
    kind: type[CaseStatus] | type[Category] | type[Severity], value: str | None, name: str
) -> str | None:
    if value is None:
        return None
    try:
        return kind(value).value
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise BadRequest(f"{name} must be one of {allowed}") from None


def _bound(day: date | None, zone: ZoneInfo) -> str | None:
    """The lowest case id of a case opened at local midnight of `day`."""
    if day is None:
        return None
    moment = datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
    return new_case_id(moment)[:10] + "0" * 16


def _zone(deps: FraudDeps) -> ZoneInfo:
    try:
        return ZoneInfo(deps.policy().time_zone)
    except PolicyError:
        return ZoneInfo("Asia/Shanghai")  # the policy's default: dates only bound the list


def list_cases(
    deps: FraudDeps,
    *,
    status: str | None = "open",
    customer_id: str | None = None,
    category: str | None = None,
    severity: str | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> CaseList:
    """One page of cases, oldest first (dates are local to the policy's time zone, inclusive)."""
    wanted_status = _enum(CaseStatus, status, "status")
    wanted_category = _enum(Category, category, "category")
    wanted_severity = _enum(Severity, severity, "severity")
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    if opened_from and opened_to and opened_to < opened_from:
        raise ValidationFailed("opened_to is before opened_from")
    if customer_id is not None:
        try:
            customer_id = normalise_customer_id(customer_id)
        except ValueError:
            raise ValidationFailed("customer_id must be a GUID") from None
    zone = _zone(deps)
    low = _bound(opened_from, zone)
    high = _bound(opened_to + timedelta(days=1), zone) if opened_to else None
    filters = fingerprint(
        list="cases",
        status=wanted_status,
        customer_id=customer_id,
        category=wanted_category,
        severity=wanted_severity,
        opened_from=opened_from,
        opened_to=opened_to,
    )
    resume = decode_token(continuation_token, filters)
    if customer_id is not None:
        exact = {
            k: v
            for k, v in {
                "status": wanted_status,
                "category": wanted_category,
                "severity": wanted_severity,
            }.items()
            if v
        }
        found, next_at = deps.cases.customer_page(customer_id, exact, low, high, limit, resume)
        return CaseList(
            status=wanted_status,
            items=[_summary(c) for c in found],
            continuation_token=encode_token(next_at, filters),
        )
    if wanted_status is None:
        raise BadRequest("give a status, or a customer_id to list one customer's cases")
    after = (resume or {}).get("after")
    page = deps.cases.list_by_status(CaseStatus(wanted_status), limit, after, high, low)
    items = [
        _summary(c)
        for c in page.cases
        if (wanted_category is None or c.category.value == wanted_category)
        and (wanted_severity is None or c.severity.value == wanted_severity)
    ]
    position = {"after": page.continuation} if page.continuation else None
    return CaseList(status=wanted_status, items=items, continuation_token=encode_token(position, filters))


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(**case.model_dump(include=set(CaseSummary.model_fields)))
