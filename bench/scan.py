"""Collections scan cost: O(due), not O(customers).

Seeds N customers on a fresh Azurite (1% due now, the rest due over the next 30 days), then
measures in the same run:
- the floor: a plain read of the same due entities (the due-index query plus one partition query
  per due customer, nothing evaluated or written);
- the scan: `run_scan` (reads, evaluates, writes each decision in one transaction, publishes).
Entities read are counted by the repository and the index (instrumented), not estimated.
Targets: customers read <= 1.1 x due; scan time <= 2 x floor.

    .venv/bin/python -m bench.scan [--customers 2000] [--due-percent 1]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared import clock, runtime
from shared.adapters.customers import CollectionsRecord, CustomerRepository
from shared.adapters.layout import PROFILE_ROW, STATE_ROW, invoice_row
from shared.adapters.schedule import ScheduleIndex
from shared.clock import FixedClock
from shared.domain.customer import StoredProfile
from shared.domain.ledger import Invoice
from shared.domain.money import Money
from tools.azurite import Azurite

NOW = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # Thursday 10:30 in Shanghai: reminders are due


def seed(customers: int, due_percent: float) -> list[str]:
    """Customers with an overdue invoice; `due_percent` of them due now. Returns the due ids."""
    store = runtime.table_store()
    repo = CustomerRepository.of(store)
    index = ScheduleIndex.of(store)
    due_every = max(1, round(100 / due_percent))
    due: list[str] = []
    for n in range(customers):
        customer_id = str(uuid.UUID(int=n + 1, version=4))
        is_due = n % due_every == 0
        review = NOW - timedelta(minutes=5) if is_due else NOW + timedelta(hours=1 + n % (24 * 30))
        tx = repo.table.transaction(customer_id)
        profile = StoredProfile(name=f"Customer {n}", customer_id=customer_id, created_at=NOW, updated_at=NOW)
        invoice = Invoice(
            invoice_id="i1",
            customer_id=customer_id,
            number=f"N{n}",
            amount=Money(amount=Decimal("1000")),
            issued_on=date(2026, 2, 1),
            due_date=date(2026, 3, 2),
            created_at=NOW,
            updated_at=NOW,
        )
        from shared.adapters.customers import storable

        tx.create(storable(profile), PROFILE_ROW)
        tx.create(storable(invoice), invoice_row("i1"))
        tx.create(CollectionsRecord(next_review_at=review), STATE_ROW)
        tx.submit()
        index.put(customer_id, review)
        if is_due:
            due.append(customer_id)
    return due


def floor_read(due_ids: list[str]) -> tuple[float, int]:
    """The same due entities read plainly: the index query and each due customer's partition."""
    store = runtime.table_store()
    index, repo = ScheduleIndex.of(store), CustomerRepository.of(store)
    started = time.perf_counter()
    entries = list(index.due(NOW))
    for entry in entries:
        repo.load(entry.customer_id)
    elapsed = time.perf_counter() - started
    assert sorted(e.customer_id for e in entries) == sorted(due_ids)
    return elapsed, repo.rows_read


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--due-percent", type=float, default=1.0)
    args = parser.parse_args(argv)
    azurite = Azurite.start()
    previous = clock.set_clock(FixedClock(NOW))
    try:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "QUEUE_TRANSPORT": "storage",
                "ENFORCEMENT_MODE": "enforce",
                "TABLE_PREFIX": "b" + uuid.uuid4().hex[:8],
            }
        )
        runtime.reset()
        from shared.services.collections import run_scan

        started = time.perf_counter()
        due_ids = seed(args.customers, args.due_percent)
        print(
            f"seeded {args.customers} customers ({len(due_ids)} due) in {time.perf_counter() - started:.1f} s"
        )
        floor_seconds, floor_rows = floor_read(due_ids)
        store = runtime.table_store()
        repo, index = CustomerRepository.of(store), ScheduleIndex.of(store)
        started = time.perf_counter()
        report = run_scan(repo=repo, index=index)
        scan_seconds = time.perf_counter() - started
        due = len(due_ids)
        print(f"due customers:              {due}")
        print(f"scan evaluated / actions:   {report.evaluated} / {report.actions}")
        print(f"index entries read:         {index.entities_read}")
        print(
            f"customer partitions read:   {repo.partitions_read} "
            f"({repo.rows_read} rows; floor read {floor_rows})"
        )
        print(f"scan wall time:             {scan_seconds * 1000:.0f} ms")
        print(f"floor (plain read) time:    {floor_seconds * 1000:.0f} ms")
        print(f"ratio customers read / due: {repo.partitions_read / max(due, 1):.2f} (target <= 1.1)")
        print(f"ratio index read / due:     {index.entities_read / max(due, 1):.2f} (target <= 1.1)")
        print(f"ratio scan / floor time:    {scan_seconds / max(floor_seconds, 1e-9):.2f} (target <= 2)")
    finally:
        clock.set_clock(previous)
        runtime.reset()
        azurite.stop()


if __name__ == "__main__":
    main()
