"""Credit control: exposure against the credit the partner gives a customer (pure; no I/O).

(exposure, limit, rules, holds, state, now) -> decision. Levels, each told once per episode
(an episode starts when exposure first reaches the alert threshold and ends when it falls below):
- `threshold`: exposure at `alert_percent` of the limit or more: finance is told (an alert);
- `limit`: exposure at the limit or more: finance is told, the customer gets a notice, and
  where the policy holds at the limit, a `credit_limit` hold follows once the notice has been
  delivered `hold_after_notice_days` days ago, inside the enforcement window;
- under the limit again (a payment, a raised limit), the `credit_limit` hold is lifted at once.
A protected customer gets neither the notice nor the hold (finance is still told).
The `credit_limit` hold is the only one this decides about: never a non_payment, fraud or
manual hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.domain.credit_policy import CreditRules
from shared.domain.customer import CustomerProfile
from shared.domain.exposure import Exposure
from shared.domain.money import Money


class CreditLevel(StrEnum):
    NONE = "none"
    THRESHOLD = "threshold"
    LIMIT = "limit"

    @property
    def rank(self) -> int:
        return list(CreditLevel).index(self)


class LimitSource(StrEnum):
    PROFILE = "profile"
    SEGMENT = "segment"


class CreditState(BaseModel):
    """Row `credit` of the customer partition: where the customer stands and what was done."""

    level: CreditLevel = CreditLevel.NONE
    episode_id: str | None = None
    told_level: CreditLevel = CreditLevel.NONE  # the highest level finance was told of
    notice_id: str | None = None  # the at-limit notice of this episode
    would_hold_since: datetime | None = None  # dry run: when the hold would have been placed
    limit: Money | None = None
    limit_source: LimitSource | None = None
    used_percent: Decimal | None = None
    updated_at: datetime | None = None


class CreditActionKind(StrEnum):
    TELL_THRESHOLD = "tell_threshold"
    TELL_LIMIT = "tell_limit"
    SEND_NOTICE = "send_notice"
    PLACE_HOLD = "place_hold"
    LIFT_HOLD = "lift_hold"


class CreditAction(BaseModel):
    kind: CreditActionKind
    reason: str


class CreditDecision(BaseModel):
    level: CreditLevel
    actions: list[CreditAction] = Field(default_factory=list)
    new_state: CreditState
    reasons: list[str] = Field(default_factory=list)

    def has(self, kind: CreditActionKind) -> bool:
        return any(action.kind is kind for action in self.actions)


def limit_for(
    profile: CustomerProfile, rules: CreditRules, currency: str
) -> tuple[Money | None, LimitSource | None]:
    """The customer's limit: its profile's, else its segment's default in the ledger currency."""
    if profile.credit_limit is not None:
        return profile.credit_limit, LimitSource.PROFILE
    segment = rules.segment_limit(profile.segment, currency)
    return (segment, LimitSource.SEGMENT) if segment is not None else (None, None)


def used_percent(total: Money, limit: Money) -> Decimal | None:
    """Exposure as a percent of the limit, two decimals (None for a zero limit)."""
    if limit.amount <= 0:
        return None
    return (total.amount * 100 / limit.amount).quantize(Decimal("0.01"))


