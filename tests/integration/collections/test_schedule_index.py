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
