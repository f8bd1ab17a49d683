"""The hash-chained audit trail against Azurite."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from shared.adapters.audit import AuditEntry, AuditLog
from shared.adapters.layout import AUDIT_HEAD_ROW, audit_row
from shared.adapters.tables import TableStore


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        at=datetime(2026, 11, 25, 1, n % 60, tzinfo=UTC),
        actor="test",
        action="decision",
        reason=f"step {n}",
        correlation_id=f"c{n}",
        policy_version="abc123",
        details={"amount": "12.30 CNY", "n": n},
    )


def test_chain_is_newest_first_and_verifies(storage_connection_string: str, unique_name: str) -> None:
    log = AuditLog(TableStore.from_connection_string(storage_connection_string).table(unique_name))
    log.append("cust", [entry(1), entry(2)])
    log.append("cust", [entry(3)])
    trail = log.read("cust")
    assert [r.seq for r in trail.records] == [3, 2, 1]
    assert trail.verified and trail.problem is None
    assert trail.records[0].prev_hash == trail.records[1].hash


def test_change_and_audit_commit_together(storage_connection_string: str, unique_name: str) -> None:
    table = TableStore.from_connection_string(storage_connection_string).table(unique_name)
    log = AuditLog(table)
    head = log.read_head("cust")
    log.append("cust", [entry(1)])  # someone else appends: our head is stale now
    tx = table.transaction("cust")
    tx.create(entry(9), "something")
    log.stage(tx, head, [entry(2)])
    try:
        tx.submit()
        raise AssertionError("a stale audit head must refuse the transaction")
    except Exception as exc:  # noqa: BLE001
        assert "changed" in str(exc) or "refused" in str(exc)
    assert table.get(AuditEntry, "cust", "something") is None
    assert [r.seq for r in log.read("cust").records] == [1]


def test_tampering_is_detected(storage_connection_string: str, unique_name: str) -> None:
    table = TableStore.from_connection_string(storage_connection_string).table(unique_name)
    log = AuditLog(table)
    log.append("cust", [entry(1), entry(2), entry(3)])
    raw = table.get_raw("cust", audit_row(2))
    raw["reason"] = "rewritten history"
    table.client.update_entity(raw)
    trail = log.read("cust")
    assert not trail.verified
    assert trail.problem == "entry 2 was altered"


def test_deleted_entry_is_detected(storage_connection_string: str, unique_name: str) -> None:
    table = TableStore.from_connection_string(storage_connection_string).table(unique_name)
    log = AuditLog(table)
    log.append("cust", [entry(1), entry(2), entry(3)])
    table.delete("cust", audit_row(2))
    trail = log.read("cust")
    assert not trail.verified and trail.problem == "entry 2 is missing"
    table.delete("cust", AUDIT_HEAD_ROW)
    trail = log.read("cust")
    assert not trail.verified and trail.problem == "entries exist beyond the chain head"
    assert [r.seq for r in trail.records] == [3, 1]


def test_concurrent_appends_make_one_linear_chain(storage_connection_string: str, unique_name: str) -> None:
    store = TableStore.from_connection_string(storage_connection_string)
    log = AuditLog(store.table(unique_name))
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for i in range(5):
                log.append("cust", [entry(offset + i)], attempts=50)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n * 10,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    trail = log.read("cust")
    assert [r.seq for r in trail.records] == list(range(20, 0, -1))
    assert trail.verified


def test_an_entry_timed_in_another_zone_still_verifies(
    storage_connection_string: str, unique_name: str
) -> None:
    from datetime import timedelta, timezone

    log = AuditLog(TableStore.from_connection_string(storage_connection_string).table(unique_name))
    shanghai = timezone(timedelta(hours=8))
    log.append(
        "cust",
        [
            entry(1),
            entry(2).model_copy(update={"at": datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=shanghai)}),
        ],
    )
    trail = log.read("cust")
    assert trail.verified, trail.problem
    assert trail.records[0].at == datetime(2026, 11, 25, 1, 30, 0, 123456, tzinfo=UTC)


def test_an_append_while_reading_does_not_look_like_tampering(
    storage_connection_string: str, unique_name: str
) -> None:
    table = TableStore.from_connection_string(storage_connection_string).table(unique_name)
    log = AuditLog(table)
    log.append("cust", [entry(1), entry(2)])
    original = log.read_head

    appended: list[int] = []

    def head_then_someone_appends(partition_key: str):  # type: ignore[no-untyped-def]
        head = original(partition_key)
        if not appended:  # someone appends between reading the head and reading the entries
            AuditLog(table).append(partition_key, [entry(3)])
            appended.append(3)
        return head

    log.read_head = head_then_someone_appends  # type: ignore[method-assign]
    trail = log.read("cust")
    assert trail.verified, trail.problem
    assert [r.seq for r in trail.records] == [2, 1]
    log.read_head = original  # type: ignore[method-assign]
    assert [r.seq for r in log.read("cust").records] == [3, 2, 1]
