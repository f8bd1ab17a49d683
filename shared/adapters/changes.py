"""Pending four-eyes changes in the `changes` table, one partition (`changes`) for all.

Rows, all in that one partition so that a change and its index rows are ONE transaction:
- `change:{change_id}`: the change;
- `status:{status}:{change_id}`: a copy, the index by status (the pending list reads only these);
- `customer:{customer_id}:{change_id}`: a copy, the index by customer;
- `open:{dedupe}`: the open change for one subject and request (the same request twice while it
  waits joins the first instead of asking twice; cleared when the change is decided).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import BaseModel

from shared.adapters.tables import ConcurrencyConflict, Stored, Table, TableStore, decode
from shared.domain.changes import ChangeStatus, PendingChange

CHANGES_TABLE = "changes"
PARTITION = "changes"


class OpenChange(BaseModel):
    change_id: str


def change_row(change_id: str) -> str:
    return f"change:{change_id}"


def status_row(status: ChangeStatus, change_id: str) -> str:
    return f"status:{status.value}:{change_id}"


def customer_row(customer_id: str, change_id: str) -> str:
    return f"customer:{customer_id}:{change_id}"


def dedupe_key(change: PendingChange) -> str:
    """The open-change pointer of a request: its kind, its subject and what it asks for."""
    subject = change.customer_id or change.batch_id or "-"
    asked = json.dumps(change.payload, sort_keys=True, default=str)
    return f"open:{change.kind.value}:{subject}:{hashlib.sha256(asked.encode()).hexdigest()[:16]}"


class ChangeStore:
    """Reads and writes pending changes; every write is one entity-group transaction."""

    def __init__(self, table: Table) -> None:
        self.table = table

    @classmethod
    def of(cls, store: TableStore) -> ChangeStore:
        return cls(store.table(CHANGES_TABLE))

    def get(self, change_id: str) -> Stored[PendingChange] | None:
        return self.table.get(PendingChange, PARTITION, change_row(change_id))

    def create(self, change: PendingChange) -> tuple[PendingChange, bool]:
        """Store a new change with its index rows and open pointer; (the change, created). An
        open change asking the same is returned instead (created False)."""
        pointer_key = dedupe_key(change)
        for _ in range(3):
            tx = self.table.transaction(PARTITION)
            tx.create(change, change_row(change.change_id))
            tx.create(change, status_row(change.status, change.change_id))
            if change.customer_id:
                tx.create(change, customer_row(change.customer_id, change.change_id))
            tx.create(OpenChange(change_id=change.change_id), pointer_key)
            try:
                tx.submit()
                return change, True
            except ConcurrencyConflict:
                pointer = self.table.get(OpenChange, PARTITION, pointer_key)
                existing = self.get(pointer.value.change_id) if pointer else None
                if existing is not None and existing.value.status.open:
                    return existing.value, False
                if pointer is not None:  # a decided change left its pointer (a crash): clear it
                    try:
                        self.table.delete(PARTITION, pointer_key, etag=pointer.etag)
                    except ConcurrencyConflict:
                        pass
        raise ConcurrencyConflict("the open-change pointer kept changing")

    def save(self, before: Stored[PendingChange], after: PendingChange) -> PendingChange:
        """Replace the change under its ETag, moving its index rows in the same transaction;
        ConcurrencyConflict when it changed since it was read."""
        old = before.value
        tx = self.table.transaction(PARTITION)
        tx.update(after, change_row(after.change_id), before.etag)
        if old.status is not after.status:
            tx.delete(status_row(old.status, old.change_id))
            tx.create(after, status_row(after.status, after.change_id))
        else:
            tx.upsert(after, status_row(after.status, after.change_id))
        if after.customer_id:
            tx.upsert(after, customer_row(after.customer_id, after.change_id))
        if not after.status.open:
            pointer = self.table.get(OpenChange, PARTITION, dedupe_key(after))
            if pointer is not None and pointer.value.change_id == after.change_id:
                tx.delete(pointer.row_key, etag=pointer.etag)
        tx.submit()
        return after

    def page(
        self,
        status: ChangeStatus | None,
        customer_id: str | None,
        limit: int,
        resume: dict[str, str] | None,
    ) -> tuple[list[PendingChange], dict[str, str] | None]:
        """One page, oldest first: by status (its index rows), or one customer's (its index
        rows, filtered by status in the same query)."""
        if customer_id:
            prefix = f"customer:{customer_id}:"
        else:
            prefix = f"status:{(status or ChangeStatus.PENDING).value}:"
        query = "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high"
        params: dict[str, object] = {"pk": PARTITION, "low": prefix, "high": prefix[:-1] + ";"}
        if customer_id and status is not None:
            query += " and status eq @status"
            params["status"] = status.value
        entities, resume_at = self.table.page(query, params, limit, resume)
        return [decode(PendingChange, e).value for e in entities], resume_at


def is_expired(change: PendingChange, now: datetime) -> bool:
    return change.status is ChangeStatus.PENDING and now >= change.expires_at
