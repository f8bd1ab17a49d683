"""Manual holds and exemptions (`POST/DELETE .../holds`, `POST/PATCH/DELETE .../exemptions`).

An exemption lasts at most the policy's maximum for its kind (`[exemptions]`); it can be
shortened or revoked at any time, each change audited and followed by a re-evaluation."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.adapters.customers import CustomerAggregate
from shared.adapters.layout import PROFILE_ROW, exemption_row, hold_row
from shared.adapters.tables import Stored
from shared.domain.changes import ChangeKind, PendingChange, exemption_needs_four_eyes, exemption_texts
from shared.domain.customer import Exemption, ExemptionKind
from shared.domain.holds import Hold, HoldReason
from shared.domain.identity import Actor
from shared.domain.ledger import LATEST_DATE
from shared.domain.policy import Policy
from shared.domain.text import MultiLineText, with_article
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.services.collections.customer_change import (
    AuditNote,
    Mutation,
    RowDelete,
    RowWrite,
    mutate_customer,
    stage_in_memory,
)
from shared.services.collections.customer_view import valid_customer_id
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.pending import ask
from shared.services.outcomes import Effect, Written


class ManualHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HoldReason = HoldReason.MANUAL
    reason: MultiLineText = Field(min_length=1, max_length=2000)


def place_manual_hold(
    deps: CollectionsDeps, customer_id: str, body: ManualHoldIn, *, actor: Actor, correlation_id: str
) -> Written[Hold]:
    """A manual hold (created); only `manual` can be placed here. A reconcile message follows."""
    if body.kind is not HoldReason.MANUAL:
        raise ValidationFailed(
            "only manual holds are placed here (non_payment comes from the policy, fraud from a case)",
            errors=[{"field": "kind", "message": "must be manual"}],
        )
    customer_id = valid_customer_id(customer_id)

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[Hold]:
        hold = Hold(
            hold_id=f"manual-{uuid.uuid4().hex[:12]}",
            reason=HoldReason.MANUAL,
            placed_at=now,
            placed_by=actor.label,
            placed_by_id=actor.id,
            note=body.reason,
            correlation_id=correlation_id,
        )
        stage_in_memory(hold, agg)
        return Mutation(
            hold,
            Effect.CREATED,
            rows=[RowWrite(hold, hold_row(hold.hold_id))],
            notes=[AuditNote("hold.placed", body.reason, {"hold_id": hold.hold_id, "reason": "manual"})],
            reconcile_reason="manual hold placed",
        )

    return mutate_customer(deps, customer_id, prepare, actor=actor, correlation_id=correlation_id)


def lift_manual_hold(
    deps: CollectionsDeps, customer_id: str, hold_id: str, *, actor: Actor, correlation_id: str
) -> Written[None]:
    """Lift a manual hold (removed); other holds are lifted by payment or by resolving their case."""
    customer_id = valid_customer_id(customer_id)

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[None]:
        stored = agg.holds.get(hold_id)
        if stored is None:
            gone = f"customer {customer_id} has no hold {hold_id}: it was lifted already, or never placed"
            raise NotFound(
                gone,
                localized={
                    "en": gone,
                    "zh-CN": f"客户 {customer_id} 没有冻结 {hold_id}：已经解除，或从未设置",
                },
            )
        if stored.value.reason is not HoldReason.MANUAL:
            raise Conflict(
                f"hold {hold_id} is {with_article(stored.value.reason.value)} hold; only manual holds are "
                "lifted here"
            )
        del agg.holds[hold_id]
        note = AuditNote(
            "hold.lifted", f"manual hold {hold_id} lifted", {"hold_id": hold_id, "reason": "manual"}
        )
        return Mutation(
            None,
            Effect.REMOVED,
            deletes=[RowDelete(hold_row(hold_id), stored.etag)],
            notes=[note],
            reconcile_reason="manual hold lifted",
        )

    return mutate_customer(deps, customer_id, prepare, actor=actor, correlation_id=correlation_id)


class ExemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ExemptionKind
    until: date = Field(le=LATEST_DATE, description="The last day (inclusive, policy time zone).")
    reason: MultiLineText = Field(min_length=1, max_length=2000)


def add_exemption(
    deps: CollectionsDeps, customer_id: str, body: ExemptionIn, *, actor: Actor, correlation_id: str
) -> Written[Exemption] | Written[PendingChange]:
    """Promise to pay / enforcement off until a date (created); may lift the non_payment hold at
    once. Under four-eyes (an `enforcement_off`, or a promise longer than the policy's short
    limit) it waits as a pending change for a second person instead (pending)."""
    customer_id = valid_customer_id(customer_id)
    policy = deps.policy_for_request()
    today = policy.calendar().local_date(deps.clock.now())
    _check_until(body.until, body.kind, today, policy)
    if exemption_needs_four_eyes(policy.four_eyes, body.kind, body.until, today):
        if deps.customers.table.get_raw(customer_id, PROFILE_ROW) is None:
            raise NotFound(f"customer {customer_id} is unknown: PUT /api/customers/{customer_id} first")
        summary, why = exemption_texts(body.kind, body.until, policy.four_eyes)
        kind = (
            ChangeKind.ENFORCEMENT_OFF
            if body.kind is ExemptionKind.ENFORCEMENT_OFF
            else ChangeKind.PROMISE_TO_PAY
        )
        change = ask(
            deps,
            kind,
            actor=actor,
            policy=policy,
            summary=summary,
            why=why,
            correlation_id=correlation_id,
            customer_id=customer_id,
            payload=body.model_dump(mode="json"),
        )
        return Written(change, Effect.PENDING)
    return write_exemption(deps, customer_id, body, actor=actor, correlation_id=correlation_id)


def write_exemption(
    deps: CollectionsDeps,
    customer_id: str,
    body: ExemptionIn,
    *,
    actor: Actor,
    correlation_id: str,
    approved: PendingChange | None = None,
) -> Written[Exemption]:
    """Store the exemption (created). `approved`: the four-eyes change it carries out, whose
    requester is recorded as its author and `actor` as its approver (applying the same change
    twice finds the exemption in place: unchanged)."""
    policy = deps.policy_for_request()
    calendar = policy.calendar()

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[Exemption]:
        # `until` is a local date of the policy's time zone, as the evaluation reads it.
        _check_until(body.until, body.kind, calendar.local_date(now), policy)
        exemption_id = approved.change_id if approved else uuid.uuid4().hex[:12]
        existing = agg.exemptions.get(exemption_id)
        if existing is not None:
            return Mutation(existing.value, Effect.UNCHANGED)
        author = approved.requested_by if approved else actor.ref
        exemption = Exemption(
            exemption_id=exemption_id,
            kind=body.kind,
            until=body.until,
            reason=body.reason,
            created_at=now,
            created_by=author.name,
            created_by_id=author.id,
            change_id=approved.change_id if approved else None,
            approved_by=actor.label if approved else None,
            approved_by_id=actor.id if approved else None,
        )
        stage_in_memory(exemption, agg)
        details: dict[str, Any] = {"kind": body.kind.value, "until": body.until.isoformat()}
        if approved:
            details |= {"change_id": approved.change_id, "requested_by": author.model_dump(mode="json")}
        return Mutation(
            exemption,
            Effect.CREATED,
            rows=[RowWrite(exemption, exemption_row(exemption.exemption_id))],
            notes=[AuditNote("exemption.added", body.reason, details)],
        )

    return mutate_customer(deps, customer_id, prepare, actor=actor, correlation_id=correlation_id)


def _check_until(until: date, kind: ExemptionKind, today: date, policy: Policy) -> None:
    """An exemption ends today or later, and no later than the policy's maximum for its kind."""
    if until < today:
        raise ValidationFailed(
            "until is in the past", errors=[{"field": "until", "message": "must be today or later"}]
        )
    limit = policy.exemptions.max_days(kind.value)
    latest = today + timedelta(days=limit)
    if until > latest:
        message = (
            f"{with_article(kind.value)} exemption lasts at most {limit} days under the collections policy: "
            f"until must be {latest.isoformat()} or earlier"
        )
        raise ValidationFailed(message, errors=[{"field": "until", "message": message}])


