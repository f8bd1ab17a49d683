"""The customer partition repository on Azurite: one query per read, one guarded transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared import runtime
from shared.adapters.audit import AuditEntry
from shared.adapters.customers import CollectionsRecord, CustomerRepository
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.customer import Exemption
from tests.integration.collections.conftest import Env, new_customer

AT = datetime(2026, 3, 2, tzinfo=UTC)


def entry(action: str) -> AuditEntry:
    return AuditEntry(at=AT, actor="t", action=action, correlation_id="c")


def test_load_reads_the_aggregate_without_audit_entries(env: Env) -> None:
    cid = new_customer()
    repo = CustomerRepository.of(runtime.table_store())
    for n in range(5):
        repo.audit_log.append(cid, [entry(f"a{n}")])
    aggregate = repo.load(cid)
    assert aggregate.exists and aggregate.record is not None
    assert aggregate.audit_head.head.seq == 7  # profile save + decision + 5
    assert aggregate.rows_read == 3  # profile, state, audit head: never the audit entries
    assert repo.partitions_read == 1


def test_a_stale_change_applies_nothing(env: Env) -> None:
    cid = new_customer()
    repo = CustomerRepository.of(runtime.table_store())
    first, second = repo.load(cid), repo.load(cid)
    change = repo.change(first)
    change.put_record(first.collections.model_copy(update={"revision": 5}))
    change.audit(entry("first"))
    change.commit()
    stale = repo.change(second)
    exemption = Exemption(
        exemption_id="e1",
        kind="promise_to_pay",
        until=date(2026, 4, 1),
        reason="r",
        created_at=AT,
        created_by="t",
    )
    stale.put(exemption, "exempt:e1", None)
    stale.put_record(CollectionsRecord(revision=9))
    stale.audit(entry("second"))
    with pytest.raises(ConcurrencyConflict):
        stale.commit()
    after = repo.load(cid)
    assert after.collections.revision == 5 and after.exemptions == {}
    assert repo.audit_log.read(cid).verified
    change = repo.change(after)
    change.put(exemption, "exempt:e1", None)
    change.commit()
    assert repo.load(cid).exemptions["e1"].value.until == date(2026, 4, 1)
