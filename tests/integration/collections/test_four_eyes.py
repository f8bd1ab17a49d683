"""Four-eyes on Azurite: what needs a second person waits as a pending change; a different person
with the approve role approves (carried out as them) or rejects it; both are audited with who
acted; nobody approves their own change; the defaults come from the policy."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from shared import runtime
from shared.domain.changes import ChangeKind, ChangeStatus
from shared.domain.customer import CustomerProfile
from shared.errors import Conflict, Forbidden
from shared.services.collections import approvals, controls, customer_view, four_eyes, ledger, pending
from shared.services.outcomes import Effect
from shared.settings import REPO_ROOT
from tests.actors import ALICE, BOB, CAROL
from tests.integration.collections.conftest import START, Env, deps, new_customer

TODAY = date(2026, 3, 2)  # START, local date


def _audit(customer_id: str) -> list[Any]:
    return customer_view.audit_trail(deps(), customer_id)["entries"]


def _exemption(kind: str, days: int) -> controls.ExemptionIn:
    return controls.ExemptionIn(kind=kind, until=TODAY + timedelta(days=days), reason="CFO promised")


def test_a_short_promise_to_pay_needs_one_person(env: Env) -> None:
    cid = new_customer()
    written = controls.add_exemption(
        deps(), cid, _exemption("promise_to_pay", 14), actor=ALICE, correlation_id="c"
    )
    assert written.effect is Effect.CREATED
    assert written.value.created_by_id == ALICE.id and written.value.approved_by is None


def test_a_long_promise_waits_for_a_second_person_who_carries_it_out(env: Env) -> None:
    cid = new_customer()
    asked = controls.add_exemption(
        deps(), cid, _exemption("promise_to_pay", 15), actor=ALICE, correlation_id="c1"
    )
    assert asked.effect is Effect.PENDING
    change = asked.value
    assert change.kind is ChangeKind.PROMISE_TO_PAY and change.requested_by.id == ALICE.id
    assert change.summary["zh-CN"] and change.summary["en"] and "14" in change.why["en"]
    assert customer_view.customer_view(deps(), cid).exemptions == []  # nothing applied yet
    assert [c.change_id for c in customer_view.customer_view(deps(), cid).pending_changes] == [
        change.change_id
    ]

    approved = four_eyes.approve_change(
        deps(), change.change_id, four_eyes.ApprovalNote(note="ok"), actor=BOB, correlation_id="c2"
    )
    assert approved.status is ChangeStatus.APPROVED and approved.decided_by is not None
    assert approved.decided_by.id == BOB.id and "exemption" in (approved.result or "")
    [exemption] = customer_view.customer_view(deps(), cid).exemptions
    assert (exemption.created_by_id, exemption.approved_by_id, exemption.change_id) == (
        ALICE.id,
        BOB.id,
        change.change_id,
    )
    trail = {e["action"]: e for e in _audit(cid)}
    assert trail["change.requested"]["actor_id"] == ALICE.id
    assert trail["exemption.added"]["actor_id"] == BOB.id
    assert trail["exemption.added"]["details"]["requested_by"]["id"] == ALICE.id
    assert trail["change.approved"]["actor_id"] == BOB.id and trail["change.approved"]["actor_kind"] == "user"
    again = four_eyes.approve_change(
        deps(), change.change_id, four_eyes.ApprovalNote(), actor=CAROL, correlation_id="c3"
    )
    assert again.decided_by is not None and again.decided_by.id == BOB.id  # approved once
    assert len(customer_view.customer_view(deps(), cid).exemptions) == 1


def test_nobody_approves_or_rejects_their_own_change(env: Env) -> None:
    cid = new_customer()
    change = controls.add_exemption(
        deps(), cid, _exemption("enforcement_off", 3), actor=BOB, correlation_id="c"
    ).value
    with pytest.raises(Forbidden) as refused:
        four_eyes.approve_change(
            deps(), change.change_id, four_eyes.ApprovalNote(), actor=BOB, correlation_id="c"
        )
    assert "another person" in refused.value.detail and refused.value.localized
    assert refused.value.members and refused.value.members["change_id"] == change.change_id
    with pytest.raises(Forbidden):
        four_eyes.reject_change(
            deps(), change.change_id, four_eyes.Rejection(note="no"), actor=BOB, correlation_id="c"
        )
    assert pending.get_change(deps(), change.change_id).status is ChangeStatus.PENDING
    assert customer_view.customer_view(deps(), cid).exemptions == []


def test_a_rejection_applies_nothing_and_keeps_the_reason(env: Env) -> None:
    cid = new_customer()
    change = controls.add_exemption(
        deps(), cid, _exemption("enforcement_off", 3), actor=ALICE, correlation_id="c"
    ).value
    with pytest.raises(PydanticValidationError):
        four_eyes.Rejection.model_validate({"note": ""})  # a rejection says why
    rejected = four_eyes.reject_change(
        deps(), change.change_id, four_eyes.Rejection(note="no contract"), actor=BOB, correlation_id="c"
    )
    assert rejected.status is ChangeStatus.REJECTED and rejected.decision_note == "no contract"
    assert customer_view.customer_view(deps(), cid).exemptions == []
    with pytest.raises(Conflict):
        four_eyes.approve_change(
            deps(), change.change_id, four_eyes.ApprovalNote(), actor=CAROL, correlation_id="c"
        )
    entry = next(e for e in _audit(cid) if e["action"] == "change.rejected")
    assert entry["actor_id"] == BOB.id and "no contract" in entry["reason"]


def test_the_same_request_twice_joins_the_change_already_waiting(env: Env) -> None:
    cid = new_customer()
    first = controls.add_exemption(
        deps(), cid, _exemption("enforcement_off", 5), actor=ALICE, correlation_id="c"
    )
    second = controls.add_exemption(
        deps(), cid, _exemption("enforcement_off", 5), actor=ALICE, correlation_id="c"
    )
    assert first.value.change_id == second.value.change_id
    other = controls.add_exemption(
        deps(), cid, _exemption("enforcement_off", 6), actor=ALICE, correlation_id="c"
    )
    assert other.value.change_id != first.value.change_id
    assert len(pending.list_changes(deps(), customer_id=cid).items) == 2


def test_marking_a_customer_protected_saves_the_rest_and_waits(env: Env) -> None:
    cid = new_customer()
    profile = CustomerProfile.model_validate({"name": "Renamed", "locale": "en", "protected": True})
    written = ledger.put_customer(deps(), cid, profile, actor=ALICE, correlation_id="c")
    assert written.effect is Effect.PENDING
    assert written.value.customer.profile.name == "Renamed"  # the rest is saved at once
    assert written.value.customer.profile.protected is False
    change = written.value.pending_change
    four_eyes.approve_change(
        deps(), change.change_id, four_eyes.ApprovalNote(), actor=BOB, correlation_id="c"
    )
    assert customer_view.customer_view(deps(), cid).profile.protected is True
    entry = next(e for e in _audit(cid) if e["action"] == "customer.protected")
    assert entry["actor_id"] == BOB.id and entry["details"]["change_id"] == change.change_id
    unprotect = profile.model_copy(update={"protected": False})
    assert (
        ledger.put_customer(deps(), cid, unprotect, actor=ALICE, correlation_id="c").effect is Effect.UPDATED
    )


def test_releasing_a_capped_batch_needs_a_second_approver(env: Env) -> None:
    policy = deps().policy()
    member = new_customer()
    approvals.add_to_batch(deps(), "cap-1", member, policy, env.clock.now())
    asked = four_eyes.request_batch_release(deps(), "cap-1", actor=BOB, policy=policy, correlation_id="c")
    assert asked.effect is Effect.PENDING and approvals.get_batch(deps(), "cap-1").status == "pending"
    change = asked.value
    with pytest.raises(Forbidden):
        four_eyes.approve_change(
            deps(), change.change_id, four_eyes.ApprovalNote(), actor=BOB, correlation_id="c"
        )
    four_eyes.approve_change(
        deps(), change.change_id, four_eyes.ApprovalNote(), actor=CAROL, correlation_id="c"
    )
    batch = approvals.get_batch(deps(), "cap-1")
    assert batch.status == "released" and batch.released_by_id == CAROL.id
    assert batch.release_requested_by == BOB.name
    released = four_eyes.request_batch_release(deps(), "cap-1", actor=BOB, policy=policy, correlation_id="c")
    assert released.effect is Effect.UNCHANGED


def test_a_refusal_while_carrying_out_puts_the_change_back(env: Env) -> None:
    policy = deps().policy()
    approvals.add_to_batch(deps(), "cap-2", new_customer(), policy, env.clock.now())
    change = four_eyes.request_batch_release(
        deps(), "cap-2", actor=BOB, policy=policy, correlation_id="c"
    ).value
    env.clock.set(START + timedelta(hours=12))  # 22:00 in Shanghai: the enforcement window is closed
    with pytest.raises(Conflict, match="window"):
        four_eyes.approve_change(
            deps(), change.change_id, four_eyes.ApprovalNote(), actor=CAROL, correlation_id="c"
        )
    assert pending.get_change(deps(), change.change_id).status is ChangeStatus.PENDING
    env.clock.set(START + timedelta(days=1))
    approved = four_eyes.approve_change(
        deps(), change.change_id, four_eyes.ApprovalNote(), actor=CAROL, correlation_id="c"
    )
    assert approved.status is ChangeStatus.APPROVED


def test_a_change_not_decided_in_time_expires(env: Env) -> None:
    cid = new_customer()
    change = controls.add_exemption(
        deps(), cid, _exemption("enforcement_off", 30), actor=ALICE, correlation_id="c"
    ).value
    env.clock.set(START + timedelta(days=7))
    assert pending.get_change(deps(), change.change_id).status is ChangeStatus.EXPIRED
    with pytest.raises(Conflict, match="expired"):
        four_eyes.approve_change(
            deps(), change.change_id, four_eyes.ApprovalNote(), actor=BOB, correlation_id="c"
        )
    assert pending.list_changes(deps(), status="expired").items[0].change_id == change.change_id


def test_which_changes_need_four_eyes_is_policy(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (REPO_ROOT / "policy" / "collections.toml").read_text(encoding="utf-8")
    text = text.replace("enforcement_off = true ", "enforcement_off = false").replace(
        "promise_to_pay_alone_max_days = 14", "promise_to_pay_alone_max_days = 30"
    )
    path = tmp_path / "collections.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("POLICY_FILE", str(path))
    runtime.reset()
    cid = new_customer()
    assert (
        controls.add_exemption(
            deps(), cid, _exemption("enforcement_off", 3), actor=ALICE, correlation_id="c"
        ).effect
        is Effect.CREATED
    )
    assert (
        controls.add_exemption(
            deps(), cid, _exemption("promise_to_pay", 29), actor=ALICE, correlation_id="c"
        ).effect
        is Effect.CREATED
    )
    assert (
        controls.add_exemption(
            deps(), cid, _exemption("promise_to_pay", 31), actor=ALICE, correlation_id="c"
        ).effect
        is Effect.PENDING
    )


def test_the_pending_list_pages_oldest_first(env: Env) -> None:
    cid = new_customer()
    asked = []
    for days in range(20, 27):
        env.clock.set(START + timedelta(minutes=days))
        asked.append(
            controls.add_exemption(
                deps(), cid, _exemption("enforcement_off", days), actor=ALICE, correlation_id="c"
            ).value.change_id
        )
    seen: list[str] = []
    token = None
    while True:
        page = pending.list_changes(deps(), limit=3, continuation_token=token)
        seen += [c.change_id for c in page.items]
        token = page.continuation_token
        if token is None:
            break
    assert seen == asked
