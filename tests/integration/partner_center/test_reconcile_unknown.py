"""Unknown outcomes are settled, never guessed; whose suspension it is, without etags. On the real
simulator (a `defer` fault: Partner Center applies a PATCH after the client gave up) and Azurite,
with crash injection between the intent and the PATCH."""

from __future__ import annotations

import base64
import json

import pytest

from shared.adapters.layout import subscription_row
from shared.domain.suspensions import SuspensionRecord, SuspensionState, Verb
from shared.errors import Conflict
from shared.services.reconcile import calls
from shared.services.reconcile.common import ReconcileOutcome as Outcome
from shared.services.reconcile.drift import run_drift_sweep
from shared.services.reconcile.ownership import OwnershipRequest, Settlement, settle_ownership
from tests.actors import BOB
from tests.integration.partner_center.conftest import C1, C1_ADDON, C1_BASE, C3, C3_ACTIVE, Env


def record(env: Env, customer_id: str, subscription_id: str) -> SuspensionRecord:
    stored = env.table.get(SuspensionRecord, customer_id, subscription_row(subscription_id))
    assert stored is not None
    return stored.value


def actions(env: Env, customer_id: str) -> list[str]:
    return [r.action for r in env.deps.audit.read(customer_id).records]


def take_queued(env: Env) -> list[str]:
    """Customers of the messages visible now (received and deleted)."""
    found = []
    for message in env.queue.receive_messages(max_messages=32, visibility_timeout=5):
        found.append(json.loads(base64.b64decode(message.content))["customer_id"])
        env.queue.delete_message(message)
    return found


def lost_patches(env: Env, subscription_id: str) -> None:
    """Every attempt of the next PATCH (the call and its in-call retries) goes unanswered, and
    Partner Center applies it when the test says so (`apply_deferred`)."""
    attempts = 1 + env.deps.settings.partner_center_retries
    env.sim.add_fault("defer", method="PATCH", path=subscription_id, times=attempts)


def test_a_suspension_applied_after_the_client_gave_up_is_repaired_by_the_next_sweep(env: Env) -> None:
    env.place_hold(C3)
    lost_patches(env, C3_ACTIVE)
    assert env.reconcile(C3).outcome is Outcome.RESCHEDULED
    unknown = record(env, C3, C3_ACTIVE)
    assert (
        unknown.state is SuspensionState.UNKNOWN and unknown.pending and unknown.pending.verb is Verb.SUSPEND
    )
    env.lift_hold(C3)  # paid meanwhile
    take_queued(env)
    # a read before Partner Center applied it: still unknown (it may yet be applied), no PATCH
    assert env.reconcile(C3).outcome is Outcome.RESCHEDULED
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.UNKNOWN
    assert env.sim.apply_deferred() == 1  # ... and then it is applied, late
    assert env.status(C3, C3_ACTIVE) == "suspended"
    take_queued(env)
    report = run_drift_sweep(env.deps)
    assert C3 in report.drifted  # no hold, but an unknown record of ours: looked at
    assert take_queued(env) == [C3]
    assert env.reconcile(C3).outcome is Outcome.CONVERGED
    assert env.status(C3, C3_ACTIVE) == "active"
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.REACTIVATED


def test_a_reactivation_applied_after_the_client_gave_up_is_repaired_by_the_next_sweep(env: Env) -> None:
    env.place_hold(C3)
    env.reconcile(C3)
    env.lift_hold(C3)
    lost_patches(env, C3_ACTIVE)
    assert env.reconcile(C3).outcome is Outcome.RESCHEDULED
    unknown = record(env, C3, C3_ACTIVE)
    assert (
        unknown.state is SuspensionState.UNKNOWN
        and unknown.pending
        and unknown.pending.verb is Verb.REACTIVATE
    )
    env.place_hold(C3)  # held again before Partner Center applied it
    assert env.reconcile(C3).outcome is Outcome.CONVERGED
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.SUSPENDED_BY_US  # our suspension stands
    env.sim.apply_deferred()
    assert env.status(C3, C3_ACTIVE) == "active"  # a held customer active: the mirror case
    take_queued(env)
    assert C3 in run_drift_sweep(env.deps).drifted
    assert take_queued(env) == [C3]
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.SUSPENDED_BY_US


def test_an_unanswered_suspension_resent_while_held_is_one_request(env: Env) -> None:
    env.place_hold(C3)
    lost_patches(env, C3_ACTIVE)
    env.reconcile(C3)
    request_id = record(env, C3, C3_ACTIVE).request_id
    env.reconcile(C3)  # still active at the read: the same request again (same MS-RequestId)
    env.sim.apply_deferred()  # the lost one lands too: a replay, not a second change
    patches = [c for c in env.sim.calls() if c["method"] == "PATCH"]
    assert {c["request_id"] for c in patches} == {request_id}
    assert len(env.patches_applied(C3_ACTIVE)) == 1
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.SUSPENDED_BY_US


