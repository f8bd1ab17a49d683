"""The fleet's shared Partner Center budget in Table storage (real Azurite): however many
processes take tokens, together they get at most the rate plus one claim, and a process that
would wait too long hands back Throttled. Time is a shared fake clock: no test races a deadline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.adapters.partner_center import Throttled
from shared.adapters.partner_center.pacing import CLAIM, FleetBucket
from shared.adapters.tables import Table, TableStore


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def table(storage_connection_string: str, unique_name: str) -> Iterator[Table]:
    store = TableStore.from_connection_string(storage_connection_string, unique_name)
    yield store.table("pacing")
    store.close()


def test_processes_sharing_the_budget_get_the_rate_between_them(table: Table) -> None:
    time = FakeTime()
    processes = [
        FleetBucket(table, "partner@pc", 120, clock=time.clock, sleep=time.sleep) for _ in range(4)
    ]  # 120 a minute: 2 a second for all four together
    start = time.now
    granted = 0
    for _ in range(60):  # round robin, as four busy instances would
        for process in processes:
            process.acquire(max_wait_seconds=600)
            granted += 1
    elapsed = time.now - start
    assert granted == 240
    # At most the rate over the time that passed, plus the one claim the row starts with (and the
    # stock one claim each process may still hold): never four times the rate.
    assert granted <= 2 * elapsed + CLAIM + 4 * CLAIM
    assert elapsed >= (240 - 5 * CLAIM) / 2


def test_one_busy_process_gets_the_whole_budget(table: Table) -> None:
    time = FakeTime()
    alone = FleetBucket(table, "partner@pc", 600, clock=time.clock, sleep=time.sleep)
    idle = FleetBucket(table, "partner@pc", 600, clock=time.clock, sleep=time.sleep)
    start = time.now
    for _ in range(100):
        alone.acquire(max_wait_seconds=600)
    assert time.now - start <= 100 / 10 + 1  # 10 a second, all of it for the busy one
    assert idle._stock == 0


def test_a_wait_longer_than_allowed_is_throttled_locally(table: Table) -> None:
    time = FakeTime()
    bucket = FleetBucket(table, "partner@pc", 6, clock=time.clock, sleep=time.sleep)  # one per 10 s
    for _ in range(CLAIM):
        bucket.acquire(max_wait_seconds=0)  # the first claim
    with pytest.raises(Throttled) as err:
        bucket.acquire(max_wait_seconds=5)
    assert err.value.retry_after_seconds and err.value.retry_after_seconds > 5
