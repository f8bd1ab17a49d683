"""Append-only, hash-chained audit trail kept inside each customer's partition.

Entries live in the customer's own partition (rows `audit:{inverted seq}`), with a head row
(`audithead`) that holds the last sequence number and hash. Appending updates the head under
its ETag in the same entity-group transaction as the change it explains, so a decision and its
audit entry are written together or not at all, and two writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.adapters.alerts import GENERIC_TITLE, TITLES, Alert, AlertStore, alert_id_for, alert_kind
from shared.adapters.conflicts import DEFAULT_ATTEMPTS, retry_on_conflict
from shared.adapters.layout import AUDIT_HEAD_ROW, AUDIT_PREFIX, PARTNER_PARTITION, audit_row
from shared.adapters.tables import Table, Transaction, decode
from shared.domain.identity import Actor, ActorKind, ActorRef

GENESIS_HASH = "0" * 64
# Fields added after the first chains were written: hashed only when set, so older entries
# (which have none of them) still verify.
_HASHED_WHEN_SET = ("actor_id", "actor_kind")


class AuditEntry(BaseModel):
    """One thing that happened: who or what did it, what, why, under which policy version.

    `actor` is the name shown; `actor_id` and `actor_kind` say who that is (an Entra object id,
    an app's client id, a key's name, or the part of the app that acted). Build it with
    `actor=<Actor>` and all three are filled in.
    """

    model_config = ConfigDict(extra="forbid")

    at: datetime
    actor: str = Field(min_length=1, max_length=200)
    actor_id: str | None = Field(default=None, max_length=200)
    actor_kind: ActorKind | None = None
    action: str = Field(min_length=1, max_length=100)
    reason: str = Field(default="", max_length=4000)
    correlation_id: str = Field(min_length=1, max_length=100)
    policy_version: str | None = Field(default=None, max_length=100)
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_actor(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("actor"), ActorRef):
            who = data["actor"]
            label = who.label if isinstance(who, Actor) else who.name
            data = {**data, "actor": label, "actor_id": who.id, "actor_kind": who.kind}
        return data

    @property
    def actor_ref(self) -> ActorRef | None:
        """Who acted, as an identity (None for entries written before identities were kept)."""
        if self.actor_id is None or self.actor_kind is None:
            return None
        return ActorRef(kind=self.actor_kind, id=self.actor_id, name=self.actor)

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Hashed as stored: Table storage keeps instants in UTC, so the hash must use UTC too."""
        if value.tzinfo is None:
            raise ValueError("an audit time needs a time zone")
        return value.astimezone(UTC)


class AuditRecord(AuditEntry):
    """An entry as stored: its place in the chain and the hashes that link it."""

    seq: int
    prev_hash: str
    hash: str


class AuditHead(BaseModel):
    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True)
class HeadRef:
    """The head as read, with its ETag (None when the partition has no audit yet)."""

    head: AuditHead
    etag: str | None


