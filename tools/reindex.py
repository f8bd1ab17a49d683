"""Write the staff lists' index rows (`lists` table) for every customer, from the customers
table: once, for customers stored before the lists existed (or to rebuild the index).

    python -m tools.reindex            # with the app settings in the environment

It reads the whole customers table once (a migration, never something a list does) and writes
each customer's index rows confirmed, 100 to a transaction per index partition. Rows of
customers that are gone are left; a reader drops them once they are old (shared/adapters/lists.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import groupby

from shared import runtime
from shared.adapters.customers import CustomerAggregate, CustomerRepository
from shared.adapters.lists import ROW_MODELS, ListIndex, entries
from shared.clock import now

log = logging.getLogger("reindex")


def _customers(repo: CustomerRepository) -> Iterator[CustomerAggregate]:
    rows = repo.table.client.list_entities()
    for partition, entities in groupby(rows, key=lambda e: str(e["PartitionKey"])):
        if partition.startswith("_"):
            continue  # partner-wide rows: batches, alerts, the partner audit
        aggregate = CustomerAggregate(customer_id=partition)
        for entity in entities:
            repo._place(aggregate, entity)
        yield aggregate


def reindex(repo: CustomerRepository, index: ListIndex) -> int:
    """Index every customer; how many were indexed."""
    pending: dict[str, list[tuple[str, object]]] = {}
    count = 0

    def flush(partition: str) -> None:
        items = pending.pop(partition, [])
        if items:
            tx = index.table.transaction(partition)
            for row_key, model in items:
                tx.upsert(model, row_key)  # type: ignore[arg-type]
            tx.submit()

    for aggregate in _customers(repo):
        count += 1
        for (pk, rk), entry in entries(aggregate.rows()).items():
            row = ROW_MODELS[pk].model_validate({**entry.model_dump(), "pending": False, "written_at": now()})
            pending.setdefault(pk, []).append((rk, row))
            if len(pending[pk]) == 100:
                flush(pk)
    for partition in list(pending):
        flush(partition)
    return count


def main() -> int:
    from tools import logs

    logs.configure(["reindex"])
    store = runtime.table_store()
    repo = CustomerRepository.of(store)
    assert repo.lists is not None
    log.info("indexed %d customers", reindex(repo, repo.lists))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
