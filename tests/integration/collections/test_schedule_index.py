"""The due index on Azurite: reads only what is due, moves safely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import runtime
from shared.adapters.schedule import ScheduleIndex, hour_bucket
from tests.integration.collections.conftest import Env

NOW = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)


def test_due_reads_only_due_entries(env: Env) -> None:
    index = ScheduleIndex.of(runtime.table_store())
    index.put("a", NOW - timedelta(days=3))  # an old bucket, missed by an outage
    index.put("b", NOW - timedelta(minutes=1))
    index.put("c", NOW + timedelta(minutes=10))  # same hour, not yet due
    index.put("d", NOW + timedelta(days=1))
    due = list(index.due(NOW))
    assert [d.customer_id for d in due] == ["a", "b"]
    assert index.entities_read == 2
    assert hour_bucket(NOW) == "2026030202"


def test_remove_leaves_an_entry_rewritten_for_a_new_time(env: Env) -> None:
    index = ScheduleIndex.of(runtime.table_store())
    old = NOW - timedelta(minutes=20)
    index.put("a", old)
    (entry,) = list(index.due(NOW))
    index.put("a", NOW + timedelta(minutes=20))  # a concurrent change, same hour bucket
    index.remove("a", old, entry.etag)
    index.remove("a", old)
    assert [d.due_at for d in index.due(NOW + timedelta(minutes=25))] == [NOW + timedelta(minutes=20)]
    index.move("a", NOW + timedelta(minutes=20), NOW + timedelta(days=2))
    assert list(index.due(NOW + timedelta(hours=1))) == []
    assert [d.customer_id for d in index.due(NOW + timedelta(days=3))] == ["a"]


def test_batch_writes_new_entries_then_drops_old_ones_per_bucket(env: Env) -> None:
    from shared.adapters.schedule import ScheduleBatch

    index = ScheduleIndex.of(runtime.table_store())
    customers = [f"c{n:03d}" for n in range(130)]  # more than one transaction holds
    for cid in customers:
        index.put(cid, NOW - timedelta(minutes=5))
    entries = {d.customer_id: d for d in index.due(NOW)}
    later = NOW + timedelta(days=1)
    batch = ScheduleBatch(index)
    for cid in customers:
        batch.move(cid, entries[cid], later)
    assert batch.flush() == []
    assert batch.transactions == 4  # 2 x 100 + 30: new entries, then old ones
    assert list(index.due(NOW)) == []
    assert sorted(d.customer_id for d in index.due(later)) == customers


def test_batch_keeps_an_entry_rewritten_meanwhile_and_tolerates_a_missing_one(env: Env) -> None:
    from shared.adapters.schedule import ScheduleBatch

    index = ScheduleIndex.of(runtime.table_store())
    old = NOW - timedelta(minutes=20)
    for cid in ("a", "b", "c"):
        index.put(cid, old)
    entries = {d.customer_id: d for d in index.due(NOW)}
    index.put("a", NOW + timedelta(minutes=20))  # a concurrent change rewrote a's key (same hour)
    index.remove("b", old)  # another scan moved b already
    batch = ScheduleBatch(index)
    for cid in ("a", "b", "c"):
        batch.move(cid, entries[cid], NOW + timedelta(days=2))
    batch.move("c", None, NOW + timedelta(days=2, minutes=-30))  # same key twice: the earlier wins
    assert batch.flush() == []
    assert [(d.customer_id, d.due_at) for d in index.due(NOW + timedelta(minutes=25))] == [
        ("a", NOW + timedelta(minutes=20))
    ]
    assert [(d.customer_id, d.due_at) for d in index.due(NOW + timedelta(days=3))] == [
        ("a", NOW + timedelta(minutes=20)),
        ("a", NOW + timedelta(days=2)),
        ("b", NOW + timedelta(days=2)),
        ("c", NOW + timedelta(days=2, minutes=-30)),
    ]
