"""The due index: which customers need a review, keyed by time, so a scan costs O(due).

Table `schedule`: PartitionKey = the UTC hour bucket of the review time (`yyyyMMddHH`), RowKey =
customer id, `due_at` = the exact review time. Reading "due now" is one range query over the
buckets up to the current hour with `due_at le now`; the customers table is never scanned.

The index is a hint, not the truth: the customer's state row says when its real next review is.
An entry may be stale (the customer was re-evaluated by a payment and rescheduled); the scan
then tolerates it, drops it and makes sure the real entry exists. A customer is never without an
entry at or before its real next review: a ledger change writes the new entry BEFORE its
transaction (its old entry may lie in the future); the scan, which got there through an entry
that is due already, may write the new one AFTER the transaction, because the due entry stays
until then and brings the next scan back (which then finds it stale and moves it). Old entries
are dropped only once the new one is written. A crash leaves an extra entry (harmless).

`ScheduleBatch`: the scan's moves, written as one entity-group transaction per hour bucket (up
to 100 entries) instead of two calls per customer: every new entry first, then the old entries
of the customers whose new entry is in (ETag-guarded; one that fails sends its bucket's batch
back to one delete at a time, each tolerating a concurrent rewrite or a missing row).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from shared.adapters.layout import SCHEDULE_TABLE
from shared.adapters.tables import (
    MAX_TRANSACTION_OPERATIONS,
    ConcurrencyConflict,
    Table,
    TableStore,
    decode,
)

log = logging.getLogger(__name__)
V = TypeVar("V")


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

    def page(
        self, until: datetime, after: tuple[str, str] | None, limit: int
    ) -> tuple[list[DueCustomer], tuple[str, str] | None]:
        """At most `limit` entries due at or before `until`, in key order (hour bucket, then
        customer), starting after the key `after`; and the key to continue from (None: done).
        Reads at most limit + 1 entities: a page costs O(limit), whatever the index holds."""
        query = "PartitionKey le @bucket and due_at le @until"
        params: dict[str, object] = {"bucket": hour_bucket(until), "until": until.astimezone(UTC)}
        if after is not None:
            query = (
                "( PartitionKey gt @after_pk or ( PartitionKey eq @after_pk and RowKey gt @after_rk ) ) and "
                + query
            )
            params.update({"after_pk": after[0], "after_rk": after[1]})
        entries: list[DueCustomer] = []
        for entity in self.table.query(query, params, results_per_page=limit + 1):
            stored = decode(ScheduleEntry, entity)
            entries.append(
                DueCustomer(stored.row_key, stored.value.due_at, stored.partition_key, stored.etag)
            )
            if len(entries) > limit:
                break
        if len(entries) <= limit:
            return entries, None
        last = entries[limit - 1]
        return entries[:limit], (last.bucket, last.customer_id)

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


@dataclass(frozen=True)
class _Move:
    customer_id: str
    old: DueCustomer | None
    new: datetime | None


class ScheduleBatch:
    """Moves of many customers' entries, written per hour bucket (see the module docstring).

    Thread-safe: the scan's workers add moves; the scan flushes after each chunk of customers.
    """

    def __init__(self, index: ScheduleIndex) -> None:
        self.index = index
        self._moves: list[_Move] = []
        self._lock = threading.Lock()
        self.transactions = 0  # entity-group transactions sent (for the benchmark and the tests)

    def __len__(self) -> int:
        with self._lock:
            return len(self._moves)

    def move(self, customer_id: str, old: DueCustomer | None, new: datetime | None) -> None:
        """At the next flush: write the entry for `new` (if any), then drop `old` (if any)."""
        with self._lock:
            self._moves.append(_Move(customer_id, old, new))

    def flush(self) -> list[str]:
        """Write what was added: new entries, then old ones dropped. Returns the customers whose
        new entry could not be written (their old entry stays, so the next scan sees them)."""
        with self._lock:
            moves, self._moves = self._moves, []
        if not moves:
            return []
        # New entries, one per (bucket, customer); the earliest wins (an early review is harmless).
        puts: dict[tuple[str, str], datetime] = {}
        for m in moves:
            if m.new is not None:
                key = (hour_bucket(m.new), m.customer_id)
                if key not in puts or m.new < puts[key]:
                    puts[key] = m.new
        failed = self._write(puts)
        # Old entries: only of customers whose new entry is in, and not a key just rewritten.
        drops: dict[tuple[str, str], DueCustomer] = {}
        for m in moves:
            if m.old is None or m.customer_id in failed:
                continue
            key = (m.old.bucket, m.customer_id)
            if key not in puts:
                drops[key] = m.old
        self._drop(drops)
        return sorted(failed)

    def _write(self, puts: dict[tuple[str, str], datetime]) -> set[str]:
        failed: set[str] = set()
        for bucket, rows in _by_bucket(puts).items():
            for chunk in _chunks(rows):
                tx = self.index.table.transaction(bucket)
                for customer_id, due_at in chunk:
                    tx.upsert(ScheduleEntry(due_at=due_at), customer_id)
                try:
                    self.transactions += 1
                    tx.submit()
                    continue
                except Exception:  # noqa: BLE001 - one at a time below, failures reported
                    log.warning("due index: a batch of new entries failed; writing one at a time")
                for customer_id, due_at in chunk:
                    try:
                        self.index.put(customer_id, due_at)
                    except Exception:
                        log.exception("due index: a new entry could not be written")
                        failed.add(customer_id)
        return failed

    def _drop(self, drops: dict[tuple[str, str], DueCustomer]) -> None:
        for bucket, rows in _by_bucket(drops).items():
            guarded = [(customer_id, old) for customer_id, old in rows if old.etag]
            one_by_one = [(customer_id, old) for customer_id, old in rows if not old.etag]
            for chunk in _chunks(guarded):
                tx = self.index.table.transaction(bucket)
                for customer_id, old in chunk:
                    tx.delete(customer_id, old.etag)
                try:
                    self.transactions += 1
                    tx.submit()
                except Exception:  # noqa: BLE001 - one was rewritten or is gone: one at a time
                    one_by_one.extend(chunk)
            for customer_id, old in one_by_one:
                try:
                    self.index.remove(customer_id, old.due_at, old.etag or None)
                except Exception:
                    log.exception("due index: an old entry could not be dropped")


def _by_bucket(rows: dict[tuple[str, str], V]) -> dict[str, list[tuple[str, V]]]:
    grouped: dict[str, list[tuple[str, V]]] = {}
    for (bucket, customer_id), value in sorted(rows.items(), key=lambda item: item[0]):
        grouped.setdefault(bucket, []).append((customer_id, value))
    return grouped


def _chunks(rows: list[tuple[str, V]]) -> Iterator[list[tuple[str, V]]]:
    for start in range(0, len(rows), MAX_TRANSACTION_OPERATIONS):
        yield rows[start : start + MAX_TRANSACTION_OPERATIONS]