@pytest.mark.parametrize("run", range(8))
def test_a_crash_in_the_intent_gap_never_reactivates_someone_elses_suspension(
    env: Env, monkeypatch: pytest.MonkeyPatch, run: int
) -> None:
    """The intent is committed, the worker dies before the PATCH is sent, and someone else
    suspends the subscription in that gap (with the same reason a partner's suspension has)."""
    env.place_hold(C3)
    original = calls._patch_status

    def dies_before_sending(*args: object, **kwargs: object) -> object:
        env.sim.set_subscription_status(C3, C3_ACTIVE, "suspended", "PartnerInitiated")
        raise RuntimeError("worker died")

    monkeypatch.setattr(calls, "_patch_status", dies_before_sending)
    with pytest.raises(RuntimeError):
        env.reconcile(C3)
    monkeypatch.setattr(calls, "_patch_status", original)
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.SUSPENDING
    assert env.reconcile(C3, delivery=2).outcome is Outcome.CONVERGED
    undecided = record(env, C3, C3_ACTIVE)
    assert undecided.state is SuspensionState.UNDECIDED and undecided.evidence
    assert (
        undecided.evidence.request_id == undecided.request_id
        and undecided.evidence.status_seen == "suspended"
    )
    assert actions(env, C3).count("alert.ownership_undecided") == 1
    env.lift_hold(C3)
    for _ in range(2):
        env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert [c for c in env.sim.calls() if c["method"] == "PATCH"] == []  # never touched
    assert actions(env, C3).count("alert.ownership_undecided") == 1  # alerted once


def test_a_person_settles_an_undecided_suspension_and_it_is_audited(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.services.reconcile.outcomes import Outcomes

    env.place_hold(C1)
    monkeypatch.setattr(Outcomes, "suspended", lambda *_: (_ for _ in ()).throw(RuntimeError("worker died")))
    with pytest.raises(RuntimeError):
        env.reconcile(C1)  # the first suspension (the base and its add-on) applied, then the crash
    monkeypatch.undo()
    env.reconcile(C1, delivery=2)
    assert record(env, C1, C1_BASE).state is SuspensionState.UNDECIDED
    assert record(env, C1, C1_ADDON).state is SuspensionState.UNDECIDED  # follows its base
    env.lift_hold(C1)
    env.reconcile(C1)
    assert env.status(C1, C1_BASE) == "suspended"  # not on a guess
    take_queued(env)
    request = OwnershipRequest(decision=Settlement.REACTIVATE, note="our own, per the call log")
    written = settle_ownership(env.deps, C1, C1_BASE.upper(), request, actor=BOB)
    assert written.value.state is SuspensionState.SUSPENDED_BY_US and written.value.decision
    assert (written.value.decision.decided_by_id, written.value.decision.decided_by) == (BOB.id, BOB.label)
    assert record(env, C1, C1_ADDON).state is SuspensionState.SUSPENDED_BY_US
    assert settle_ownership(env.deps, C1, C1_BASE, request, actor=BOB).effect.value == "unchanged"
    with pytest.raises(Conflict):
        settle_ownership(
            env.deps, C1, C1_BASE, request.model_copy(update={"decision": Settlement.LEAVE}), actor=BOB
        )
    settled = [r for r in env.deps.audit.read(C1).records if r.action == "ownership.settled"]
    assert (
        len(settled) == 1 and settled[0].actor_id == BOB.id and settled[0].details["decision"] == "reactivate"
    )
    assert take_queued(env) == [C1]  # a reconcile was asked for
    env.reconcile(C1)
    assert env.status(C1, C1_BASE) == env.status(C1, C1_ADDON) == "active"


def test_leave_keeps_it_suspended_for_good(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.place_hold(C3)
    monkeypatch.setattr(calls, "_patch_status", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("died")))
    with pytest.raises(RuntimeError):
        env.reconcile(C3)
    monkeypatch.undo()
    env.sim.set_subscription_status(C3, C3_ACTIVE, "suspended", "PartnerInitiated")
    env.reconcile(C3)
    settle_ownership(
        env.deps, C3, C3_ACTIVE, OwnershipRequest(decision=Settlement.LEAVE, note="a colleague's"), actor=BOB
    )
    env.lift_hold(C3)
    env.reconcile(C3)
    assert env.status(C3, C3_ACTIVE) == "suspended"
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.RELEASED


def test_an_answer_that_does_not_show_the_change_is_settled_by_a_read_not_guessed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partner Center answers 200 but the resource it returns is not (yet) suspended."""
    pc = env.deps.partner_center
    original = pc.set_status
    monkeypatch.setattr(
        pc, "set_status", lambda customer_id, sub, status, **kw: pc.get_subscription(customer_id, sub.id)
    )
    env.place_hold(C3)
    env.reconcile(C3)
    unknown = record(env, C3, C3_ACTIVE)
    assert (
        unknown.state is SuspensionState.UNKNOWN and unknown.pending and unknown.pending.verb is Verb.SUSPEND
    )
    monkeypatch.setattr(pc, "set_status", original)
    env.reconcile(C3)  # still active at the read: the same request again, answered this time
    assert record(env, C3, C3_ACTIVE).state is SuspensionState.SUSPENDED_BY_US
    assert {c["request_id"] for c in env.sim.calls() if c["method"] == "PATCH"} == {unknown.request_id}
