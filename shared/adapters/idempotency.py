"""HTTP `Idempotency-Key` records (table `idempotency`, PartitionKey = key hash, RowKey `k`).

Insert-first: a request reserves its key by inserting a `pending` record before it changes
anything, so of two concurrent requests with one key exactly one does the work. The winner
stores its response on the record; later requests with the key and the same body get that
response back, with a different body a conflict. A pending record older than the takeover age
(its writer crashed), or one whose request failed, may be taken over under its ETag by the same
request (same body); another body stays a conflict, because the failed attempt may already have
written part of its work under the key's report id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.tables import ConcurrencyConflict, Table

ROW = "k"
TAKEOVER_AFTER = timedelta(minutes=2)


class IdempotencyState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # the request raised; the same body may take over at once


class IdempotencyRecord(BaseModel):
    scope: str
    request_hash: str
    state: IdempotencyState
    created_at: datetime
    status: int | None = None  # written by earlier versions; not read
    response: str | None = Field(default=None, max_length=30_000)
    report_id: str


def key_hash(scope: str, key: str) -> str:
    """The PartitionKey of a key: a hash, so any key text is a valid and fixed-size key."""
    return hashlib.sha256(f"{scope}\x1f{key}".encode()).hexdigest()


def request_hash(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


class ReservationOutcome(StrEnum):
    RESERVED = "reserved"  # go ahead; call `complete` when done
    REPLAY = "replay"  # the same request finished before: answer with the stored response
    MISMATCH = "mismatch"  # the key was used with another body
    IN_PROGRESS = "in_progress"  # the same request is being handled right now


@dataclass(frozen=True)
class Reservation:
    outcome: ReservationOutcome
    record: IdempotencyRecord
    etag: str
    pk: str


class IdempotencyStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def reserve(self, scope: str, key: str, body_hash: str, report_id: str, at: datetime) -> Reservation:
        """Reserve `key` for this request, or say why not (see `ReservationOutcome`)."""
        pk = key_hash(scope, key)
        fresh = IdempotencyRecord(
            scope=scope,
            request_hash=body_hash,
            state=IdempotencyState.PENDING,
            created_at=at,
            report_id=report_id,
        )

        def attempt() -> Reservation:
            try:
                etag = self.table.insert(fresh, pk, ROW)
                return Reservation(ReservationOutcome.RESERVED, fresh, etag, pk)
            except ConcurrencyConflict:
                pass
            stored = self.table.get(IdempotencyRecord, pk, ROW)
            if stored is None:
                raise ConcurrencyConflict("released meanwhile: try the insert again")
            record = stored.value
            if record.request_hash != body_hash:
                return Reservation(ReservationOutcome.MISMATCH, record, stored.etag, pk)
            if record.state is IdempotencyState.DONE:
                return Reservation(ReservationOutcome.REPLAY, record, stored.etag, pk)
            if record.state is IdempotencyState.PENDING and at - record.created_at < TAKEOVER_AFTER:
                return Reservation(ReservationOutcome.IN_PROGRESS, record, stored.etag, pk)
            # The first writer died or failed: take over, keeping its report id so the retry
            # joins its work.
            taken = record.model_copy(update={"created_at": at, "state": IdempotencyState.PENDING})
            etag = self.table.update(taken, pk, ROW, stored.etag)
            return Reservation(ReservationOutcome.RESERVED, taken, etag, pk)

        return retry_on_conflict(attempt, what="this Idempotency-Key's record")

    def complete(self, reservation: Reservation, response: str) -> bool:
        """Store the answer; False if another request took the key over meanwhile (this one was
        slower than the takeover age): that request stores its own answer, and this one's work
        is done all the same, so it is not an error."""
        done = reservation.record.model_copy(update={"state": IdempotencyState.DONE, "response": response})
        try:
            self.table.update(done, reservation.pk, ROW, reservation.etag)
        except ConcurrencyConflict:
            return False
        return True

    def release(self, reservation: Reservation) -> None:
        """Mark a reservation whose request failed: a retry with the same body takes it over at
        once (and carries on under the same report id); another body is still a conflict."""
        failed = reservation.record.model_copy(update={"state": IdempotencyState.FAILED})
        try:
            self.table.update(failed, reservation.pk, ROW, reservation.etag)
        except ConcurrencyConflict:
            pass
