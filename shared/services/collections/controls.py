"""Manual holds and exemptions (`POST/DELETE .../holds`, `POST .../exemptions`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.customers import CustomerAggregate
from shared.adapters.layout import exemption_row, hold_row
from shared.domain.customer import Exemption, ExemptionKind
from shared.domain.holds import Hold, HoldReason
from shared.domain.ledger import LATEST_DATE
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.services.collections.customer_change import (
    Mutation,
    Result,
    mutate_customer,
    stage_in_memory,
    valid_customer_id,
)
from shared.services.collections.scan import policy_for_request


class ManualHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HoldReason = HoldReason.MANUAL
    reason: str = Field(min_length=1, max_length=2000)


def place_manual_hold(customer_id: str, body: ManualHoldIn, actor: str, correlation_id: str) -> Result:
    """A manual hold (201); only `manual` can be placed here. A reconcile message follows."""
    if body.kind is not HoldReason.MANUAL:
        raise ValidationFailed(
            "only manual holds are placed here (non_payment comes from the policy, fraud from a case)",
            errors=[{"field": "kind", "message": "must be manual"}],
        )
    customer_id = valid_customer_id(customer_id)
    holder: list[Hold] = []

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        hold = Hold(
            hold_id=f"manual-{uuid.uuid4().hex[:12]}",
            reason=HoldReason.MANUAL,
            placed_at=now,
            placed_by=actor,
            note=body.reason,
            correlation_id=correlation_id,
        )
        holder[:] = [hold]
        stage_in_memory(hold, agg)
        return Mutation(
            rows=[(hold, hold_row(hold.hold_id), None)],
            entries=[("hold.placed", body.reason, {"hold_id": hold.hold_id, "reason": "manual"})],
            reconcile_reason="manual hold placed",
        )

    return mutate_customer(
        customer_id, prepare, lambda a, m: Result(201, holder[0]), actor=actor, correlation_id=correlation_id
    )


def lift_manual_hold(customer_id: str, hold_id: str, actor: str, correlation_id: str) -> Result:
    """Lift a manual hold (204); other holds are lifted by payment or by resolving their case."""
    customer_id = valid_customer_id(customer_id)

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        stored = agg.holds.get(hold_id)
        if stored is None:
            raise NotFound(f"customer {customer_id} has no hold {hold_id}")
        if stored.value.reason is not HoldReason.MANUAL:
            raise Conflict(
                f"hold {hold_id} is a {stored.value.reason.value} hold; only manual holds are lifted here"
            )
        del agg.holds[hold_id]
        return Mutation(
            deletes=[(hold_row(hold_id), stored.etag)],
            entries=[
                ("hold.lifted", f"manual hold {hold_id} lifted", {"hold_id": hold_id, "reason": "manual"})
            ],
            reconcile_reason="manual hold lifted",
        )

    return mutate_customer(
        customer_id, prepare, lambda a, m: Result(204, None), actor=actor, correlation_id=correlation_id
    )


class ExemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ExemptionKind
    until: date = Field(le=LATEST_DATE, description="The last day (inclusive, policy time zone).")
    reason: str = Field(min_length=1, max_length=2000)


def add_exemption(customer_id: str, body: ExemptionIn, actor: str, correlation_id: str) -> Result:
    """Promise to pay / enforcement off until a date (201); may lift the non_payment hold at once."""
    customer_id = valid_customer_id(customer_id)
    calendar = policy_for_request().calendar()
    holder: list[Exemption] = []

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation:
        # `until` is a local date of the policy's time zone, as the evaluation reads it.
        if body.until < calendar.local_date(now):
            raise ValidationFailed(
                "until is in the past", errors=[{"field": "until", "message": "must be today or later"}]
            )
        exemption = Exemption(
            exemption_id=uuid.uuid4().hex[:12],
            kind=body.kind,
            until=body.until,
            reason=body.reason,
            created_at=now,
            created_by=actor,
        )
        holder[:] = [exemption]
        stage_in_memory(exemption, agg)
        return Mutation(
            rows=[(exemption, exemption_row(exemption.exemption_id), None)],
            entries=[
                ("exemption.added", body.reason, {"kind": body.kind.value, "until": body.until.isoformat()})
            ],
        )

    return mutate_customer(
        customer_id, prepare, lambda a, m: Result(201, holder[0]), actor=actor, correlation_id=correlation_id
    )
