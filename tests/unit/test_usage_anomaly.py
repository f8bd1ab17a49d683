"""The usage anomaly rule, as properties: nothing below the minimum amount; a steady spend
never opens a case; a spike past the rule always does; a watched meter's first use does."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.anomaly import detect_seats, detect_spend
from shared.domain.credit_policy import UsageAnomalyRules
from shared.domain.exposure import SeatChange

RULES = UsageAnomalyRules.model_validate({"minimum_amount": {"CNY": "1000.00"}})
DAY = date(2026, 12, 1)
amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("100000.00"), places=2)


def history(values: list[Decimal]) -> dict[date, Decimal]:
    return {DAY - timedelta(days=len(values) - i): v for i, v in enumerate(values)}


@settings(max_examples=300, deadline=None)
@given(st.lists(amounts, min_size=0, max_size=40), amounts)
def test_nothing_below_the_minimum_amount(past: list[Decimal], today: Decimal) -> None:
    days = history(past)
    days[DAY] = today
    meters = {DAY: {"Virtual Machines / NC Series GPU": today}}
    found = detect_spend(days, meters, {}, set(), [DAY], "CNY", RULES)
    if today < Decimal("1000.00"):
        assert found == []
    for anomaly in found:
        assert anomaly.amount is not None and anomaly.amount >= Decimal("1000.00")


@settings(max_examples=300, deadline=None)
@given(amounts, st.integers(min_value=7, max_value=60))
def test_a_steady_spend_never_opens_a_case(level: Decimal, length: int) -> None:
    days = {DAY - timedelta(days=i): level for i in range(length + 1)}
    meters = {d: {"Virtual Machines / D Series": level} for d in days}
    judge = sorted(days)[-5:]
    assert detect_spend(days, meters, {}, set(), judge, "CNY", RULES) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=Decimal("0.00"), max_value=Decimal("5000.00"), places=2),
        min_size=7,
        max_size=35,
    ),
    st.decimals(min_value=Decimal("1.01"), max_value=Decimal("50"), places=2),
)
def test_a_spike_past_the_rule_always_opens_a_case(past: list[Decimal], over: Decimal) -> None:
    days = history(past)
    window = sorted(days.items())[-30:]
    values = sorted(v for _, v in window)
    n = len(values)
    med = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    spike = max(Decimal("1000.00"), med * RULES.factor * over).quantize(Decimal("0.01")) + Decimal("0.01")
    days[DAY] = spike
    found = detect_spend(days, {}, {}, set(), [DAY], "CNY", RULES)
    assert [a.rule for a in found] == ["spend_spike"]
    assert found[0].baseline_median == med


def test_spike_evidence_and_critical_severity() -> None:
    days = history([Decimal("50.00")] * 30)
    days[DAY] = Decimal("5600.00")
    meters = {DAY: {"Virtual Machines / NC Series GPU": Decimal("5600.00")}}
    offers = {DAY: ["DZH318Z0BPS6:0001"]}
    found = {
        a.rule: a
        for a in detect_spend(days, meters, offers, {"Virtual Machines / D Series"}, [DAY], "CNY", RULES)
    }
    spike = found["spend_spike"]
    assert spike.severity == "critical" and spike.baseline_median == Decimal("50.00")
    assert spike.times_baseline == Decimal("112.0") and spike.offers == ["DZH318Z0BPS6:0001"]
    assert found["new_meter"].meters == ["Virtual Machines / NC Series GPU"]


def test_too_little_history_is_not_judged_as_a_spike_but_a_new_gpu_meter_is() -> None:
    days = history([Decimal("10.00")] * 3)
    days[DAY] = Decimal("3000.00")
    meters = {DAY: {"Virtual Machines / NC Series GPU": Decimal("3000.00")}}
    found = detect_spend(days, meters, {}, set(), [DAY], "CNY", RULES)
    assert [a.rule for a in found] == ["new_meter"]
    seen = detect_spend(days, meters, {}, {"Virtual Machines / NC Series GPU"}, [DAY], "CNY", RULES)
    assert seen == []


def test_a_currency_without_a_minimum_never_opens_a_case() -> None:
    days = history([Decimal("1.00")] * 30)
    days[DAY] = Decimal("99999.00")
    assert detect_spend(days, {}, {}, set(), [DAY], "EUR", RULES) == []


def test_seat_jumps() -> None:
    changes = [
        SeatChange(subscription_id="a", offer_id="O:1", added=475, on=DAY),  # 25 -> 500
        SeatChange(subscription_id="b", offer_id="O:1", added=60, on=DAY),  # 100 -> 160: < 3x
        SeatChange(subscription_id="c", offer_id="O:1", added=50, on=DAY),  # new
        SeatChange(subscription_id="d", offer_id="O:1", added=49, on=DAY),  # new, below the minimum
    ]
    found = detect_seats(changes, {"a": 25, "b": 100}, RULES)
    assert [(a.subscription_id, a.seats_before, a.seats_after) for a in found] == [
        ("a", 25, 500),
        ("c", 0, 50),
    ]
