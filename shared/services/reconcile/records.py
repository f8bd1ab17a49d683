"""What one reconcile run writes: its audit entries, our suspension records and, at the end, the
enforcement snapshot, committed in one transaction of the customer's partition (the records
ETag-guarded; the audit head too)."""

from __future__ import annotations

from typing import Any

from shared.adapters.audit import AuditEntry
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import subscription_row
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.enforcement import ENFORCEMENT_ROW, EnforcementSnapshot
from shared.domain.suspensions import SuspensionRecord
from shared.services.reconcile.common import ACTOR, ReconcileDeps, read_records


class RunRecords:
    """The records of one customer as this run knows them, and the audit entries it owes."""

    def __init__(self, deps: ReconcileDeps, customer_id: str, correlation_id: str) -> None:
        self.deps = deps
        self.customer_id = customer_id
        self.correlation_id = correlation_id
        self.pending: list[AuditEntry] = []
        self.records: dict[str, SuspensionRecord] = {}
        self.etags: dict[str, str] = {}

    def load(self) -> None:
        """Read our suspension records (and their ETags) afresh."""
        self.records, self.etags = read_records(self.deps.table, self.customer_id)

    def audit(self, action: str, reason: str = "", /, **details: Any) -> None:
        self.pending.append(
            AuditEntry(
                at=self.deps.clock.now(),
                actor=ACTOR,
                action=action,
                reason=reason,
                correlation_id=self.correlation_id,
                details=details,
            )
        )

    def previous_snapshot(self) -> EnforcementSnapshot | None:
        stored = self.deps.table.get(EnforcementSnapshot, self.customer_id, ENFORCEMENT_ROW)
        return stored.value if stored else None

    def commit(self, records: list[SuspensionRecord], snapshot: EnforcementSnapshot | None = None) -> None:
        """Write the records (ETag-guarded, stamped `updated_at`), the pending audit entries and
        the snapshot (if given) in one transaction."""
        if not records and not self.pending and snapshot is None:
            return
        now = self.deps.clock.now()
        records = [r.model_copy(update={"updated_at": now}) for r in records]

        def attempt() -> dict[str, str]:
            tx = self.deps.table.transaction(self.customer_id)
            for record in records:
                row = subscription_row(record.subscription_id)
                etag = self.etags.get(row)
                if etag:
                    tx.update(record, row, etag)
                else:
                    tx.create(record, row)
            if snapshot is not None:
                tx.upsert(snapshot, ENFORCEMENT_ROW)
            audit = self.deps.audit
            if self.pending:
                audit.stage(tx, audit.read_head(self.customer_id), self.pending)
            try:
                return tx.submit()
            except ConcurrencyConflict:
                # Usually the audit head moved (someone else audited this customer); the records
                # are ours alone while we hold the lease, so refresh their ETags and try again.
                for record in records:
                    row = subscription_row(record.subscription_id)
                    stored = self.deps.table.get(SuspensionRecord, self.customer_id, row)
                    self.etags.pop(row, None)
                    if stored is not None:
                        self.etags[row] = stored.etag
                raise

        written = retry_on_conflict(attempt, what=f"customer {self.customer_id}'s suspension records")
        for record in records:
            row = subscription_row(record.subscription_id)
            self.etags[row] = written.get(row, self.etags.get(row, ""))
            self.records[record.subscription_id] = record
        self.pending.clear()
