"""plan_reconcile: the pure rules of what to suspend, reactivate, confirm, settle or leave alone,
per subscription (docs/partner-center-client.md, "Whose suspension is it")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.reconcile_plan import PlannedAction, plan_reconcile
from shared.domain.suspensions import (
    PendingCall,
    Refusal,
    SubscriptionView,
    SuspensionRecord,
    SuspensionState,
    Verb,
    Waiting,
)

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
S = SuspensionState


def sub(
    sid: str,
    status: str = "active",
    parent: str | None = None,
    *,
    reasons: tuple[str, ...] | None = None,
    auto_renew: bool | None = None,
) -> SubscriptionView:
    return SubscriptionView(
        subscription_id=sid,
        status=status,
        parent_subscription_id=parent,
        suspension_reasons=reasons,
        auto_renew_enabled=auto_renew,
    )


def rec(sid: str, state: SuspensionState, **fields: object) -> SuspensionRecord:
    values: dict[str, object] = {
        "subscription_id": sid,
        "suspended_at": NOW - timedelta(minutes=5),
        "correlation_id": "c",
        "state": state,
        "request_id": f"req-{sid}",
        **fields,
    }
    return SuspensionRecord.model_validate(values)


def pending(verb: Verb, minutes_ago: int = 5) -> PendingCall:
    return PendingCall(verb=verb, request_id="req-pending", sent_at=NOW - timedelta(minutes=minutes_ago))


def plan(
    holds: list[str], subs: list[SubscriptionView], records: dict[str, SuspensionRecord]
) -> list[PlannedAction]:
    return plan_reconcile(holds, subs, records, now=NOW, settle=timedelta(minutes=60))


def kinds(actions: list[PlannedAction]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (a.kind.value, a.subscription.subscription_id, tuple(x.subscription_id for x in a.add_ons))
        for a in actions
    ]


def test_a_hold_suspends_active_bases_with_their_add_ons_never_add_ons_alone() -> None:
    subs = [
        sub("base"),
        sub("addon", parent="base"),
        sub("other"),
        sub("gone", "deleted"),
        sub("odd", "disabled"),
    ]
    actions = plan(["non_payment"], subs, {})
    assert kinds(actions) == [("suspend", "base", ("addon",)), ("suspend", "other", ())]
    assert all(a.request_id is None for a in actions)  # fresh requests


def test_suspended_by_someone_else_is_never_touched() -> None:
    subs = [sub("theirs", "suspended")]
    assert plan(["fraud-1"], subs, {}) == []
    assert plan([], subs, {}) == []
    gone = {
        "theirs": rec("theirs", S.RELEASED),
    }
    assert plan([], subs, gone) == []


def test_no_hold_reactivates_only_ours_still_suspended() -> None:
    subs = [sub("ours", "suspended"), sub("addon", "suspended", parent="ours"), sub("theirs", "suspended")]
    records = {"ours": rec("ours", S.SUSPENDED_BY_US), "addon": rec("addon", S.SUSPENDED_BY_US)}
    assert kinds(plan([], subs, records)) == [("reactivate", "ours", ())]  # the add-on waits for its base


def test_a_permanent_refusal_is_not_retried_under_the_holds_and_forgotten_when_they_go() -> None:
    refusal = Refusal(verb=Verb.SUSPEND, kind="refused", http_status=403, code="900115", at=NOW)
    records = {"plan": rec("plan", S.REFUSED, refusal=refusal)}
    subs = [sub("plan"), sub("other")]
    assert kinds(plan(["h"], subs, records)) == [("suspend", "other", ())]
    assert kinds(plan([], subs, records)) == [("forget", "plan", ())]


def test_a_refused_reactivation_is_ours_again_when_held_again() -> None:
    refusal = Refusal(verb=Verb.REACTIVATE, kind="refused", http_status=400, code="900277", at=NOW)
    records = {"s": rec("s", S.REFUSED, refusal=refusal)}
    assert kinds(plan(["h"], [sub("s", "suspended")], records)) == [("confirm", "s", ())]
    assert plan([], [sub("s", "suspended")], records) == []  # not retried
    assert kinds(plan([], [sub("s")], records)) == [("close", "s", ())]  # reactivated elsewhere


def test_an_intent_left_by_an_earlier_run_is_resent_with_its_request_id_while_active() -> None:
    records = {"s": rec("s", S.SUSPENDING)}
    (action,) = plan(["h"], [sub("s")], records)
    assert action.kind.value == "suspend" and action.request_id == "req-s"


def test_an_intent_found_on_a_suspended_subscription_cannot_be_told_ours() -> None:
    """The crash gap: intent committed, the PATCH maybe never sent, someone else suspended it."""
    records = {"s": rec("s", S.SUSPENDING)}
    assert kinds(plan(["h"], [sub("s", "suspended")], records)) == [("undecided", "s", ())]
    assert kinds(plan([], [sub("s", "suspended")], records)) == [("undecided", "s", ())]
    # ... and never reactivated while undecided
    undecided = {"s": rec("s", S.UNDECIDED)}
    assert plan([], [sub("s", "suspended")], undecided) == []
    assert plan(["h"], [sub("s", "suspended")], undecided) == []
    # moot once someone reactivated it
    assert kinds(plan([], [sub("s")], undecided)) == [("forget", "s", ())]
    assert kinds(plan(["h"], [sub("s")], undecided)) == [("suspend", "s", ())]


def test_an_unanswered_suspension_is_confirmed_by_a_read_that_shows_it_applied() -> None:
    records = {"s": rec("s", S.UNKNOWN, pending=pending(Verb.SUSPEND))}
    assert kinds(plan(["h"], [sub("s", "suspended")], records)) == [("confirm", "s", ())]
    (again,) = plan(["h"], [sub("s")], records)
    assert again.kind.value == "suspend" and again.request_id == "req-s"  # the same request again


def test_a_late_applied_suspension_whose_hold_is_gone_is_reactivated() -> None:
    records = {"s": rec("s", S.UNKNOWN, pending=pending(Verb.SUSPEND))}
    assert kinds(plan([], [sub("s", "suspended")], records)) == [("reactivate", "s", ())]


def test_an_unanswered_suspension_without_a_hold_waits_to_settle_then_is_forgotten() -> None:
    recent = {"s": rec("s", S.UNKNOWN, pending=pending(Verb.SUSPEND, minutes_ago=5))}
    (waiting,) = plan([], [sub("s")], recent)
    assert waiting.kind.value == "await" and waiting.recheck_at == NOW + timedelta(minutes=55)
    old = {"s": rec("s", S.UNKNOWN, pending=pending(Verb.SUSPEND, minutes_ago=61))}
    assert kinds(plan([], [sub("s")], old)) == [("forget", "s", ())]


def test_an_unanswered_reactivation_is_settled_by_the_read() -> None:
    records = {"s": rec("s", S.UNKNOWN, pending=pending(Verb.REACTIVATE))}
    assert kinds(plan([], [sub("s")], records)) == [("close", "s", ())]
    (again,) = plan([], [sub("s", "suspended")], records)
    assert again.kind.value == "reactivate" and again.request_id == "req-pending"
    # held again before it applied: our suspension stands
    assert kinds(plan(["h"], [sub("s", "suspended")], records)) == [("confirm", "s", ())]
    # held again after it applied (the mirror case): suspended again
    assert kinds(plan(["h"], [sub("s")], records)) == [("suspend", "s", ())]


def test_ours_reactivated_by_hand_is_resuspended_while_held_and_closed_once_paid() -> None:
    records = {"s": rec("s", S.SUSPENDED_BY_US)}
    assert kinds(plan(["h"], [sub("s")], records)) == [("suspend", "s", ())]
    assert kinds(plan([], [sub("s")], records)) == [("close", "s", ())]


def test_converged_states_plan_nothing() -> None:
    ours = {"s": rec("s", S.SUSPENDED_BY_US, reasons_after=["PartnerInitiated"])}
    assert plan(["h"], [sub("s", "suspended", reasons=("PartnerInitiated",))], ours) == []
    done = {"s": rec("s", S.REACTIVATED)}
    assert plan([], [sub("s")], done) == []
    assert plan([], [sub("s", "suspended")], done) == []  # suspended since by someone else


def test_an_add_on_whose_base_is_not_listed_is_treated_as_a_base() -> None:
    assert kinds(plan(["h"], [sub("addon", parent="missing")], {})) == [("suspend", "addon", ())]


def test_ours_suspended_again_for_another_reason_is_released_not_reactivated() -> None:
    ours = rec("s", S.SUSPENDED_BY_US, reasons_after=["PartnerInitiated"])
    changed = sub("s", "suspended", reasons=("Fraud",))
    added = sub("s", "suspended", reasons=("PartnerInitiated", "Fraud"))
    same = sub("s", "suspended", reasons=("PartnerInitiated",))
    assert kinds(plan([], [changed], {"s": ours})) == [("release", "s", ())]
    assert kinds(plan([], [added], {"s": ours})) == [("release", "s", ())]
    assert kinds(plan([], [same], {"s": ours})) == [("reactivate", "s", ())]
    assert kinds(plan([], [sub("s", "suspended")], {"s": ours})) == [
        ("reactivate", "s", ())
    ]  # no reasons shown
    assert plan(["h"], [changed], {"s": ours}) == []  # held: nothing to do yet


def test_the_reasons_of_our_suspension_are_recorded_once_a_read_shows_them() -> None:
    ours = {"s": rec("s", S.SUSPENDED_BY_US)}
    assert kinds(plan(["h"], [sub("s", "suspended", reasons=("PartnerInitiated",))], ours)) == [
        ("confirm", "s", ())
    ]


def test_add_ons_follow_their_base_confirmed_by_a_read_then_closed_or_reactivated() -> None:
    base_ours = rec("base", S.SUSPENDED_BY_US)
    follower = rec("addon", S.SUSPENDING, request_id=None)
    subs = [sub("base", "suspended"), sub("addon", "suspended", parent="base")]
    assert kinds(plan(["h"], subs, {"base": base_ours, "addon": follower})) == [("confirm", "addon", ())]
    records = {
        "base": rec("base", S.REACTIVATED),
        "back": rec("back", S.SUSPENDED_BY_US),
        "stuck": rec("stuck", S.SUSPENDED_BY_US),
    }
    subs = [sub("base"), sub("back", parent="base"), sub("stuck", "suspended", parent="base")]
    # one came back with its base; one did not (whether add-ons follow is not documented): ours
    assert kinds(plan([], subs, records)) == [("close", "back", ()), ("reactivate", "stuck", ())]
    records["stuck"] = rec("stuck", S.SUSPENDED_BY_US, reasons_after=["PartnerInitiated"])
    subs[2] = sub("stuck", "suspended", parent="base", reasons=("Fraud",))
    assert kinds(plan([], subs, records)) == [("close", "back", ()), ("release", "stuck", ())]


def test_an_add_on_follows_its_undecided_base() -> None:
    records = {"base": rec("base", S.SUSPENDING), "addon": rec("addon", S.SUSPENDING, request_id=None)}
    subs = [sub("base", "suspended"), sub("addon", "suspended", parent="base")]
    assert kinds(plan([], subs, records)) == [("undecided", "base", ()), ("undecided", "addon", ())]


def test_a_wait_is_retried_while_held_and_forgotten_when_not() -> None:
    waiting = Waiting(verb=Verb.SUSPEND, code="409", since=NOW, delay_seconds=120, budget_seconds=86400)
    records = {"s": rec("s", S.WAITING, waiting=waiting)}
    assert kinds(plan(["h"], [sub("s")], records)) == [("suspend", "s", ())]
    assert kinds(plan(["h"], [sub("s", "suspended")], records)) == [("release", "s", ())]  # someone else's
    assert kinds(plan([], [sub("s")], records)) == [("forget", "s", ())]


def test_auto_renew_is_restored_once_after_our_reactivation_where_it_was_on() -> None:
    was_on = rec("s", S.REACTIVATED, auto_renew_before=True)
    assert kinds(plan([], [sub("s", auto_renew=False)], {"s": was_on})) == [("restore_auto_renew", "s", ())]
    assert plan([], [sub("s", auto_renew=True)], {"s": was_on}) == []
    assert plan(["h"], [sub("s", auto_renew=False)], {"s": was_on})[0].kind.value == "suspend"
    done = was_on.model_copy(update={"auto_renew_restored": True})
    assert (
        plan([], [sub("s", auto_renew=False)], {"s": done}) == []
    )  # turned off since: the customer's choice
    was_off = rec("s", S.REACTIVATED, auto_renew_before=False)
    assert plan([], [sub("s", auto_renew=False)], {"s": was_off}) == []


def test_an_add_on_back_with_its_base_is_audited_as_normal_not_as_a_fault() -> None:
    """The usual return of an add-on with its base reads as such, not as someone else's doing."""
    records = {"base": rec("base", S.REACTIVATED), "back": rec("back", S.SUSPENDED_BY_US)}
    (step,) = plan([], [sub("base"), sub("back", parent="base")], records)
    assert step.kind.value == "close" and step.why == "came back with its base"
    for fault in ("elsewhere", "never applied", "fault"):
        assert fault not in step.why
