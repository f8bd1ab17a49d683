"""The evaluation of what is stored for one customer: the pure `evaluate()` over its aggregate."""

from __future__ import annotations

from datetime import datetime

from shared.adapters.customers import CustomerAggregate
from shared.domain.collections import Decision, LedgerSummary, Stage, evaluate
from shared.domain.ledger import summarise
from shared.domain.policy import Policy


def ledger_summary(aggregate: CustomerAggregate, policy: Policy, now: datetime) -> LedgerSummary:
    """Balances and the oldest unpaid due date, on the policy's local date."""
    today = policy.calendar().local_date(now)
    invoices = [s.value for s in aggregate.invoices.values()]
    payments = [s.value for s in aggregate.payments.values()]
    return summarise(invoices, payments, None, today)


def decide(aggregate: CustomerAggregate, policy: Policy, now: datetime) -> Decision:
    """What the policy decides for what is stored (and staged in memory) for this customer."""
    assert aggregate.profile is not None
    return evaluate(
        policy,
        aggregate.profile.value,
        ledger_summary(aggregate, policy, now),
        [s.value for s in aggregate.holds.values()],
        [s.value for s in aggregate.exemptions.values()],
        aggregate.collections.state,
        now,
        customer_id=aggregate.customer_id,
    )


def notice_id_for(episode_id: str | None, stage: Stage) -> str:
    """One notice per stage per overdue episode: the row key says which."""
    return f"{episode_id or 'none'}:{stage.value}"
