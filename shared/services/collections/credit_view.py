"""What the customer view, the forecast and the console show of a customer's exposure: the
stored reading of the last exposure refresh, its ledger parts brought up to the ledger as it is
now, against the limit that applies (the profile's or its segment's)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from shared.adapters.customers import CustomerAggregate
from shared.domain.collections_models import LedgerSummary
from shared.domain.credit import CreditLevel, limit_for, used_percent
from shared.domain.exposure import OfferLine, SeatLine
from shared.domain.holds import CREDIT_LIMIT_HOLD_ID
from shared.domain.identity import Actor
from shared.domain.policy import Policy
from shared.services.collections.actions import CommitContext
from shared.services.collections.credit import repriced


class ExposureView(BaseModel):
    """`exposure` of `GET /api/customers/{id}`: the parts, the total, the limit and the standing."""

    currency: str
    total: str
    overdue: str
    not_yet_due: str
    credit: str  # unapplied payments, subtracted
    unbilled: str  # priced with the policy's markup
    unbilled_cost: str  # at partner cost
    seats_added: str
    offers: list[OfferLine] = Field(default_factory=list)
    seats: list[SeatLine] = Field(default_factory=list)
    excluded: list[str] = Field(default_factory=list)
    unbilled_as_of: datetime | None  # when the refresh that read the unbilled charges started
    as_of: datetime  # the ledger parts: now
    credit_limit: str | None
    limit_source: str | None  # profile | segment
    alert_percent: Decimal
    used_percent: Decimal | None
    level: str  # none | threshold | limit, now
    credit_hold: bool  # a credit_limit hold is in place
    notice_id: str | None = None  # the at-limit notice of the current credit episode


def exposure_view(
    aggregate: CustomerAggregate, ledger: LedgerSummary, policy: Policy, now: datetime
) -> ExposureView | None:
    """None until the first exposure refresh has read this customer."""
    if aggregate.exposure is None or aggregate.profile is None:
        return None
    ctx = CommitContext(policy=policy, now=now, actor=Actor.system("view"), correlation_id="view")
    exposure = repriced(aggregate.exposure.value, ledger, ctx) or aggregate.exposure.value
    rules = policy.credit
    limit, source = limit_for(aggregate.profile.value, rules, exposure.currency)
    share = used_percent(exposure.total, limit) if limit and limit.currency == exposure.currency else None
    level = CreditLevel.NONE
    if limit is not None and limit.currency == exposure.currency and exposure.total.amount > 0:
        if exposure.total.amount >= limit.amount:
            level = CreditLevel.LIMIT
        elif exposure.total.amount * 100 >= limit.amount * rules.alert_percent:
            level = CreditLevel.THRESHOLD
    state = aggregate.credit.value if aggregate.credit else None
    return ExposureView(
        currency=exposure.currency,
        total=exposure.total.to_text(),
        overdue=exposure.overdue.to_text(),
        not_yet_due=exposure.not_yet_due.to_text(),
        credit=exposure.credit.to_text(),
        unbilled=exposure.unbilled.to_text(),
        unbilled_cost=exposure.unbilled_cost.to_text(),
        seats_added=exposure.seats_added.to_text(),
        offers=exposure.offers,
        seats=exposure.seats,
        excluded=exposure.excluded,
        unbilled_as_of=exposure.unbilled_as_of,
        as_of=exposure.as_of,
        credit_limit=limit.to_text() if limit else None,
        limit_source=source.value if source else None,
        alert_percent=rules.alert_percent,
        used_percent=share,
        level=level.value,
        credit_hold=CREDIT_LIMIT_HOLD_ID in aggregate.holds,
        notice_id=state.notice_id if state else None,
    )
