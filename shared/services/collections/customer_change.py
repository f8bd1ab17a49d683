"""One change to one customer: read, stage rows, re-evaluate, commit in ONE transaction, publish.

Every ledger use case (invoices, payments, profile, holds, exemptions, CSV import) goes through
`mutate_customer`, so each change re-evaluates the customer in the same transaction and
reschedules its next review; a conflict re-reads and prepares the change again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared import clock, runtime
from shared.adapters.audit import AuditEntry
from shared.adapters.customers import CustomerAggregate, CustomerChange, CustomerRepository
from shared.adapters.layout import PROFILE_ROW
from shared.adapters.tables import ConcurrencyConflict, Stored
from shared.domain.customer import CustomerId, Exemption, StoredProfile
from shared.domain.holds import Hold
from shared.domain.ledger import Invoice, Payment
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.services.collections.commit import Commit, commit_decision, move_schedule, publish_outbox
from shared.services.collections.scan import policy_for_request

MAX_ATTEMPTS = 5


@dataclass
class Mutation:
    """What a use case wants written (rows + audit), or `replay` when nothing changes."""

    rows: list[tuple[BaseModel, str, str | None]] = field(default_factory=list)  # model, row, etag
    deletes: list[tuple[str, str]] = field(default_factory=list)  # row, etag
    entries: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # action, reason, details
    reconcile_reason: str | None = None
    replay: bool = False


@dataclass
class Result:
    status: int
    body: Any


def valid_customer_id(value: str) -> str:
    try:
        return _CustomerIdModel(customer_id=value).customer_id
    except ValueError:
        raise ValidationFailed(
            "customer_id must be a GUID", errors=[{"field": "customer_id", "message": "not a GUID"}]
        ) from None


class _CustomerIdModel(BaseModel):
    customer_id: CustomerId


def mutate_customer(
    customer_id: str,
    prepare: Callable[[CustomerAggregate, datetime], Mutation],
    respond: Callable[[CustomerAggregate, Mutation], Result],
    *,
    actor: str,
    correlation_id: str,
    require_customer: bool = True,
) -> Result:
    """Read, prepare, evaluate and commit in one transaction; retry from the read on a conflict."""
    policy = policy_for_request()
    repo = CustomerRepository.of(runtime.table_store())
    for _ in range(MAX_ATTEMPTS):
        now = clock.now()
        aggregate = repo.load(customer_id)
        if require_customer and not aggregate.exists:
            raise NotFound(f"customer {customer_id} is unknown: PUT /api/customers/{customer_id} first")
        old_review = aggregate.collections.next_review_at
        mutation = prepare(aggregate, now)
        if mutation.replay:
            return respond(aggregate, mutation)

        def stage(change: CustomerChange, m: Mutation = mutation) -> None:
            for model, row, etag in m.rows:
                change.put(model, row, etag)
            for row, etag in m.deletes:
                change.delete(row, etag)

        entries = [
            AuditEntry(
                at=now,
                actor=actor,
                action=action,
                reason=reason,
                correlation_id=correlation_id,
                policy_version=policy.version,
                details=details,
            )
            for action, reason, details in mutation.entries
        ]
        commit = Commit(
            policy=policy,
            now=now,
            actor=actor,
            correlation_id=correlation_id,
            stage_rows=stage,
            entries=entries,
            reconcile_reason=mutation.reconcile_reason,
            defer_suspension=True,
        )
        try:
            outcome = commit_decision(repo, aggregate, commit)
        except ConcurrencyConflict:
            continue
        publish_outbox(repo, outcome)
        move_schedule(customer_id, old_review, outcome.next_review_at, new_written=True)
        return respond(aggregate, mutation)
    raise Conflict("the customer changed repeatedly while this request was applied; retry it")


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
