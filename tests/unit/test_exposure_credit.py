"""Exposure arithmetic (exact decimals, one currency per ledger, markup, seats) and the credit
decision (threshold, limit, notice, hold placed and lifted, protected, never another hold)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from shared.domain.collections_models import LedgerSummary
from shared.domain.credit import CreditLevel, CreditState, evaluate_credit
from shared.domain.credit_policy import CreditRules
from shared.domain.customer import CustomerProfile
from shared.domain.exposure import ChargeTally, SeatChange, compute_exposure, seat_changes_between
from shared.domain.money import Money
from shared.domain.policy import PolicyError, parse_policy

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def cny(text: str) -> Money:
    return Money.model_validate(f"{text} CNY")


def ledger(
    overdue: str = "0.00", open_: str = "0.00", credit: str = "0.00", currency: str = "CNY"
) -> LedgerSummary:
    m = lambda t: Money.model_validate(f"{t} {currency}")  # noqa: E731
    return LedgerSummary(
        currency=currency,
        overdue_balance=m(overdue),
        open_balance=m(open_),
        credit_balance=m(credit),
        earliest_unpaid_due_date=None,
    )


def rules(**kw: object) -> CreditRules:
    return CreditRules.model_validate(kw)


def test_exposure_adds_ledger_and_unbilled_exactly() -> None:
    tally = ChargeTally()
    # Partner Center amounts with more places than CNY has: summed exactly, rounded once.
    for _ in range(10):
        tally.add("CNY", "DZH318Z0BPS6:0001", Decimal("0.105"), "s1", date(2026, 12, 1))
    tally.add("CNY", "CFQ7TTC0LF8S:0001", Decimal("2850.004"), "s2", date(2026, 12, 1))
    exposure = compute_exposure(
        ledger("1000.10", "1500.20", "100.00"),
        tally,
        [],
        rules(),
        "default",
        None,
        now=NOW,
        unbilled_as_of=NOW,
    )
    assert exposure.overdue == cny("1000.10")
    assert exposure.not_yet_due == cny("500.10")
    assert exposure.credit == cny("100.00")
    assert exposure.unbilled_cost == cny("2851.05")  # 1.05 + 2850.004 = 2851.054 -> 2851.05
    assert exposure.unbilled == cny("2851.05")
    assert exposure.total == cny("4251.25")  # 1500.20 - 100.00 + 2851.05


def test_markup_per_offer_then_segment_then_default() -> None:
    tally = ChargeTally()
    tally.add("CNY", "DZH318Z0BPS6:0001", Decimal("100.00"), None, None)
    tally.add("CNY", "CFQ7TTC0LF8S:0001", Decimal("200.00"), None, None)
    tally.add("CNY", "OTHER:0001", Decimal("33.33"), None, None)
    r = rules(
        markup_percent="1",
        offer_markup={"DZH318Z0BPS6": "8", "CFQ7TTC0LF8S:0001": "12.5"},
        segments={"enterprise": {"markup_percent": "5"}},
    )
    default = compute_exposure(ledger(), tally, [], r, "default", None, now=NOW, unbilled_as_of=NOW)
    by_offer = {line.offer_id: line for line in default.offers}
    assert by_offer["DZH318Z0BPS6:0001"].priced == cny("108.00")
    assert by_offer["CFQ7TTC0LF8S:0001"].priced == cny("225.00")
    assert by_offer["OTHER:0001"].priced == cny("33.66")  # 33.6633 rounds half up to 33.66
    assert default.unbilled == cny("366.66")
    enterprise = compute_exposure(ledger(), tally, [], r, "enterprise", None, now=NOW, unbilled_as_of=NOW)
    assert {line.offer_id: line for line in enterprise.offers}["OTHER:0001"].priced == cny("35.00")  # 34.9965


def test_charges_in_another_currency_are_listed_not_added() -> None:
    tally = ChargeTally()
    tally.add("USD", "X:1", Decimal("12.00"), None, None)
    tally.add("CNY", "Y:1", Decimal("5.00"), None, None)
    exposure = compute_exposure(ledger(), tally, [], rules(), "default", None, now=NOW, unbilled_as_of=NOW)
    assert exposure.total == cny("5.00")
    assert exposure.currency == "CNY"
    assert any("12 USD" in text and "CNY" in text for text in exposure.excluded)


def test_seats_added_count_until_their_charge_appears_or_an_invoice() -> None:
    r = rules(seat_prices={"CFQ7TTC0LF8S:0001": {"CNY": "260.00"}})
    changes = [SeatChange(subscription_id="s1", offer_id="CFQ7TTC0LF8S:0001", added=5, on=date(2026, 12, 1))]
    tally = ChargeTally()
    exposure = compute_exposure(ledger(), tally, changes, r, "default", None, now=NOW, unbilled_as_of=NOW)
    assert exposure.seats_added == cny("1300.00") and exposure.total == cny("1300.00")
    tally.add("CNY", "CFQ7TTC0LF8S:0001", Decimal("1300.00"), "s1", date(2026, 12, 1))
    covered = compute_exposure(ledger(), tally, changes, r, "default", None, now=NOW, unbilled_as_of=NOW)
    assert covered.seats_added == cny("0.00") and covered.seats[0].covered
    assert covered.total == cny("1300.00")  # counted once, as the charge
    invoiced = compute_exposure(
        ledger(), ChargeTally(), changes, r, "default", date(2026, 12, 1), now=NOW, unbilled_as_of=NOW
    )
    assert invoiced.seats == [] and invoiced.total == cny("0.00")


def test_seat_changes_between_listings() -> None:
    after = {"a": ("O:1", 30), "b": ("O:2", 5), "c": ("O:3", 2)}
    changes = seat_changes_between({"a": 25, "b": 5}, after, date(2026, 12, 2))
    assert [(c.subscription_id, c.added) for c in changes] == [("a", 5), ("c", 2)]


def profile(limit: str | None = None, segment: str = "default", protected: bool = False) -> CustomerProfile:
    return CustomerProfile(
        name="Contoso", segment=segment, credit_limit=cny(limit) if limit else None, protected=protected
    )


def exposure_of(total: str):  # type: ignore[no-untyped-def]
    return compute_exposure(
        ledger("0.00", total), ChargeTally(), [], rules(), "default", None, now=NOW, unbilled_as_of=NOW
    )


def decide(
    total: str,
    limit: str | None = "1000.00",
    *,
    state: CreditState | None = None,
    hold: bool = False,
    delivered: datetime | None = None,
    window: bool = True,
    r: CreditRules | None = None,
    protected: bool = False,
    now: datetime = NOW,
):  # type: ignore[no-untyped-def]
    return evaluate_credit(
        exposure=exposure_of(total),
        profile=profile(limit, protected=protected),
        rules=r or rules(),
        protected=protected,
        hold_present=hold,
        notice_delivered_at=delivered,
        state=state or CreditState(),
        now=now,
        window_open=window,
    )


def kinds(decision) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.kind.value for a in decision.actions]


def test_under_threshold_nothing_and_threshold_tells_finance_once() -> None:
    assert decide("799.99").level is CreditLevel.NONE and kinds(decide("799.99")) == []
    first = decide("800.00")
    assert first.level is CreditLevel.THRESHOLD and kinds(first) == ["tell_threshold"]
    again = decide("900.00", state=first.new_state)
    assert kinds(again) == []


def test_at_limit_notice_then_hold_after_delivery_and_days() -> None:
    first = decide("1000.00")
    assert first.level is CreditLevel.LIMIT
    assert kinds(first) == ["tell_limit", "send_notice"]
    waiting = decide("1000.00", state=first.new_state)
    assert kinds(waiting) == []  # notice not delivered yet
    delivered = NOW
    early = decide("1000.00", state=first.new_state, delivered=delivered, now=NOW + timedelta(hours=23))
    assert kinds(early) == []
    due = decide("1000.00", state=first.new_state, delivered=delivered, now=NOW + timedelta(days=1))
    assert kinds(due) == ["place_hold"]
    closed = decide(
        "1000.00", state=first.new_state, delivered=delivered, now=NOW + timedelta(days=1), window=False
    )
    assert kinds(closed) == []


def test_hold_lifted_when_exposure_falls_or_limit_is_raised() -> None:
    at = decide("1000.00").new_state
    paid = decide("500.00", state=at, hold=True)
    assert kinds(paid) == ["lift_hold"] and paid.level is CreditLevel.NONE
    raised = decide("1000.00", "5000.00", state=at, hold=True)
    assert kinds(raised) == ["lift_hold"]
    near = decide("950.00", state=at, hold=True)
    assert kinds(near) == ["lift_hold"] and near.level is CreditLevel.THRESHOLD
    removed = decide("1000.00", None, state=at, hold=True)
    assert kinds(removed) == ["lift_hold"]


def test_protected_customer_no_notice_no_hold_but_finance_told() -> None:
    decision = decide("2000.00", protected=True)
    assert kinds(decision) == ["tell_limit"]
    lifted = decide("2000.00", protected=True, hold=True, state=decision.new_state)
    assert kinds(lifted) == ["lift_hold"]


def test_policy_without_hold_at_limit_sends_notice_only() -> None:
    r = rules(hold_at_limit=False)
    first = decide("1000.00", r=r)
    assert kinds(first) == ["tell_limit", "send_notice"]
    later = decide("1000.00", r=r, state=first.new_state, delivered=NOW, now=NOW + timedelta(days=5))
    assert kinds(later) == []


def test_episode_ends_under_threshold_so_a_new_rise_is_told_again() -> None:
    at = decide("1000.00").new_state
    down = decide("10.00", state=at)
    assert down.new_state.episode_id is None
    assert kinds(decide("1000.00", state=down.new_state)) == ["tell_limit", "send_notice"]


def test_segment_default_limit_applies_without_a_profile_limit() -> None:
    r = rules(default_limit={"CNY": "1000.00"}, segments={"enterprise": {"limit": {"CNY": "10000.00"}}})
    decision = evaluate_credit(
        exposure=exposure_of("1000.00"),
        profile=profile(None),
        rules=r,
        protected=False,
        hold_present=False,
        notice_delivered_at=None,
        state=CreditState(),
        now=NOW,
        window_open=True,
    )
    assert decision.level is CreditLevel.LIMIT and decision.new_state.limit_source.value == "segment"
    big = evaluate_credit(
        exposure=exposure_of("1000.00"),
        profile=profile(None, "enterprise"),
        rules=r,
        protected=False,
        hold_present=False,
        notice_delivered_at=None,
        state=CreditState(),
        now=NOW,
        window_open=True,
    )
    assert big.level is CreditLevel.NONE


def test_four_eyes_for_raising_a_limit_above_the_policy_amount() -> None:
    r = rules(four_eyes_above={"CNY": "200000.00"})
    assert not r.needs_second_person(cny("1000.00"), cny("200000.00"))
    assert r.needs_second_person(cny("1000.00"), cny("200000.01"))
    assert r.needs_second_person(None, cny("300000.00"))
    assert not r.needs_second_person(cny("400000.00"), cny("300000.00"))  # lowering
    assert r.needs_second_person(cny("1000.00"), None)  # removing the limit is unlimited credit


@pytest.mark.parametrize(
    "section",
    [
        "[credit]\nalert_percent = 80.5\n",
        '[credit]\ndefault_limit = { CNY = "1.234" }\n',
        '[credit]\ndefault_limit = { RMB = "1.00" }\n',
        '[credit]\noffer_markup = { "bad offer" = "5" }\n',
        '[usage_anomaly]\nfactor = "5"\ncritical_factor = "2"\n',
        "[credit]\nsurprise = 1\n",
    ],
)
def test_policy_refuses_bad_credit_sections(section: str) -> None:
    base = open("policy/collections.toml", encoding="utf-8").read()
    head = base.split("\n[credit]")[0]
    with pytest.raises(PolicyError):
        parse_policy((head + "\n" + section).encode())


def test_shipped_policy_credit_rules() -> None:
    policy = parse_policy(open("policy/collections.toml", "rb").read())
    assert policy.credit.segment_limit("default", "CNY") == cny("50000.00")
    assert policy.credit.markup_for("default", "DZH318Z0BPS6:0001") == Decimal(8)


def test_an_exemption_pauses_the_credit_hold_and_lifts_one_in_place() -> None:
    first = decide("1000.00")
    paused = evaluate_credit(
        exposure=exposure_of("1000.00"),
        profile=profile("1000.00"),
        rules=rules(),
        protected=False,
        hold_present=True,
        notice_delivered_at=NOW,
        state=first.new_state,
        now=NOW + timedelta(days=2),
        window_open=True,
        hold_paused="enforcement off until 2026-12-31",
    )
    assert kinds(paused) == ["lift_hold"]