class ExemptionPatch(BaseModel):
    """`PATCH .../exemptions/{exemption_id}`: an earlier end date, and why."""

    model_config = ConfigDict(extra="forbid")

    until: date = Field(
        le=LATEST_DATE, description="The new last day: today or later, before the current one."
    )
    reason: MultiLineText = Field(min_length=1, max_length=2000)


def shorten_exemption(
    deps: CollectionsDeps,
    customer_id: str,
    exemption_id: str,
    body: ExemptionPatch,
    *,
    actor: Actor,
    correlation_id: str,
) -> Written[Exemption]:
    """End an exemption earlier (updated; the same date again: unchanged); re-evaluates at once."""
    customer_id = valid_customer_id(customer_id)
    calendar = deps.policy_for_request().calendar()

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[Exemption]:
        stored = _exemption(agg, customer_id, exemption_id)
        current = stored.value
        if body.until == current.until:
            return Mutation(current, Effect.UNCHANGED)
        today = calendar.local_date(now)
        if body.until < today:
            raise ValidationFailed(
                "until is in the past: to end the exemption now, DELETE it",
                errors=[{"field": "until", "message": "must be today or later"}],
            )
        if body.until > current.until:
            message = (
                f"an exemption can only be shortened (it ends {current.until.isoformat()}); "
                "grant a new one to extend it, within the policy's maximum"
            )
            raise ValidationFailed(message, errors=[{"field": "until", "message": message}])
        shortened = current.model_copy(update={"until": body.until})
        stage_in_memory(shortened, agg)
        details = {
            "exemption_id": exemption_id,
            "kind": current.kind.value,
            "until": body.until.isoformat(),
            "was_until": current.until.isoformat(),
        }
        return Mutation(
            shortened,
            Effect.UPDATED,
            rows=[RowWrite(shortened, exemption_row(exemption_id), stored.etag)],
            notes=[AuditNote("exemption.shortened", body.reason, details)],
        )

    return mutate_customer(deps, customer_id, prepare, actor=actor, correlation_id=correlation_id)


def revoke_exemption(
    deps: CollectionsDeps, customer_id: str, exemption_id: str, *, actor: Actor, correlation_id: str
) -> Written[None]:
    """Revoke an exemption (removed): enforcement resumes from the customer's re-evaluation."""
    customer_id = valid_customer_id(customer_id)

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[None]:
        stored = _exemption(agg, customer_id, exemption_id)
        del agg.exemptions[exemption_id]
        details = {
            "exemption_id": exemption_id,
            "kind": stored.value.kind.value,
            "until": stored.value.until.isoformat(),
        }
        note = AuditNote("exemption.revoked", f"{stored.value.kind.value} exemption revoked", details)
        return Mutation(
            None, Effect.REMOVED, deletes=[RowDelete(exemption_row(exemption_id), stored.etag)], notes=[note]
        )

    return mutate_customer(deps, customer_id, prepare, actor=actor, correlation_id=correlation_id)


def _exemption(agg: CustomerAggregate, customer_id: str, exemption_id: str) -> Stored[Exemption]:
    stored = agg.exemptions.get(exemption_id)
    if stored is None:
        raise NotFound(f"customer {customer_id} has no exemption {exemption_id}")
    return stored
