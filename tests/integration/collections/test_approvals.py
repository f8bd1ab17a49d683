"""Approval of a held-back suspension batch while the scan that made it is still adding to it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import runtime
from shared.adapters.audit import AuditLog
from shared.adapters.customers import CustomerRepository
from shared.adapters.layout import PARTNER_PARTITION
from shared.errors import Conflict, ValidationFailed
from shared.services.collections import approvals
from tests.actors import BOB
from tests.integration.collections.conftest import Env, deps, new_customer


def test_release_while_a_scan_adds_to_the_batch_releases_everyone_and_answers(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = deps().policy()
    first, late = new_customer(), new_customer()
    approvals.add_to_batch(deps(), "b1", first, policy, env.clock.now())
    original = approvals._stage_partner_audit
    raced: list[bool] = []

    def stage(table: Any, tx: Any, now: Any, action: str, *args: Any, **kwargs: Any) -> None:
        if action == "collections.batch_released" and not raced:
            raced.append(True)  # the scan adds one more held-back customer just before the write
            approvals.add_to_batch(deps(), "b1", late, policy, env.clock.now())
        original(table, tx, now, action, *args, **kwargs)

    monkeypatch.setattr(approvals, "_stage_partner_audit", stage)
    released = approvals.release_batch(deps(), "b1", actor=BOB, policy=policy)
    assert raced and released.status == "released"
    assert sorted(released.results) == sorted([first, late])
    stored = approvals.get_batch(deps(), "b1")
    assert stored.status == "released" and sorted(stored.customer_ids) == sorted([first, late])
    assert approvals.release_batch(deps(), "b1", actor=BOB, policy=policy).status == "released"


def test_a_batch_and_its_partner_audit_entry_are_written_together(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_standalone_append(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit append outside the batch's transaction")

    monkeypatch.setattr(AuditLog, "append", no_standalone_append)
    policy = deps().policy()
    approvals.add_to_batch(deps(), "b3", new_customer(), policy, env.clock.now())
    assert approvals.release_batch(deps(), "b3", actor=BOB, policy=policy).status == "released"
    trail = CustomerRepository.of(runtime.table_store()).audit_log.read(PARTNER_PARTITION)
    assert trail.verified
    assert [r.action for r in trail.records][:2] == ["collections.batch_released", "collections.cap_reached"]


def test_release_outside_the_enforcement_window_is_refused_and_keeps_the_batch(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = deps().policy()
    cid = new_customer()
    approvals.add_to_batch(deps(), "b2", cid, policy, env.clock.now())
    env.clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))  # Monday 20:00 in Shanghai
    with pytest.raises(Conflict, match="2026-03-03 09:00 Asia/Shanghai"):
        approvals.release_batch(deps(), "b2", actor=BOB, policy=policy)
    assert approvals.get_batch(deps(), "b2").status == "pending"
    env.clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # Tuesday 09:00
    assert approvals.release_batch(deps(), "b2", actor=BOB, policy=policy).status == "released"


@pytest.mark.parametrize("batch_id", ["", "a/b", "a\\b", "a#b", "a?b", "a:b", "ab\n", "a\tb", "x" * 101])
def test_a_batch_id_storage_would_refuse_is_a_422(env: Env, batch_id: str) -> None:
    with pytest.raises(ValidationFailed):
        approvals.release_batch(deps(), batch_id, actor=BOB, policy=deps().policy())


def test_many_workers_fill_one_batch_without_contention_or_a_size_limit(env: Env) -> None:
    """A broken feed trips the cap for thousands of customers at once: members are rows of their
    own, so eight scan workers adding at once never conflict and the batch row does not grow
    (a JSON list of ids in one property stopped at about 840 customers)."""
    policy = deps().policy()
    ids = [str(uuid.uuid4()) for _ in range(160)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda cid: approvals.add_to_batch(deps(), "b4", cid, policy, env.clock.now()), ids))
    assert sorted(approvals.get_batch(deps(), "b4").customer_ids) == sorted(ids)
    header = CustomerRepository.of(runtime.table_store()).table.get_raw(
        PARTNER_PARTITION, approvals.BATCH_PREFIX + "b4"
    )
    assert header is not None and header["customer_ids"] == "[]"
    released = approvals.release_batch(deps(), "b4", actor=BOB, policy=policy)
    assert len(released.results) == 160 and released.status == "released"
