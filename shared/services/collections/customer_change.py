"""One change to one customer: read, stage rows, re-evaluate, commit in ONE transaction, publish.

Every ledger use case (invoices, payments, profile, holds, exemptions, CSV import) goes through
`mutate_customer`, so each change re-evaluates the customer in the same transaction and
reschedules its next review; a conflict re-reads and prepares the change again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from shared.adapters.audit import AuditEntry
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.customers import CustomerAggregate, CustomerChange
from shared.adapters.layout import PROFILE_ROW
from shared.adapters.tables import Stored
from shared.domain.customer import Exemption, StoredProfile
from shared.domain.holds import Hold
from shared.domain.identity import Actor
from shared.domain.ledger import Invoice, Payment
from shared.errors import NotFound
from shared.services.collections import rollout
from shared.services.collections.actions import CommitContext
from shared.services.collections.commit import StagedChange, commit_change, move_schedule
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.outbox import publish_outbox
from shared.services.outcomes import Effect, Written

T = TypeVar("T")


@dataclass(frozen=True)
class AuditNote:
    """An audit entry a change asks for; the commit adds who, when, the policy and correlation."""

    action: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowWrite:
    """Create the row (etag None: it must not exist yet) or replace it under its ETag."""

    model: BaseModel
    row_key: str
    etag: str | None = None


@dataclass(frozen=True)
class RowDelete:
    row_key: str
    etag: str


@dataclass
class Mutation(Generic[T]):
    """What a use case wants written, and the value it answers with. `UNCHANGED`: the same
    request was applied before, nothing is written."""

    value: T
    effect: Effect
    rows: list[RowWrite] = field(default_factory=list)
    deletes: list[RowDelete] = field(default_factory=list)
    notes: list[AuditNote] = field(default_factory=list)
    reconcile_reason: str | None = None  # a hold changed: a reconcile must follow


def mutate_customer(
    deps: CollectionsDeps,
    customer_id: str,
    prepare: Callable[[CustomerAggregate, datetime], Mutation[T]],
    *,
    actor: Actor,
    correlation_id: str,
    require_customer: bool = True,
) -> Written[T]:
    """Read, prepare, evaluate and commit in one transaction; retry from the read on a conflict
    (`Contended` when it keeps losing). `prepare` may raise a refusal: nothing is written."""
    policy = deps.policy_for_request()
    epoch = rollout.observe_mode(deps, deps.clock.now()).epoch if deps.dry_run else 0

    def attempt() -> Written[T]:
        now = deps.clock.now()
        aggregate = deps.customers.load(customer_id)
        if require_customer and not aggregate.exists:
            raise NotFound(f"customer {customer_id} is unknown: PUT /api/customers/{customer_id} first")
        old_review = aggregate.collections.next_review_at
        mutation = prepare(aggregate, now)
        if mutation.effect is Effect.UNCHANGED:
            return Written(mutation.value, Effect.UNCHANGED)
        ctx = CommitContext(
            policy=policy, now=now, actor=actor, correlation_id=correlation_id, mode_epoch=epoch
        )
        entries = [
            AuditEntry(
                at=now,
                actor=actor,
                action=note.action,
                reason=note.reason,
                correlation_id=correlation_id,
                policy_version=policy.version,
                details=note.details,
            )
            for note in mutation.notes
        ]
        staged = StagedChange(
            stage_rows=lambda change: _stage(change, mutation),
            entries=entries,
            reconcile_reason=mutation.reconcile_reason,
        )
        result = commit_change(deps, aggregate, ctx, staged)
        publish_outbox(deps, result)
        move_schedule(deps, customer_id, old_review, result.next_review_at, new_written=True)
        return Written(mutation.value, mutation.effect)

    return retry_on_conflict(attempt, what=f"customer {customer_id}", key=customer_id)


def _stage(change: CustomerChange, mutation: Mutation[Any]) -> None:
    for write in mutation.rows:
        change.put(write.model, write.row_key, write.etag)
    for delete in mutation.deletes:
        change.delete(delete.row_key, delete.etag)


def stage_in_memory(model: BaseModel, aggregate: CustomerAggregate) -> None:
    """Put a staged row into the in-memory aggregate, so the evaluation sees it."""
    if isinstance(model, StoredProfile):
        aggregate.profile = Stored(model, aggregate.customer_id, PROFILE_ROW, "")
    elif isinstance(model, Invoice):
        aggregate.invoices[model.invoice_id] = Stored(model, aggregate.customer_id, "", "")
    elif isinstance(model, Payment):
        aggregate.payments[model.payment_id] = Stored(model, aggregate.customer_id, "", "")
    elif isinstance(model, Exemption):
        aggregate.exemptions[model.exemption_id] = Stored(model, aggregate.customer_id, "", "")
    elif isinstance(model, Hold):
        aggregate.holds[model.hold_id] = Stored(model, aggregate.customer_id, "", "")
