"""`GET /api/collections/forecast?days=N`: per customer, what the policy will do in the next N
days if nothing changes (notices, the suspension and its date), paged.

It reads the due index, never the customers table: a customer's next review is the earliest
moment anything can happen to it (the evaluation says so), so the customers with something
within N days are exactly those with an index entry due by then. A page reads `limit` index
entries (plus one to know whether more follow) and those customers' partitions; the
continuation token is the key of the last entry read. Each customer is forecast by
`shared/domain/forecast.py`, the same `evaluate()` the scan runs, run forward (in dry run,
from its shadow, so the forecast shows what enforce would do).
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from shared.adapters.customers import CustomerAggregate
from shared.domain.identity import Actor
from shared.domain.policy import Policy
from shared.errors import BadRequest
from shared.services.collections import rollout
from shared.services.collections.actions import CommitContext
from shared.services.collections.credit_view import exposure_view
from shared.services.collections.customer_view import PlannedView, plan_ahead
from shared.services.collections.decision import ledger_summary
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.shadow import decide_for_mode
from shared.settings import EnforcementMode

MAX_DAYS = 366
MAX_PAGE = 200


class ForecastItem(BaseModel):
    customer_id: str
    name: str
    stage: str  # now
    overdue_balance: str
    days_past_due: int  # today
    actions: list[PlannedView]  # within the forecast's days, in order
    planned_suspension_on: date | None  # local date of the hold, when within the days
    # The last exposure refresh's reading (ledger parts as of now) against the credit limit.
    exposure: str | None = None
    credit_limit: str | None = None
    credit_level: str | None = None  # none | threshold | limit


class ForecastPage(BaseModel):
    at: datetime
    until: datetime
    days: int
    policy_version: str
    enforcement_mode: EnforcementMode
    customers: list[ForecastItem] = Field(default_factory=list)
    entries_read: int  # due-index entries this page read (a page may list fewer customers)
    continuation: str | None  # pass back as `continuation` for the next page; None: the last page


def forecast_page(
    deps: CollectionsDeps,
    policy: Policy,
    *,
    days: int,
    limit: int = 50,
    continuation: str | None = None,
    now: datetime | None = None,
) -> ForecastPage:
    """One page of the forecast; BadRequest for a token this API did not give."""
    now = now or deps.clock.now()
    until = now + timedelta(days=days)
    entries, after = deps.schedule.page(until, _token_key(continuation), limit)
    epoch = rollout.current_epoch(deps) if deps.dry_run else 0
    ctx = CommitContext(
        policy=policy, now=now, actor=Actor.system("forecast"), correlation_id="forecast", mode_epoch=epoch
    )
    page = ForecastPage(
        at=now,
        until=until,
        days=days,
        policy_version=policy.version,
        enforcement_mode=deps.settings.enforcement_mode,
        entries_read=len(entries),
        continuation=_token(after) if after else None,
    )
    seen: set[str] = set()
    for entry in entries:
        if entry.customer_id in seen:
            continue
        seen.add(entry.customer_id)
        aggregate = deps.customers.load(entry.customer_id)
        item = _item(aggregate, policy, ctx, until, deps.dry_run) if aggregate.profile is not None else None
        if item is not None:
            page.customers.append(item)
    return page


def _item(
    aggregate: CustomerAggregate, policy: Policy, ctx: CommitContext, until: datetime, dry_run: bool
) -> ForecastItem | None:
    assert aggregate.profile is not None
    decision, holds, shadow = decide_for_mode(dry_run, aggregate, ctx)
    days = (until - ctx.now).days
    planned = [
        a
        for a in plan_ahead(aggregate, policy, ctx.now, holds, shadow.state if shadow else None, days)
        if a.at <= until
    ]
    if not planned:
        return None
    hold = next((a.at for a in planned if a.kind.value == "place_hold"), None)
    summary = ledger_summary(aggregate, policy, ctx.now)
    exposure = exposure_view(aggregate, summary, policy, ctx.now)
    return ForecastItem(
        customer_id=aggregate.customer_id,
        name=aggregate.profile.value.name,
        stage=decision.stage.value,
        overdue_balance=summary.overdue_balance.to_text(),
        days_past_due=decision.days_past_due,
        actions=[
            PlannedView(at=a.at, action=f"{a.kind.value}:{a.stage.value}", suspension_date=a.suspension_date)
            for a in planned
        ],
        planned_suspension_on=policy.calendar().local_date(hold) if hold else None,
        exposure=exposure.total if exposure else None,
        credit_limit=exposure.credit_limit if exposure else None,
        credit_level=exposure.level if exposure else None,
    )


def _token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}|{key[1]}".encode()).decode().rstrip("=")


def _token_key(token: str | None) -> tuple[str, str] | None:
    if token is None:
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    bucket, sep, customer = text.partition("|")
    if not sep or not bucket.isdigit() or len(bucket) != 10 or not 1 <= len(customer) <= 100:
        raise BadRequest(
            "continuation is not a token this API gave: pass back the `continuation` of the previous page",
            errors=[{"field": "continuation", "message": "not a continuation token"}],
        )
    return bucket, customer