def evaluate_credit(
    *,
    exposure: Exposure,
    profile: CustomerProfile,
    rules: CreditRules,
    protected: bool,
    hold_present: bool,
    notice_delivered_at: datetime | None,
    state: CreditState,
    now: datetime,
    window_open: bool,
    hold_paused: str | None = None,
) -> CreditDecision:
    """Decide the customer's credit level and what is due now. Pure. `hold_paused` names why no
    credit_limit hold may stand now (an enforcement_off or promise_to_pay exemption)."""
    limit, source = limit_for(profile, rules, exposure.currency)
    new = state.model_copy(deep=True)
    new.limit, new.limit_source, new.updated_at = limit, source, now
    actions: list[CreditAction] = []
    reasons: list[str] = []
    total = exposure.total
    if limit is None or limit.currency != exposure.currency:
        why = (
            "no credit limit applies"
            if limit is None
            else f"the credit limit is in {limit.currency}; exposure is in {exposure.currency}"
        )
        reasons.append(why)
        _lift(actions, hold_present, f"{why}: the credit_limit hold is lifted")
        return _closed(new, actions, reasons)
    new.used_percent = used_percent(total, limit)
    shown = f"exposure {total.to_text()} of the limit {limit.to_text()} ({source.value if source else ''})"
    at_limit = total.amount > 0 and total.amount >= limit.amount
    near = total.amount > 0 and total.amount * 100 >= limit.amount * rules.alert_percent
    if not near:
        reasons.append(f"{shown}: under {rules.alert_percent}%")
        _lift(actions, hold_present, f"{shown}: under the limit, the credit_limit hold is lifted")
        return _closed(new, actions, reasons)
    if new.episode_id is None:
        new.episode_id = f"cr{now:%Y%m%d%H%M%S}"
        reasons.append(f"credit episode {new.episode_id} started")
    if not at_limit:
        new.level = CreditLevel.THRESHOLD
        reasons.append(f"{shown}: at or over {rules.alert_percent}% of the limit")
        if new.told_level is CreditLevel.NONE:
            actions.append(
                CreditAction(kind=CreditActionKind.TELL_THRESHOLD, reason=f"{shown}: finance is told")
            )
            new.told_level = CreditLevel.THRESHOLD
        _lift(actions, hold_present, f"{shown}: under the limit, the credit_limit hold is lifted")
        new.would_hold_since = None
        return CreditDecision(level=new.level, actions=actions, new_state=new, reasons=reasons)
    new.level = CreditLevel.LIMIT
    reasons.append(f"{shown}: at or over the limit")
    if new.told_level is not CreditLevel.LIMIT:
        actions.append(CreditAction(kind=CreditActionKind.TELL_LIMIT, reason=f"{shown}: finance is told"))
        new.told_level = CreditLevel.LIMIT
    if protected:
        reasons.append("protected customer: no credit notice and no credit_limit hold")
        _lift(actions, hold_present, "protected customer: the credit_limit hold is lifted")
        return CreditDecision(level=new.level, actions=actions, new_state=new, reasons=reasons)
    if new.notice_id is None:
        if window_open:
            new.notice_id = f"credit-{new.episode_id}"
            actions.append(
                CreditAction(kind=CreditActionKind.SEND_NOTICE, reason=f"{shown}: the customer is told")
            )
        else:
            reasons.append("the credit notice waits for the enforcement window")
    if hold_paused is not None:
        reasons.append(f"{hold_paused}: no credit_limit hold")
        _lift(actions, hold_present, f"{hold_paused}: the credit_limit hold is lifted")
        return CreditDecision(level=new.level, actions=actions, new_state=new, reasons=reasons)
    if not rules.holds_at_limit(profile.segment) or hold_present:
        if not hold_present:
            reasons.append("the policy places no credit_limit hold for this segment")
        return CreditDecision(level=new.level, actions=actions, new_state=new, reasons=reasons)
    wait = timedelta(days=rules.hold_after_notice_days)
    if wait and (notice_delivered_at is None or now < notice_delivered_at + wait):
        reasons.append(
            f"the credit_limit hold waits {rules.hold_after_notice_days} day(s) after the notice is delivered"
            + ("" if notice_delivered_at is None else f" ({notice_delivered_at:%Y-%m-%d %H:%M} UTC)")
        )
    elif wait == timedelta(0) and new.notice_id is None:
        reasons.append("the credit_limit hold waits for the notice (enforcement window)")
    elif not window_open:
        reasons.append("the credit_limit hold waits for the enforcement window")
    else:
        actions.append(
            CreditAction(kind=CreditActionKind.PLACE_HOLD, reason=f"{shown}: the credit_limit hold is placed")
        )
    return CreditDecision(level=new.level, actions=actions, new_state=new, reasons=reasons)


def _lift(actions: list[CreditAction], hold_present: bool, reason: str) -> None:
    if hold_present:
        actions.append(CreditAction(kind=CreditActionKind.LIFT_HOLD, reason=reason))


def _closed(new: CreditState, actions: list[CreditAction], reasons: list[str]) -> CreditDecision:
    """Under the threshold: the episode ends, so a later rise is told again."""
    if new.episode_id is not None:
        reasons.append(f"credit episode {new.episode_id} closed")
    closed = CreditState(
        limit=new.limit,
        limit_source=new.limit_source,
        used_percent=new.used_percent,
        updated_at=new.updated_at,
    )
    return CreditDecision(level=CreditLevel.NONE, actions=actions, new_state=closed, reasons=reasons)
