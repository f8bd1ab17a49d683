"""The staff lists and the scan at 100,000 customers.

Seeds N customers (100,000 by default) straight into a fresh Azurite in bulk: each customer's
rows (profile, state, invoices; a payment for some) in ONE entity-group transaction of its
partition, the list index rows (`cust:id`, `cust:name`) and the due-index entries 100 to a
transaction of their partitions. Then measures, in the same run:
- a page of the customer list (50, from a random id prefix) and of a name search (a random
  name prefix), p50 and p99, against one plain Table point query (target <= 3x);
- the collections scan with 1% of the customers due and 10% of those acting (the realistic
  mix): entities read against due (target <= 1.1x), and its time against the plain read of the
  same due entities (target <= 2x).
Figures are printed; nothing asserts a time.

The emulator's own costs, measured in the same run so the ratios can be read: Azurite (3.37)
answers every query by running its filter over every entity of the table (LokiJS `where`), so
a page of any range query costs O(table) there, where Azure Table storage seeks the index; the
"raw range query" line is that cost with no app code. And Azurite looks an inserted entity up by
RowKey first, so inserting into a table where many partitions share row keys (`profile`,
`state`) slows as it grows: the customers' partitions seed at a falling rate, the index rows
(unique row keys) do not. The "storage round trips per page" line is what O(page) means here:
one query of at most a page of index rows, whatever the table holds.

    .venv/bin/python -m bench.customers [--customers 100000] [--samples 200]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bench.scan import NOW, _invoice, measure, storage_calls
from shared import clock, runtime, wiring
from shared.adapters.customers import CollectionsRecord, storable
from shared.adapters.layout import PROFILE_ROW, STATE_ROW, invoice_row, payment_row
from shared.adapters.lists import LISTS_TABLE, ROW_MODELS, CustomerRows, entries
from shared.adapters.schedule import SCHEDULE_TABLE, ScheduleEntry, hour_bucket
from shared.clock import FixedClock
from shared.domain.customer import StoredProfile
from shared.domain.ledger import Payment
from shared.domain.money import Money
from shared.services.collections import lists
from tools.azurite import Azurite

DUE_PERCENT = 1.0
ACTING_PERCENT = 10.0
PAGE = 50


def customer_id(n: int) -> str:
    """A stable, random-looking tenant id (so that id prefixes spread like real ones)."""
    return str(uuid.UUID(int=random.Random(n).getrandbits(128), version=4))


def _rows(n: int, is_due: bool, acts: bool) -> tuple[CustomerRows, datetime, list[tuple[object, str]]]:
    cid = customer_id(n)
    review = NOW - timedelta(minutes=5) if is_due else NOW + timedelta(hours=1 + n % (24 * 30))
    profile = StoredProfile(
        name=f"Customer {n:06d}",
        segment="enterprise" if n % 20 == 7 else "default",  # never a due one (n % 100 == 0)
        customer_id=cid,
        created_at=NOW,
        updated_at=NOW,
    )
    invoices = [_invoice(cid, "i1", n, date(2026, 3, 2))]  # 3 days past due on NOW: a reminder
    payments = []
    if is_due and not acts:  # paid; the next invoice falls due later: the review changes nothing
        payments.append(
            Payment(
                payment_id="p1",
                customer_id=cid,
                amount=Money(amount=Decimal("1000")),
                received_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
                created_at=NOW,
            )
        )
        invoices.append(_invoice(cid, "i2", n, date(2026, 4, 2)))
    partition: list[tuple[object, str]] = [(storable(profile), PROFILE_ROW)]
    partition += [(storable(i), invoice_row(i.invoice_id)) for i in invoices]
    partition += [(storable(p), payment_row(p.payment_id)) for p in payments]
    partition.append((CollectionsRecord(next_review_at=review), STATE_ROW))
    return CustomerRows(cid, profile=profile, invoices=invoices, payments=payments), review, partition


def _write_partitions(job: tuple[str, str, int, int]) -> int:
    """A worker process: the customers' partitions, one entity-group transaction each."""
    connection_string, prefix, start, stop = job
    os.environ.update({"AzureWebJobsStorage": connection_string, "TABLE_PREFIX": prefix})
    runtime.reset()
    due_every = round(100 / DUE_PERCENT)
    table = runtime.table_store().table("customers")
    for n in range(start, stop):
        is_due = n % due_every == 0
        rows, _, partition = _rows(n, is_due, is_due and _acts(n))
        tx = table.transaction(rows.customer_id)
        for model, row_key in partition:
            tx.create(model, row_key)  # type: ignore[arg-type]
        tx.submit()
    return stop - start


