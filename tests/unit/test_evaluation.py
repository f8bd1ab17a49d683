"""Example-based tests of the collections evaluation: one test per rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.domain.collections import ActionKind, CollectionsState, Decision, LedgerSummary, Stage, evaluate
from shared.domain.customer import CustomerProfile, ExemptionKind, StoredProfile
from shared.domain.holds import Hold
from shared.domain.policy import Policy
from tests.unit.collections_builders import (
    CUSTOMER_ID,
    exemption,
    ledger,
    local,
    make_policy,
    manual_hold,
    np_hold,
    profile,
)

DUE = date(
    2026, 3, 2
)  # a Monday; reminder 3 -> Thu 5 Mar, warning 10 -> Thu 12 Mar, suspension 20 -> Sun 22 Mar
POLICY = make_policy()


def run(
    now: datetime,
    *,
    led: LedgerSummary | None = None,
    state: CollectionsState | None = None,
    holds: list[Hold] | None = None,
    exemptions: list | None = None,
    prof: CustomerProfile | None = None,
    policy: Policy = POLICY,
    customer_id: str | None = None,
) -> Decision:
    return evaluate(
        policy,
        prof or profile(),
        led or ledger("500.00", DUE),
        holds or [],
        exemptions or [],
        delivered(state or CollectionsState()),
        now,
        customer_id=customer_id,
    )


def delivered(state: CollectionsState) -> CollectionsState:
    """The state as the notice sender leaves it: here every warning reached the customer at once."""
    if state.warning_sent_at is None or state.warning_delivered_at is not None:
        return state
    return state.model_copy(update={"warning_delivered_at": state.warning_sent_at})


def kinds(decision: Decision) -> list[tuple[str, str]]:
    return [(a.kind.value, a.stage.value) for a in decision.actions]


def warned(at: datetime, due_on: date) -> CollectionsState:
    """A state in which the warning was sent at `at`, naming `due_on`."""
    return CollectionsState(
        stage=Stage.WARNING,
        episode_id="ep1-20260303",
        episode_started_on=date(2026, 3, 3),
        notices_sent={"reminder": at - timedelta(days=7), "warning": at},
        warning_sent_at=at,
        suspension_due_on=due_on,
        version=3,
    )


# --- threshold ---------------------------------------------------------------------------------


def test_below_the_minimum_nothing_happens() -> None:
    decision = run(local(2026, 4, 20, 10), led=ledger("99.99", DUE))
    assert decision.actions == []
    assert decision.stage is Stage.CURRENT
    assert decision.next_review_at is None
    assert any("below the minimum" in r for r in decision.reasons)


def test_exactly_the_minimum_counts_as_overdue() -> None:
    decision = run(local(2026, 3, 5, 10), led=ledger("100.00", DUE))
    assert kinds(decision) == [("send_notice", "reminder")]


def test_below_the_minimum_lifts_the_non_payment_hold_and_closes_the_episode() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23)).model_copy(
        update={"stage": Stage.SUSPENSION, "suspended_at": local(2026, 3, 23, 9)}
    )
    holds = [np_hold(local(2026, 3, 23, 9)), manual_hold(local(2026, 3, 1))]
    # Saturday night: lifting is allowed outside the enforcement window.
    decision = run(local(2026, 3, 28, 23), led=ledger("20.00", DUE), state=state, holds=holds)
    assert kinds(decision) == [("lift_hold", "current")]
    assert decision.stage is Stage.CURRENT
    assert decision.new_state.episode_id is None
    assert decision.new_state.notices_sent == {}
    assert decision.new_state.version == state.version + 1


def test_a_manual_hold_alone_is_never_lifted() -> None:
    decision = run(local(2026, 3, 28, 23), led=ledger("0", None), holds=[manual_hold(local(2026, 3, 1))])
    assert decision.actions == []


def test_a_currency_without_a_minimum_counts_any_overdue_amount() -> None:
    decision = run(local(2026, 3, 5, 10), led=ledger("1.00", DUE, currency="EUR"))
    assert kinds(decision) == [("send_notice", "reminder")]
    assert any("none configured for EUR" in r for r in decision.reasons)


def test_usd_minimum() -> None:
    assert run(local(2026, 3, 5, 10), led=ledger("14.99", DUE, currency="USD")).actions == []
    assert kinds(run(local(2026, 3, 5, 10), led=ledger("15.00", DUE, currency="USD"))) == [
        ("send_notice", "reminder")
    ]


def test_not_yet_overdue_reviews_when_the_invoice_falls_due() -> None:
    led = ledger("0", None, not_yet_due="500.00").model_copy(update={"next_due_date": date(2026, 3, 2)})
    decision = run(local(2026, 2, 20, 10), led=led)
    assert decision.actions == []
    # overdue from 3 March (local), first window opening that day
    assert decision.next_review_at == local(2026, 3, 3, 9)


# --- time zone ---------------------------------------------------------------------------------


def test_days_past_due_follow_the_policy_time_zone_day_boundary() -> None:
    # 2026-03-04T15:59Z is 23:59 on 4 March in Shanghai: 2 days past due.
    before = run(datetime(2026, 3, 4, 15, 59, tzinfo=UTC))
    assert before.days_past_due == 2
    # 2026-03-04T16:00Z is 00:00 on 5 March in Shanghai: 3 days past due, reminder due, but the
    # window is closed: no action, review at 09:00 local (01:00Z).
    after = run(datetime(2026, 3, 4, 16, 0, tzinfo=UTC))
    assert after.days_past_due == 3
    assert after.actions == []
    assert after.next_review_at == datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    assert kinds(run(after.next_review_at, state=after.new_state)) == [("send_notice", "reminder")]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        run(datetime(2026, 3, 5, 10))


# --- stages ------------------------------------------------------------------------------------


def test_episode_starts_when_first_overdue_and_reminder_waits_for_its_day() -> None:
    decision = run(local(2026, 3, 3, 10))
    assert decision.actions == []
    assert decision.new_state.episode_id is not None
    assert decision.new_state.episode_started_on == date(2026, 3, 3)
    assert decision.next_review_at == local(2026, 3, 5, 9)


def test_reminder_on_its_day_with_the_notice_content() -> None:
    decision = run(local(2026, 3, 5, 10))
    assert kinds(decision) == [("send_notice", "reminder")]
    notice = decision.actions[0].notice
    assert notice is not None
    assert notice.amount_overdue.to_text() == "500.00 CNY"
    assert [i.number for i in notice.invoices] == ["INV-2026-001"]
    assert notice.days_past_due == 3
    assert notice.suspension_date is None
    assert decision.new_state.notices_sent["reminder"] == local(2026, 3, 5, 10)
    assert decision.next_review_at == local(2026, 3, 12, 9)  # the warning's day


def test_a_notice_is_sent_once_per_episode() -> None:
    first = run(local(2026, 3, 5, 10))
    again = run(local(2026, 3, 6, 10), state=first.new_state)
    assert again.actions == []
    assert again.new_state.version == first.new_state.version


def test_warning_names_the_policy_suspension_day_moved_to_a_working_day() -> None:
    state = run(local(2026, 3, 5, 10)).new_state
    decision = run(local(2026, 3, 12, 10), state=state)
    assert kinds(decision) == [("send_notice", "warning")]
    # day 20 is Sunday 22 March -> Monday 23 March
    assert decision.new_state.suspension_due_on == date(2026, 3, 23)
    notice = decision.actions[0].notice
    assert notice is not None and notice.suspension_date == date(2026, 3, 23)
    assert notice.how_to_pay == POLICY.how_to_pay.zh_cn
    assert decision.next_review_at == local(2026, 3, 23, 9)


def test_a_late_warning_keeps_the_full_notice_period() -> None:
    # Warning days 10 and suspension 17 (min notice 7); warning sent only on day 12.
    policy = make_policy(
        defaults__stages=[
            {"action": "warning", "days_past_due": 10},
            {"action": "suspension", "days_past_due": 17},
        ]
    )
    decision = run(local(2026, 3, 13, 16, 30), policy=policy)  # Friday, day 11
    assert kinds(decision) == [("send_notice", "warning")]
    # day 17 would be Thu 19 March; 13 March + 7 days = Fri 20 March
    assert decision.new_state.suspension_due_on == date(2026, 3, 20)
    # and not before 7 full days after the warning (16:30 local)
    assert decision.next_review_at == local(2026, 3, 20, 16, 30)


def test_suspension_places_the_hold_and_sends_the_suspension_notice() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    decision = run(local(2026, 3, 23, 9, 5), state=state)
    assert kinds(decision) == [("place_hold", "suspension"), ("send_notice", "suspension")]
    assert decision.stage is Stage.SUSPENSION
    assert decision.new_state.suspended_at == local(2026, 3, 23, 9, 5)
    assert decision.next_review_at == local(2026, 4, 16, 9)  # escalation day 45


def test_no_suspension_before_the_named_date() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    decision = run(local(2026, 3, 20, 10), state=state)
    assert decision.actions == []
    assert decision.next_review_at == local(2026, 3, 23, 9)


def test_no_suspension_without_a_warning() -> None:
    state = CollectionsState(episode_id="ep1", notices_sent={"reminder": local(2026, 3, 5, 10)}, version=2)
    decision = run(local(2026, 3, 25, 10), state=state)
    assert kinds(decision) == [("send_notice", "warning")]


def test_no_suspension_outside_the_window_reviews_at_the_next_opening() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    decision = run(local(2026, 3, 23, 17, 0), state=state)  # 17:00 is closed
    assert decision.actions == []
    assert decision.next_review_at == local(2026, 3, 24, 9)
    assert any("outside the enforcement window" in r for r in decision.reasons)


def test_an_existing_hold_is_not_placed_twice() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23)).model_copy(
        update={"suspended_at": local(2026, 3, 23, 9), "stage": Stage.SUSPENSION}
    )
    decision = run(local(2026, 3, 30, 10), state=state, holds=[np_hold(local(2026, 3, 23, 9))])
    assert decision.actions == []
    assert decision.stage is Stage.SUSPENSION


def test_escalation_notifies_staff_once_suspended() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    state.notices_sent["suspension"] = local(2026, 3, 23, 9)
    state.suspended_at = local(2026, 3, 23, 9)
    decision = run(local(2026, 4, 16, 10), state=state, holds=[np_hold(local(2026, 3, 23, 9))])
    assert kinds(decision) == [("notify_staff", "escalation")]
    assert decision.stage is Stage.ESCALATION
    assert decision.next_review_at is None
    notice = decision.actions[0].notice
    assert notice is not None and notice.suspension_date == date(2026, 3, 23)  # suspended since


def test_catch_up_sends_only_the_warning_and_moves_the_suspension() -> None:
    # First scan after an outage: day 30, nothing sent yet (Wed 1 April).
    decision = run(local(2026, 4, 1, 11))
    assert kinds(decision) == [("send_notice", "warning")]
    # 1 April + 7 days = Wed 8 April
    assert decision.new_state.suspension_due_on == date(2026, 4, 8)
    assert any("catch-up" in a.reason for a in decision.actions)
    assert any("reminder not sent" in r for r in decision.reasons)
    later = run(local(2026, 4, 8, 11, 0), state=decision.new_state)
    assert kinds(later) == [("place_hold", "suspension"), ("send_notice", "suspension")]


def test_catch_up_sends_the_missed_reminder_when_the_warning_is_not_yet_due() -> None:
    decision = run(local(2026, 3, 9, 10))  # day 7
    assert kinds(decision) == [("send_notice", "reminder")]


def test_catch_up_suspension_moves_over_a_holiday() -> None:
    # Warning sent Mon 30 March (day 28): +7 = Mon 6 April, a holiday -> Tue 7 April.
    decision = run(local(2026, 3, 30, 10))
    assert decision.new_state.suspension_due_on == date(2026, 4, 7)


# --- window, holidays, make-up days ------------------------------------------------------------


def test_no_notice_on_a_holiday_and_a_make_up_saturday_is_a_working_day() -> None:
    due = date(2026, 2, 10)  # reminder day 13 Feb (Fri)
    state = run(local(2026, 2, 11, 10), led=ledger("500.00", due)).new_state
    holiday = run(
        local(2026, 2, 16, 10), led=ledger("500.00", due), state=state
    )  # day 6 but 16 Feb is a holiday
    assert holiday.actions == []
    assert holiday.next_review_at == local(2026, 2, 19, 9)
    saturday = run(local(2026, 2, 14, 10), led=ledger("500.00", due), state=state)  # make-up working day
    assert kinds(saturday) == [("send_notice", "reminder")]


def test_weekend_reviews_at_monday_opening() -> None:
    decision = run(local(2026, 3, 7, 10), led=ledger("500.00", date(2026, 3, 3)))  # Saturday, day 4
    assert decision.actions == []
    assert decision.next_review_at == local(2026, 3, 9, 9)


# --- exemptions and protection -----------------------------------------------------------------


def test_protected_customer_gets_reminders_only_and_its_hold_is_lifted() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    decision = run(
        local(2026, 3, 24, 10),
        state=state,
        holds=[np_hold(local(2026, 3, 23, 9)), manual_hold(local(2026, 3, 1))],
        prof=profile(protected=True),
    )
    assert kinds(decision) == [("lift_hold", "warning")]
    fresh = run(local(2026, 4, 1, 10), prof=profile(protected=True))  # day 30, nothing sent
    assert kinds(fresh) == [("send_notice", "reminder")]
    done = run(local(2026, 4, 20, 10), state=fresh.new_state, prof=profile(protected=True))
    assert done.actions == []
    assert done.next_review_at is None
    assert any("protected customer (profile)" in r for r in done.reasons)


def test_protected_list_in_the_policy_matches_the_customer_id() -> None:
    policy = make_policy(protected_customers=[CUSTOMER_ID.upper()])
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    by_kwarg = run(local(2026, 3, 24, 10), state=state, policy=policy, customer_id=CUSTOMER_ID)
    assert by_kwarg.actions == []
    assert any("policy list" in r for r in by_kwarg.reasons)
    stored = StoredProfile(
        name="x", customer_id=CUSTOMER_ID, created_at=local(2026, 1, 1), updated_at=local(2026, 1, 1)
    )
    assert run(local(2026, 3, 24, 10), state=state, policy=policy, prof=stored).actions == []
    assert kinds(run(local(2026, 3, 24, 10), state=state)) == [
        ("place_hold", "suspension"),
        ("send_notice", "suspension"),
    ]


def test_promise_to_pay_pauses_notices_and_holds_until_after_its_date() -> None:
    promise = [exemption(ExemptionKind.PROMISE_TO_PAY, date(2026, 3, 31))]
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    decision = run(
        local(2026, 3, 24, 10), state=state, holds=[np_hold(local(2026, 3, 23, 9))], exemptions=promise
    )
    assert kinds(decision) == [("lift_hold", "warning")]
    assert decision.next_review_at == local(2026, 4, 1, 9)
    assert any("promise to pay until 2026-03-31" in r for r in decision.reasons)
    fresh = run(local(2026, 3, 20, 10), exemptions=promise)  # day 18: nothing sent, no notice either
    assert fresh.actions == []
    after = run(local(2026, 4, 1, 9), exemptions=promise)  # the promise is over: catch-up warning
    assert kinds(after) == [("send_notice", "warning")]


def test_enforcement_off_allows_notices_but_no_hold_and_moves_the_named_date() -> None:
    off = [exemption(ExemptionKind.ENFORCEMENT_OFF, date(2026, 3, 27))]
    warning = run(local(2026, 3, 12, 10), exemptions=off)
    assert kinds(warning) == [("send_notice", "warning")]
    assert warning.new_state.suspension_due_on == date(2026, 3, 30)  # after the 27th (Fri) -> Mon
    during = run(
        local(2026, 3, 25, 10), state=warned(local(2026, 3, 12, 10), date(2026, 3, 23)), exemptions=off
    )
    assert during.actions == []
    assert during.next_review_at == local(2026, 3, 30, 9)
    assert any("enforcement off until 2026-03-27" in r for r in during.reasons)


def test_an_expired_exemption_is_ignored() -> None:
    old = [exemption(ExemptionKind.ENFORCEMENT_OFF, date(2026, 3, 22))]
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    assert kinds(run(local(2026, 3, 23, 10), state=state, exemptions=old))[0] == ("place_hold", "suspension")


# --- segments, versions ------------------------------------------------------------------------


def test_segment_override_changes_days_and_minimum() -> None:
    enterprise, big = profile(segment="enterprise"), ledger("1500.00", DUE)
    assert run(local(2026, 3, 5, 10), prof=enterprise, led=big).actions == []  # reminder at 7, not 3
    decision = run(local(2026, 3, 9, 10), prof=enterprise, led=big)
    assert kinds(decision) == [("send_notice", "reminder")]
    assert any("segment 'enterprise'" in r for r in decision.reasons)
    # the enterprise minimum is CNY 1000, the default one CNY 100
    assert run(local(2026, 3, 9, 10), prof=enterprise, led=ledger("999.99", DUE)).actions == []
    assert kinds(run(local(2026, 3, 9, 10), led=ledger("999.99", DUE))) == [("send_notice", "reminder")]


def test_unknown_segment_uses_the_defaults_and_says_so() -> None:
    decision = run(local(2026, 3, 5, 10), prof=profile(segment="smb"))
    assert kinds(decision) == [("send_notice", "reminder")]
    assert any("'smb' is not in the policy" in r for r in decision.reasons)


def test_version_bumps_only_when_the_state_changes() -> None:
    first = run(local(2026, 3, 3, 10))
    assert first.new_state.version == 1
    same = run(local(2026, 3, 4, 10), state=first.new_state)
    assert same.new_state.version == 1
    assert same.new_state.last_evaluated_at == local(2026, 3, 4, 10)
    assert same.policy_version == "test0000" and same.new_state.policy_version == "test0000"
    reminded = run(local(2026, 3, 5, 10), state=same.new_state)
    assert reminded.new_state.version == 2


def test_actions_only_ever_touch_the_non_payment_hold() -> None:
    assert {k.value for k in ActionKind} == {"send_notice", "place_hold", "lift_hold", "notify_staff"}


def test_a_partial_payment_that_moves_the_earliest_due_date_moves_the_suspension() -> None:
    # The warning named 23 March; the oldest invoice is then paid and the earliest unpaid one is
    # due 10 March: on 23 March it is 13 days past due, short of the suspension's 20.
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    decision = run(local(2026, 3, 23, 10), state=state, led=ledger("500.00", date(2026, 3, 10)))
    assert decision.actions == []
    assert decision.next_review_at == local(2026, 3, 30, 9)  # day 20 of the new anchor


def test_a_hold_found_in_place_records_when_it_was_placed() -> None:
    state = warned(local(2026, 3, 12, 10), date(2026, 3, 23))
    decision = run(local(2026, 3, 30, 10), state=state, holds=[np_hold(local(2026, 3, 23, 9))])
    assert decision.actions == []
    assert decision.new_state.suspended_at == local(2026, 3, 23, 9)
    assert decision.stage is Stage.SUSPENSION
