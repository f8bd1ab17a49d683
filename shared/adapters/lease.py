"""A per-customer lease: an ETag-guarded lock row in the customer's partition, with an expiry so
a crashed holder blocks the customer only until the lease runs out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from azure.core.exceptions import ResourceNotFoundError
from pydantic import BaseModel

from shared import clock
from shared.adapters.layout import LEASE_PREFIX
from shared.adapters.tables import ConcurrencyConflict, Table


class LeaseRow(BaseModel):
    holder: str
    acquired_at: datetime
    expires_at: datetime


@dataclass
class Lease:
    """A lease held: pass it back to `renew` / `release`."""

    partition_key: str
    row_key: str
    holder: str
    etag: str
    expires_at: datetime


@dataclass(frozen=True)
class LeaseTaken:
    """Someone else holds the lease until `expires_at`."""

    holder: str
    expires_at: datetime


class LeaseStore:
    """Acquire, renew and release leases stored as rows `lease:{name}` of one table."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def acquire(
        self, partition_key: str, name: str, ttl: timedelta, holder: str | None = None
    ) -> Lease | LeaseTaken:
        """Take the lease unless a live one is held by another holder (exactly one winner)."""
        holder = holder or uuid.uuid4().hex
        row_key = LEASE_PREFIX + name
        now = clock.now()
        row = LeaseRow(holder=holder, acquired_at=now, expires_at=now + ttl)
        current = self.table.get(LeaseRow, partition_key, row_key)
        try:
            if current is None:
                etag = self.table.insert(row, partition_key, row_key)
            elif current.value.expires_at > now and current.value.holder != holder:
                return LeaseTaken(current.value.holder, current.value.expires_at)
            else:
                etag = self.table.update(row, partition_key, row_key, current.etag)
        except ConcurrencyConflict:
            latest = self.table.get(LeaseRow, partition_key, row_key)
            if latest is None:
                return LeaseTaken("unknown", now)
            return LeaseTaken(latest.value.holder, latest.value.expires_at)
        return Lease(partition_key, row_key, holder, etag, row.expires_at)

    def renew(self, lease: Lease, ttl: timedelta) -> bool:
        """Extend a lease still held; False if it was lost (expired and taken over)."""
        now = clock.now()
        row = LeaseRow(holder=lease.holder, acquired_at=now, expires_at=now + ttl)
        try:
            lease.etag = self.table.update(row, lease.partition_key, lease.row_key, lease.etag)
        except ConcurrencyConflict:
            return False
        lease.expires_at = row.expires_at
        return True

    def release(self, lease: Lease) -> None:
        """Give the lease up (no-op if someone took it over after it expired)."""
        try:
            self.table.delete(lease.partition_key, lease.row_key, etag=lease.etag)
        except (ConcurrencyConflict, ResourceNotFoundError):
            return