def _acts(n: int) -> bool:
    """Of the due customers (every 100th), one in ten has an action due (the realistic mix)."""
    return n % round(100 / DUE_PERCENT * 100 / ACTING_PERCENT) == 0


def seed(customers: int) -> list[str]:
    """Every customer in bulk (see the module docstring); the due customers' ids. The customers'
    partitions are written by worker processes (Python's SDK work is CPU-bound, and Azurite takes
    about 200 transactions a second here); the index rows, 100 to a transaction, by threads."""
    store = runtime.table_store()
    index_table, schedule_table = store.table(LISTS_TABLE), store.table(SCHEDULE_TABLE)
    store.table("customers")  # created once, before the workers
    due_every = round(100 / DUE_PERCENT)
    chunk = 2_000
    jobs = [
        (
            os.environ["AzureWebJobsStorage"],
            os.environ.get("TABLE_PREFIX", ""),
            start,
            min(customers, start + chunk),
        )
        for start in range(0, customers, chunk)
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        written = 0
        for done in pool.map(_write_partitions, jobs):
            written += done
            if written % 20_000 < chunk:
                elapsed = time.perf_counter() - started
                print(f"  customers' partitions: {written} in {elapsed:.0f} s", flush=True)
    assert written == customers
    started = time.perf_counter()
    index_rows: dict[str, list[tuple[str, object]]] = {}
    schedule_rows: dict[str, list[tuple[str, object]]] = {}
    for n in range(customers):
        is_due = n % due_every == 0
        rows, review, _ = _rows(n, is_due, is_due and _acts(n))
        for (pk, rk), entry in entries(rows).items():
            row = ROW_MODELS[pk].model_validate({**entry.model_dump(), "pending": False, "written_at": NOW})
            index_rows.setdefault(pk, []).append((rk, row))
        schedule_rows.setdefault(hour_bucket(review), []).append(
            (rows.customer_id, ScheduleEntry(due_at=review))
        )

    def batches(target: object, grouped: dict[str, list[tuple[str, object]]]) -> list[Callable[[], object]]:
        work = []
        for pk, items in grouped.items():
            for start in range(0, len(items), 100):

                def submit(
                    pk: str = pk, chunk: list[tuple[str, object]] = items[start : start + 100]
                ) -> object:
                    tx = target.transaction(pk)  # type: ignore[attr-defined]
                    for rk, model in chunk:
                        tx.upsert(model, rk)
                    return tx.submit()

                work.append(submit)
        return work

    tasks = batches(index_table, index_rows) + batches(schedule_table, schedule_rows)
    with ThreadPoolExecutor(max_workers=8) as threads:
        list(threads.map(lambda task: task(), tasks))
    rows = sum(len(items) for items in index_rows.values()) + customers
    elapsed = time.perf_counter() - started
    print(f"  index rows: {rows} in {len(tasks)} transactions in {elapsed:.0f} s", flush=True)
    return [customer_id(n) for n in range(0, customers, due_every)]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(call: Callable[[], object], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def measure_lists(customers: int, samples: int) -> None:
    deps = wiring.collections()
    index_table = runtime.table_store().table(LISTS_TABLE)
    rng = random.Random(7)
    point = timed(lambda: index_table.get_raw("cust:id", customer_id(rng.randrange(customers))), samples)
    listed: list[int] = []

    def list_page() -> None:
        prefix = f"{rng.randrange(256):02x}"  # 1/256 of the customers: a full page
        listed.append(
            len(lists.list_customers(deps, lists.CustomerQuery(id_prefix=prefix, limit=PAGE)).items)
        )

    def search_page() -> None:
        prefix = f"customer {rng.randrange(max(customers // 100, 1)):04d}"  # 100 names each
        listed.append(len(lists.list_customers(deps, lists.CustomerQuery(name=prefix, limit=PAGE)).items))

    for call in (list_page, search_page):  # warm up the policy file and the connections
        call()
    page = timed(list_page, samples)
    search = timed(search_page, samples)

    def raw_page() -> None:  # the storage engine alone: the same kind of range query, no app code
        low = f"{rng.randrange(256):02x}"
        index_table.page(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            {"pk": "cust:id", "low": low, "high": low + "~"},
            PAGE,
        )

    raw = timed(raw_page, samples)
    with storage_calls() as calls:
        for _ in range(20):
            list_page()
            search_page()
    trips = ", ".join(f"{kind} {count / 40:.2f}" for kind, count in sorted(calls.items()))
    p_point, page_p, search_p, raw_p = (
        percentiles(point),
        percentiles(page),
        percentiles(search),
        percentiles(raw),
    )
    print(f"point query (ms):           p50 {p_point[0]:.1f}  p99 {p_point[1]:.1f}")
    print(f"raw range query of {PAGE} (ms): p50 {raw_p[0]:.1f}  p99 {raw_p[1]:.1f} (Table storage alone)")
    print(f"list page of {PAGE} (ms):      p50 {page_p[0]:.1f}  p99 {page_p[1]:.1f}")
    print(f"search page (ms):           p50 {search_p[0]:.1f}  p99 {search_p[1]:.1f}")
    print(f"items per page (mean):      {statistics.mean(listed):.1f}")
    print(f"storage round trips / page: {trips}")
    print(
        f"ratio list page / point:    p50 {page_p[0] / p_point[0]:.2f}  p99 {page_p[1] / p_point[1]:.2f}"
        " (target <= 3)"
    )
    print(
        f"ratio search page / point:  p50 {search_p[0] / p_point[0]:.2f}  p99 {search_p[1] / p_point[1]:.2f}"
        " (target <= 3)"
    )
    print(
        f"ratio raw range / point:    p50 {raw_p[0] / p_point[0]:.2f}  p99 {raw_p[1] / p_point[1]:.2f}"
        " (the storage engine's own cost of a page)"
    )
    print(
        f"ratio list page / raw:      p50 {page_p[0] / raw_p[0]:.2f}  p99 {page_p[1] / raw_p[1]:.2f} (ours)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    azurite = Azurite.start()
    previous = clock.set_clock(FixedClock(NOW))
    try:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "QUEUE_TRANSPORT": "storage",
                "ENFORCEMENT_MODE": "enforce",
                "TABLE_PREFIX": "c" + uuid.uuid4().hex[:8],
                "SCAN_MAX_CUSTOMERS": str(max(5000, args.customers)),
            }
        )
        runtime.reset()
        started = time.perf_counter()
        due_ids = seed(args.customers)
        seconds = time.perf_counter() - started
        rate = args.customers / seconds
        print(f"seeded {args.customers} customers in bulk in {seconds:.0f} s ({rate:.0f}/s)", flush=True)
        measure_lists(args.customers, args.samples)
        print(f"scan with {len(due_ids)} due ({ACTING_PERCENT:g}% of them acting):")
        measure(due_ids)
    finally:
        clock.set_clock(previous)
        runtime.reset()
        azurite.stop()


if __name__ == "__main__":
    main()
