"""What the policy will do to one customer if nothing changes: `evaluate()` run forward in time.

Pure. From `now`, evaluate the customer, carry its decision out in memory (the new state, the
`non_payment` hold placed or lifted), jump to the decision's next review and evaluate again,
until the horizon or until nothing is pending. It is the same evaluation the scan runs, so the
forecast cannot disagree with the rules; it only assumes that nothing changes: no payment, no new
invoice, no exemption, every scan on time, and every notice delivered when it is decided (a
warning already decided but not yet delivered is taken as delivered now).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shared.domain.collections import ActionKind, CollectionsState, evaluate
from shared.domain.customer import CustomerProfile, Exemption
from shared.domain.holds import NON_PAYMENT_HOLD_ID, Hold, HoldReason
from shared.domain.ledger import Invoice, Payment, summarise
from shared.domain.policy import Policy, Stage

MAX_STEPS = 40  # every stage and window opening of a long horizon fits well within this


@dataclass(frozen=True)
class ForecastAction:
    """One action the policy would take, when, and (a warning) the suspension date it names."""

    at: datetime
    kind: ActionKind
    stage: Stage
    suspension_date: date | None = None


def forecast(
    policy: Policy,
    profile: CustomerProfile,
    invoices: Sequence[Invoice],
    payments: Sequence[Payment],
    holds: Sequence[Hold],
    exemptions: Sequence[Exemption],
    state: CollectionsState,
    now: datetime,
    until: datetime,
    *,
    customer_id: str | None = None,
) -> list[ForecastAction]:
    """The actions from `now` up to `until` (inclusive), in order."""
    calendar = policy.calendar()
    held = list(holds)
    if state.warning_sent_at is not None and state.warning_delivered_at is None:
        state = state.model_copy(update={"warning_delivered_at": now})
    planned: list[ForecastAction] = []
    moment: datetime | None = now
    for _ in range(MAX_STEPS):
        if moment is None or moment > until:
            break
        ledger = summarise(list(invoices), list(payments), None, calendar.local_date(moment))
        decision = evaluate(
            policy, profile, ledger, held, list(exemptions), state, moment, customer_id=customer_id
        )
        for action in decision.actions:
            named = action.notice.suspension_date if action.notice and action.stage is Stage.WARNING else None
            planned.append(ForecastAction(moment, action.kind, action.stage, named))
            if action.kind is ActionKind.PLACE_HOLD:
                held.append(
                    Hold(
                        hold_id=NON_PAYMENT_HOLD_ID,
                        reason=HoldReason.NON_PAYMENT,
                        placed_at=moment,
                        placed_by="forecast",
                    )
                )
            elif action.kind is ActionKind.LIFT_HOLD:
                held = [h for h in held if h.reason is not HoldReason.NON_PAYMENT]
        state = decision.new_state
        if state.warning_sent_at is not None and state.warning_delivered_at is None:
            state = state.model_copy(update={"warning_delivered_at": state.warning_sent_at})
        nxt = decision.next_review_at
        moment = nxt if nxt is not None and nxt > moment else None
    return planned


def planned_suspension(actions: Sequence[ForecastAction]) -> datetime | None:
    """When the forecast places the `non_payment` hold, if it does."""
    return next((a.at for a in actions if a.kind is ActionKind.PLACE_HOLD), None)
