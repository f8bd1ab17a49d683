"""The evaluation of what is stored for one customer: the pure `evaluate()` over its aggregate."""

from __future__ import annotations

from datetime import datetime

from shared.adapters.customers import CustomerAggregate
from shared.domain.collections import CollectionsState, Decision, LedgerSummary, Stage, evaluate
from shared.domain.holds import Hold
from shared.domain.ledger import summarise
from shared.domain.policy import Policy


def ledger_summary(aggregate: CustomerAggregate, policy: Policy, now: datetime) -> LedgerSummary:
    """Balances and the oldest unpaid due date, on the policy's local date."""
    today = policy.calendar().local_date(now)
    invoices = [s.value for s in aggregate.invoices.values()]
    payments = [s.value for s in aggregate.payments.values()]
    return summarise(invoices, payments, None, today)


def decide(
    aggregate: CustomerAggregate,
    policy: Policy,
    now: datetime,
    *,
    holds: list[Hold] | None = None,
    state: CollectionsState | None = None,
) -> Decision:
    """What the policy decides for what is stored (and staged in memory) for this customer.
    Dry run's shadow passes its own would-be `holds` and `state` (`shadow.py`)."""
    assert aggregate.profile is not None
    state = with_delivery(aggregate, state if state is not None else aggregate.collections.state)
    return evaluate(
        policy,
        aggregate.profile.value,
        ledger_summary(aggregate, policy, now),
        holds if holds is not None else [s.value for s in aggregate.holds.values()],
        [s.value for s in aggregate.exemptions.values()],
        state,
        now,
        customer_id=aggregate.customer_id,
    )


def notice_id_for(episode_id: str | None, stage: Stage) -> str:
    """One notice per stage per overdue episode: the row key says which."""
    return f"{episode_id or 'none'}:{stage.value}"


def with_delivery(aggregate: CustomerAggregate, state: CollectionsState) -> CollectionsState:
    """The state with its warning's delivery time, from the warning's notice row (the notice
    sender marks the row when the webhook or the mail server accepted it)."""
    if state.warning_delivered_at is not None or Stage.WARNING.value not in state.notices_sent:
        return state
    stored = aggregate.notices.get(notice_id_for(state.episode_id, Stage.WARNING))
    if stored is None or not stored.value.delivered or stored.value.delivered_at is None:
        return state
    return state.model_copy(update={"warning_delivered_at": stored.value.delivered_at})
