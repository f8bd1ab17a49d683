"""The due index: which customers need a review, keyed by time, so a scan costs O(due).

Table `schedule`: PartitionKey = the UTC hour bucket of the review time (`yyyyMMddHH`), RowKey =
customer id, `due_at` = the exact review time. Reading "due now" is one range query over the
buckets up to the current hour with `due_at le now`; the customers table is never scanned.

The index is a hint, not the truth: the customer's state row says when its real next review is.
An entry may be stale (the customer was re-evaluated by a payment and rescheduled); the scan
then tolerates it, drops it and makes sure the real entry exists. Entries are written BEFORE the
customer's transaction that needs them and deleted AFTER it, so a crash leaves an extra entry
(harmless), never a customer without one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel

from shared.adapters.layout import SCHEDULE_TABLE
from shared.adapters.tables import ConcurrencyConflict, Table, TableStore, decode


def hour_bucket(when: datetime) -> str:
    """The partition of a review time: its UTC hour as `yyyyMMddHH`."""
    if when.tzinfo is None:
        raise ValueError("review times are aware datetimes")
    return when.astimezone(UTC).strftime("%Y%m%d%H")


class ScheduleEntry(BaseModel):
    """One pending review."""

    due_at: datetime


@dataclass(frozen=True)
class DueCustomer:
    """A customer whose review time has come, with the index entry that said so."""

    customer_id: str
    due_at: datetime
    bucket: str
    etag: str = ""


class ScheduleIndex:
    """Reads and moves the due index; counts the entities it reads (for the benchmark)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.entities_read = 0
        self._lock = threading.Lock()

    @classmethod
    def of(cls, store: TableStore) -> ScheduleIndex:
        return cls(store.table(SCHEDULE_TABLE))

    def due(self, now: datetime, limit: int | None = None) -> Iterator[DueCustomer]:
        """Entries due at or before `now`, oldest bucket first (at most `limit`)."""
        entities = self.table.query(
            "PartitionKey le @bucket and due_at le @now",
            {"bucket": hour_bucket(now), "now": now.astimezone(UTC)},
        )
        count = 0
        for entity in entities:
            with self._lock:
                self.entities_read += 1
            stored = decode(ScheduleEntry, entity)
            yield DueCustomer(stored.row_key, stored.value.due_at, stored.partition_key, stored.etag)
            count += 1
            if limit is not None and count >= limit:
                return

    def put(self, customer_id: str, due_at: datetime) -> None:
        """Make sure an entry for (customer, due_at) exists (idempotent)."""
        self.table.upsert(ScheduleEntry(due_at=due_at), hour_bucket(due_at), customer_id)

    def remove(self, customer_id: str, due_at: datetime, etag: str | None = None) -> None:
        """Drop the entry for (customer, due_at), only if it still says `due_at`.

        A concurrent change may have rewritten the same key (same hour) for a new review time:
        that entry is someone else's and stays. Missing is fine (another scan moved it).
        """
        bucket = hour_bucket(due_at)
        if etag is None:
            stored = self.table.get(ScheduleEntry, bucket, customer_id)
            if stored is None or stored.value.due_at != due_at:
                return
            etag = stored.etag
        try:
            self.table.delete(bucket, customer_id, etag=etag)
        except ConcurrencyConflict:
            return

    def move(
        self,
        customer_id: str,
        old: datetime | None,
        new: datetime | None,
        keep: datetime | None = None,
        old_etag: str | None = None,
    ) -> None:
        """Write the new entry first, then drop the old one (never a moment with neither).

        `keep`: an entry already written elsewhere that the old one must not be confused with;
        `old_etag`: the old entry's ETag when it was read (saves a read).
        """
        if new is not None:
            self.put(customer_id, new)
        current = new or keep
        if old is not None and (current is None or hour_bucket(old) != hour_bucket(current)):
            self.remove(customer_id, old, old_etag)
