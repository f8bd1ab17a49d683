"""What the next scan would do for each due customer, and why: the same index and evaluation as
the scan (and the same cap), read only. In dry run it evaluates the shadow, so it shows what
enforce would do now (`shadow.py`); what lies further ahead is the forecast (`forecast.py`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.domain.collections import ActionKind
from shared.domain.identity import Actor
from shared.domain.policy import Policy
from shared.services.collections import rollout
from shared.services.collections.actions import CommitContext
from shared.services.collections.cap import CapGate
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.shadow import decide_for_mode
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
    epoch = rollout.current_epoch(deps) if deps.dry_run else 0
    ctx = CommitContext(
        policy=policy, now=now, actor=Actor.system("preview"), correlation_id="preview", mode_epoch=epoch
    )
    for entry in due:
        aggregate = deps.customers.load(entry.customer_id)
        if not aggregate.exists:
            continue
        decision, _, shadow = decide_for_mode(deps.dry_run, aggregate, ctx)
        planned = shadow.next_review_at if shadow is not None else aggregate.collections.next_review_at
        if planned is not None and planned > now:
            continue  # a stale entry: the scan skips it too
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
