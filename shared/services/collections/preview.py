"""What the next scan would do for each due customer, and why: the same index and evaluation as
the scan (and the same cap), read only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.domain.collections import ActionKind
from shared.domain.policy import Policy
from shared.services.collections.cap import CapGate
from shared.services.collections.decision import decide
from shared.services.collections.deps import CollectionsDeps
from shared.settings import EnforcementMode


class PreviewItem(BaseModel):
    customer_id: str
    stage: str
    days_past_due: int
    actions: list[str]
    reasons: list[str]
    next_review_at: datetime | None
    held_back_by_cap: bool = False


class Preview(BaseModel):
    at: datetime
    policy_version: str
    enforcement_mode: EnforcementMode
    due: int
    cap: int
    customers: list[PreviewItem] = Field(default_factory=list)


def preview(deps: CollectionsDeps, policy: Policy, now: datetime | None = None) -> Preview:
    """What the next scan would do for each due customer, and why. Reads only; writes nothing."""
    now = now or deps.clock.now()
    due = list(deps.schedule.due(now, limit=deps.settings.scan_max_customers))
    gate = CapGate.for_scan(policy, len(due), "preview")
    result = Preview(
        at=now,
        policy_version=policy.version,
        enforcement_mode=deps.settings.enforcement_mode,
        due=len(due),
        cap=gate.limit,
    )
    for entry in due:
        aggregate = deps.customers.load(entry.customer_id)
        if not aggregate.exists:
            continue
        planned = aggregate.collections.next_review_at
        if planned is not None and planned > now:
            continue
        decision = decide(aggregate, policy, now)
        places = any(a.kind is ActionKind.PLACE_HOLD for a in decision.actions)
        held = places and (
            aggregate.collections.held_back_batch is not None or not gate.admit(entry.customer_id)
        )
        result.customers.append(
            PreviewItem(
                customer_id=entry.customer_id,
                stage=decision.stage.value,
                days_past_due=decision.days_past_due,
                actions=[f"{a.kind.value}:{a.stage.value}" for a in decision.actions],
                reasons=decision.reasons,
                next_review_at=decision.next_review_at,
                held_back_by_cap=held,
            )
        )
    return result
