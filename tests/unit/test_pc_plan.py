"""plan_reconcile: the pure rules of what to suspend, reactivate, confirm or leave alone."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.suspensions import (
    SubscriptionView,
    SuspensionRecord,
    SuspensionState,
    plan_reconcile,
)

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def sub(sid: str, status: str = "active", parent: str | None = None) -> SubscriptionView:
    return SubscriptionView(subscription_id=sid, status=status, parent_subscription_id=parent)


def rec(sid: str, state: SuspensionState) -> SuspensionRecord:
    return SuspensionRecord(subscription_id=sid, suspended_at=NOW, correlation_id="c", state=state)


def kinds(actions: list) -> list[tuple[str, str, tuple[str, ...]]]:  # type: ignore[type-arg]
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
    assert kinds(plan_reconcile(["non_payment"], subs, {})) == [
        ("suspend", "base", ("addon",)),
        ("suspend", "other", ()),
    ]


def test_suspended_by_someone_else_is_never_touched() -> None:
    subs = [sub("theirs", "suspended")]
    assert plan_reconcile(["fraud-1"], subs, {}) == []
    assert plan_reconcile([], subs, {}) == []


def test_no_hold_reactivates_only_ours_still_suspended() -> None:
    subs = [sub("ours", "suspended"), sub("addon", "suspended", parent="ours"), sub("theirs", "suspended")]
    records = {
        "ours": rec("ours", SuspensionState.SUSPENDED_BY_US),
        "addon": rec("addon", SuspensionState.SUSPENDED_BY_US),
    }
    assert kinds(plan_reconcile([], subs, records)) == [("reactivate", "ours", ("addon",))]


def test_an_intent_found_on_a_suspended_subscription_is_confirmed_without_a_patch() -> None:
    actions = plan_reconcile(
        ["non_payment"], [sub("s", "suspended")], {"s": rec("s", SuspensionState.SUSPENDING)}
    )
    assert kinds(actions) == [("confirm_suspended", "s", ())]
    assert not actions[0].calls_partner_center


def test_an_intent_whose_patch_never_applied_is_retried_while_held_and_closed_when_not() -> None:
    records = {"s": rec("s", SuspensionState.SUSPENDING)}
    assert kinds(plan_reconcile(["h"], [sub("s")], records)) == [("suspend", "s", ())]
    assert kinds(plan_reconcile([], [sub("s")], records)) == [("close_record", "s", ())]


def test_ours_reactivated_by_hand_is_resuspended_while_held_and_closed_once_paid() -> None:
    records = {"s": rec("s", SuspensionState.SUSPENDED_BY_US)}
    assert kinds(plan_reconcile(["h"], [sub("s")], records)) == [("suspend", "s", ())]
    assert kinds(plan_reconcile([], [sub("s")], records)) == [("close_record", "s", ())]


def test_converged_states_plan_nothing() -> None:
    ours = {"s": rec("s", SuspensionState.SUSPENDED_BY_US)}
    assert plan_reconcile(["h"], [sub("s", "suspended")], ours) == []
    done = {"s": rec("s", SuspensionState.REACTIVATED)}
    assert plan_reconcile([], [sub("s")], done) == []
    assert plan_reconcile([], [sub("s", "suspended")], done) == []  # suspended since by someone else


def test_an_add_on_whose_base_is_not_listed_is_treated_as_a_base() -> None:
    assert kinds(plan_reconcile(["h"], [sub("addon", parent="missing")], {})) == [("suspend", "addon", ())]


def test_ours_whose_etag_changed_since_our_suspension_is_released_not_reactivated() -> None:
    ours = rec("s", SuspensionState.SUSPENDED_BY_US).model_copy(update={"etag_after": "e1"})
    changed = SubscriptionView(subscription_id="s", status="suspended", etag="e2")
    same = SubscriptionView(subscription_id="s", status="suspended", etag="e1")
    assert kinds(plan_reconcile([], [changed], {"s": ours})) == [("release", "s", ())]
    assert kinds(plan_reconcile([], [same], {"s": ours})) == [("reactivate", "s", ())]
    assert plan_reconcile(["h"], [changed], {"s": ours}) == []  # held: nothing to do yet


def test_ours_add_ons_of_a_base_no_longer_ours_are_closed_when_back_and_left_alone_when_not() -> None:
    records = {
        "base": rec("base", SuspensionState.REACTIVATED),
        "back": rec("back", SuspensionState.SUSPENDED_BY_US),
        "stuck": rec("stuck", SuspensionState.SUSPENDED_BY_US),
    }
    subs = [sub("base"), sub("back", parent="base"), sub("stuck", "suspended", parent="base")]
    assert kinds(plan_reconcile([], subs, records)) == [
        ("close_record", "back", ()),
        ("release", "stuck", ()),
    ]
    # a base of ours reactivated by hand: its record closes with the add-ons that came back
    records["base"] = rec("base", SuspensionState.SUSPENDED_BY_US)
    assert kinds(plan_reconcile([], subs, records)) == [
        ("close_record", "base", ("back",)),
        ("release", "stuck", ()),
    ]