def entry_hash(entry: AuditEntry, seq: int, prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of the entry, its sequence number and the previous hash."""
    # Re-validated, so that the hash is of the entry as stored (UTC), however it was built.
    payload = AuditEntry.model_validate(entry.model_dump(include=set(AuditEntry.model_fields))).model_dump(
        mode="json"
    )
    for name in _HASHED_WHEN_SET:
        if payload.get(name) is None:
            payload.pop(name, None)
    payload["seq"] = seq
    payload["prev_hash"] = prev_hash
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditTrail:
    """What `read` returns: newest first, and whether the chain verifies."""

    records: list[AuditRecord]
    verified: bool
    problem: str | None = None


class AuditLog:
    """The audit trail of the partitions of one table (the customers table)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def read_head(self, partition_key: str) -> HeadRef:
        stored = self.table.get(AuditHead, partition_key, AUDIT_HEAD_ROW)
        if stored is None:
            return HeadRef(AuditHead(), None)
        return HeadRef(stored.value, stored.etag)

    def stage(self, tx: Transaction, head: HeadRef, entries: list[AuditEntry]) -> AuditHead:
        """Add the entries and the new head to `tx` (ETag-guarded); returns the new head.

        An entry that raises an alert (`alert.*`, see `alerts.py`) has its alert row written
        now, before the transaction: an alert is never lost to a crash after its entry."""
        self._raise_alerts(tx.partition_key, entries)
        seq, prev = head.head.seq, head.head.hash
        for entry in entries:
            seq += 1
            digest = entry_hash(entry, seq, prev)
            record = AuditRecord(
                **entry.model_dump(include=set(AuditEntry.model_fields)), seq=seq, prev_hash=prev, hash=digest
            )
            tx.create(record, audit_row(seq))
            prev = digest
        new_head = AuditHead(seq=seq, hash=prev)
        if head.etag is None:
            tx.create(new_head, AUDIT_HEAD_ROW)
        else:
            tx.update(new_head, AUDIT_HEAD_ROW, head.etag)
        return new_head

    def _raise_alerts(self, partition_key: str, entries: list[AuditEntry]) -> None:
        store = AlertStore(self.table)
        for entry in entries:
            kind = alert_kind(entry.action)
            if kind is None:
                continue
            named = entry.details.get("alert_kind")  # an entry may name a finer kind
            kind = named if isinstance(named, str) and named else kind
            details = entry.model_dump(mode="json")["details"]
            store.raise_alert(
                Alert(
                    alert_id=alert_id_for(
                        partition_key, entry.action, entry.at, entry.correlation_id, entry.reason, details
                    ),
                    kind=kind,
                    title=TITLES.get(kind, GENERIC_TITLE),
                    customer_id=partition_key if partition_key != PARTNER_PARTITION else None,
                    reason=entry.reason,
                    details=details,
                    raised_at=entry.at,
                    raised_by=entry.actor,
                    correlation_id=entry.correlation_id,
                )
            )

    def append(self, partition_key: str, entries: list[AuditEntry], attempts: int = DEFAULT_ATTEMPTS) -> None:
        """Append on their own (no other change to go with them), retrying head conflicts."""

        def attempt() -> None:
            tx = self.table.transaction(partition_key)
            self.stage(tx, self.read_head(partition_key), entries)
            tx.submit()

        retry_on_conflict(attempt, what=f"the audit trail of {partition_key!r}", attempts=attempts)

    def read(self, partition_key: str, limit: int | None = None) -> AuditTrail:
        """Newest first; verifies the links between the records read and the head.

        The head is read first and entries appended after it are left out, so that a writer
        appending while this reads does not make an intact chain look broken.
        """
        head = self.read_head(partition_key).head
        records: list[AuditRecord] = []
        newer: list[AuditRecord] = []
        for entity in self.table.partition(partition_key, AUDIT_PREFIX):
            record = decode(AuditRecord, entity).value
            if record.seq > head.seq:
                newer.append(record)  # committed after the head was read, or the head was rewound
                continue
            records.append(record)
            if limit is not None and len(records) >= limit:
                break
        if newer and self.read_head(partition_key).head.seq < max(r.seq for r in newer):
            return AuditTrail([*newer, *records], False, "entries exist beyond the chain head")
        return AuditTrail(records, *self._verify(records, head, complete=limit is None))

    @staticmethod
    def _verify(records: list[AuditRecord], head: AuditHead, *, complete: bool) -> tuple[bool, str | None]:
        if not records:
            ok = head.seq == 0
            return ok, None if ok else "the head names entries that are missing"
        if records[0].seq != head.seq or records[0].hash != head.hash:
            return False, "the newest entry does not match the chain head"
        for newer, older in pairwise(records):
            if newer.seq != older.seq + 1:
                return False, f"entry {older.seq + 1} is missing"
            if newer.prev_hash != older.hash:
                return False, f"entry {newer.seq} does not link to entry {older.seq}"
        for record in records:
            base = AuditEntry(**record.model_dump(exclude={"seq", "prev_hash", "hash"}))
            if entry_hash(base, record.seq, record.prev_hash) != record.hash:
                return False, f"entry {record.seq} was altered"
        if complete and (records[-1].seq != 1 or records[-1].prev_hash != GENESIS_HASH):
            return False, "the oldest entries are missing"
        return True, None
