"""No 409 storms: parallel writes to one customer all land; a scan that keeps losing a
customer's race leaves its due entry for the next scan."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date
from typing import Any

from shared import runtime
from shared.adapters.customers import CustomerChange, CustomerRepository
from shared.adapters.schedule import ScheduleIndex
from shared.adapters.tables import ConcurrencyConflict
from shared.services.collections import ledger
from shared.services.collections import scan as collections
from tests.actors import TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer

DUE = date(2026, 3, 2)


def test_twenty_parallel_writes_to_one_customer_all_succeed(env: Env) -> None:
    cid = new_customer()
    barrier = threading.Barrier(20)
    outcomes: list[Any] = [None] * 20

    def write(index: int) -> None:
        body = invoice(cid, f"par-{index}", "100", date(2026, 4, 30))
        barrier.wait()
        try:
            outcomes[index] = ledger.post_invoice(
                deps(), body, actor=TEST_ACTOR, correlation_id=f"c{index}"
            ).effect
        except Exception as exc:  # noqa: BLE001 - the assertion names it
            outcomes[index] = exc

    threads = [threading.Thread(target=write, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [str(o) for o in outcomes] == ["created"] * 20
    stored = CustomerRepository.of(runtime.table_store()).load(cid)
    assert len(stored.invoices) == 20


class _AlwaysLosing(CustomerRepository):
    """Every commit for one customer loses its ETag race (another writer always got there first)."""

    def __init__(self, base: CustomerRepository, loser: str) -> None:
        super().__init__(base.table)
        self.loser = loser
        self.commits = 0

    def change(self, aggregate: Any) -> CustomerChange:
        change = super().change(aggregate)
        if aggregate.customer_id == self.loser:
            repo = self

            def losing_commit() -> dict[str, str]:
                repo.commits += 1
                raise ConcurrencyConflict("another writer changed the customer")

            change.commit = losing_commit  # type: ignore[method-assign]
        return change


def test_a_contended_customer_keeps_its_due_entry_and_the_next_scan_reviews_it(env: Env) -> None:
    cid = new_customer()
    ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    env.clock.set(env.clock.now().replace(day=5))  # the reminder day
    losing = _AlwaysLosing(deps().customers, cid)
    report = collections.run_scan(dataclasses.replace(deps(), customers=losing))
    assert report.contended == [cid] and losing.commits > 1 and report.evaluated == 0
    index = ScheduleIndex.of(runtime.table_store())
    assert [d.customer_id for d in index.due(env.clock.now())] == [cid]  # the entry stayed
    assert env.notices() == []
    again = collections.run_scan(deps())
    assert again.evaluated == 1 and again.contended == []
    assert [n["notice_id"].split(":")[1] for n in env.notices()] == ["reminder"]
