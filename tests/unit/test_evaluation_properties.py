"""Property tests: a customer simulated over time (invoices, payments, exemptions, scans at random
times with long gaps) by calling `evaluate` repeatedly with the state it returns, carrying out its
actions on an in-memory ledger and hold list, and checking the fairness rules after every step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.domain.collections import (
    ActionKind,
    CollectionsState,
    Decision,
    InvoiceRef,
    LedgerSummary,
    Stage,
    evaluate,
)
from shared.domain.customer import Exemption, ExemptionKind
from shared.domain.holds import Hold, HoldReason
from shared.domain.money import Money
from shared.domain.policy import Policy
from tests.unit.collections_builders import CUSTOMER_ID, exemption, make_policy, manual_hold, np_hold, profile

POLICIES = {
    "default": make_policy(),
    "tight": make_policy(
        defaults__min_notice_days=2,
        defaults__stages=[
            {"action": "reminder", "days_past_due": 1},
            {"action": "warning", "days_past_due": 2},
            {"action": "suspension", "days_past_due": 4},
            {"action": "escalation", "days_past_due": 5},
        ],
    ),
    "no_reminder": make_policy(
        defaults__stages=[
            {"action": "warning", "days_past_due": 5},
            {"action": "suspension", "days_past_due": 12},
        ]
    ),
    "protected_list": make_policy(protected_customers=[CUSTOMER_ID]),
}


@dataclass
class Invoice:
    number: str
    due: date
    remaining: Decimal


@dataclass
class World:
    policy: Policy
    invoices: list[Invoice]
    holds: list[Hold]
    exemptions: list[Exemption] = field(default_factory=list)
    state: CollectionsState = field(default_factory=CollectionsState)

    def ledger(self, today: date) -> LedgerSummary:
        unpaid = [i for i in self.invoices if i.remaining > 0]
        overdue = [i for i in unpaid if i.due < today]
        future = [i.due for i in unpaid if i.due >= today]
        return LedgerSummary(
            currency="CNY",
            overdue_balance=Money(amount=sum((i.remaining for i in overdue), Decimal(0))),
            open_balance=Money(amount=sum((i.remaining for i in unpaid), Decimal(0))),
            credit_balance=Money.zero(),
            earliest_unpaid_due_date=min((i.due for i in unpaid), default=None),
            overdue_invoices=[
                InvoiceRef(
                    invoice_id=i.number, number=i.number, amount_due=Money(amount=i.remaining), due_date=i.due
                )
                for i in overdue
            ],
            next_due_date=min(future, default=None),
        )

    def pay(self, amount: Decimal) -> None:
        """Oldest invoices first, as the ledger allocates payments."""
        for invoice in sorted(self.invoices, key=lambda i: i.due):
            applied = min(amount, invoice.remaining)
            invoice.remaining -= applied
            amount -= applied

    def has_np_hold(self) -> bool:
        return any(h.reason is HoldReason.NON_PAYMENT for h in self.holds)


step = st.fixed_dictionaries(
    {
        "gap_minutes": st.one_of(
            st.integers(min_value=10, max_value=24 * 60),  # a scan every few hours
            st.integers(min_value=24 * 60, max_value=30 * 24 * 60),  # an outage of days
        ),
        "follow_review": st.booleans(),  # scan exactly at next_review_at, like the due index
        "payment": st.one_of(st.none(), st.sampled_from(["all", "half", "50"])),
        "exemption": st.one_of(
            st.none(),
            st.tuples(st.sampled_from(list(ExemptionKind)), st.integers(min_value=0, max_value=20)),
        ),
        "new_invoice": st.one_of(
            st.none(), st.tuples(st.integers(-30, 20), st.sampled_from(["80", "150", "900"]))
        ),
    }
)

scenario = st.fixed_dictionaries(
    {
        "policy": st.sampled_from(sorted(POLICIES)),
        "start": st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 11, 30)),
        "invoices": st.lists(
            st.tuples(st.integers(-60, 15), st.sampled_from(["50", "99.99", "100", "150", "500", "2000"])),
            min_size=1,
            max_size=4,
        ),
        "protected": st.booleans(),
        "manual_hold": st.booleans(),
        "segment": st.sampled_from(["default", "enterprise"]),
        "steps": st.lists(step, min_size=1, max_size=40),
        "settle": st.booleans(),  # end with a payment of everything owed, then one scan
    }
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_simulated_customer_keeps_the_fairness_rules(case: dict) -> None:
    policy = POLICIES[case["policy"]]
    calendar = policy.calendar()
    now = case["start"].replace(tzinfo=UTC)
    start_day = calendar.local_date(now)
    world = World(
        policy=policy,
        invoices=[
            Invoice(f"INV-{n}", start_day + timedelta(days=offset), Decimal(amount))
            for n, (offset, amount) in enumerate(case["invoices"])
        ],
        holds=[manual_hold(now)] if case["manual_hold"] else [],
    )
    customer = profile(protected=case["protected"], segment=case["segment"])
    protected = case["protected"] or case["policy"] == "protected_list"
    rules = policy.rules_for(customer.segment)
    sent_per_episode: dict[tuple[str, str], int] = {}
    warning_at: dict[str, datetime] = {}
    next_review: datetime | None = None

    settle = {
        "gap_minutes": 5,
        "follow_review": False,
        "payment": "all",
        "exemption": None,
        "new_invoice": None,
    }
    for n, move in enumerate(case["steps"] + ([settle] if case["settle"] else [])):
        if move["follow_review"] and next_review is not None and next_review > now:
            now = next_review
        else:
            now = now + timedelta(minutes=move["gap_minutes"])
        today = calendar.local_date(now)
        if move["payment"] is not None:
            owed = sum((i.remaining for i in world.invoices), Decimal(0))
            world.pay(
                {"all": owed, "half": (owed / 2).quantize(Decimal("0.01")), "50": Decimal(50)}[
                    move["payment"]
                ]
            )
        if move["exemption"] is not None:
            kind, days = move["exemption"]
            world.exemptions.append(exemption(kind, today + timedelta(days=days)))
        if move["new_invoice"] is not None:
            offset, amount = move["new_invoice"]
            world.invoices.append(Invoice(f"NEW-{n}", today + timedelta(days=offset), Decimal(amount)))

        led = world.ledger(today)
        had_np_hold = world.has_np_hold()
        other_holds = [h for h in world.holds if h.reason is not HoldReason.NON_PAYMENT]
        decision = evaluate(
            policy,
            customer,
            led,
            list(world.holds),
            list(world.exemptions),
            world.state,
            now,
            customer_id=CUSTOMER_ID,
        )
        _check(decision, world, led, now, had_np_hold, protected, rules.min_notice_days, calendar)
        _apply(decision, world, now)
        # never lifts (or otherwise touches) another hold
        assert [h for h in world.holds if h.reason is not HoldReason.NON_PAYMENT] == other_holds

        episode = decision.new_state.episode_id
        for action in decision.actions:
            if action.kind in (ActionKind.SEND_NOTICE, ActionKind.NOTIFY_STAFF):
                assert episode is not None
                key = (episode, action.stage.value)
                sent_per_episode[key] = sent_per_episode.get(key, 0) + 1
                assert sent_per_episode[key] == 1, f"{action.stage} notice sent twice in episode {episode}"
                if action.stage is Stage.WARNING:
                    warning_at[episode] = now
            if action.kind is ActionKind.PLACE_HOLD:
                assert episode in warning_at, "suspension without a warning in this episode"
                assert now - warning_at[episode] >= timedelta(days=rules.min_notice_days)
            if action.kind is ActionKind.NOTIFY_STAFF and rules.day_of(Stage.SUSPENSION) is not None:
                assert (episode, Stage.SUSPENSION.value) in sent_per_episode, "escalation before suspension"
        _check_no_skipped_notice(decision, world, led, now, protected, rules, calendar)
        for action in decision.actions:
            event(f"action {action.kind.value}:{action.stage.value}")
        world.state = decision.new_state
        if world.state.warning_sent_at is not None and world.state.warning_delivered_at is None:
            # the notice sender delivers each warning at once in this simulation
            world.state = world.state.model_copy(update={"warning_delivered_at": world.state.warning_sent_at})
        next_review = decision.next_review_at
        if next_review is not None:
            assert next_review > now, "the next review is in the future"


def _check(
    decision: Decision,
    world: World,
    led: LedgerSummary,
    now: datetime,
    had_np_hold: bool,
    protected: bool,
    min_notice_days: int,
    calendar,
) -> None:
    today = calendar.local_date(now)
    kinds = [a.kind for a in decision.actions]
    exempt = any(e.until >= today for e in world.exemptions)
    if ActionKind.PLACE_HOLD in kinds:
        assert not protected, "a hold on a protected customer"
        assert not exempt, "a hold on an exempted customer"
        assert not had_np_hold, "a second non_payment hold"
        state = decision.new_state
        assert state.warning_sent_at is not None
        assert now - state.warning_sent_at >= timedelta(days=min_notice_days)
        assert state.suspension_due_on is not None and today >= state.suspension_due_on
    if any(k is not ActionKind.LIFT_HOLD for k in kinds):
        assert calendar.is_open(now), f"{kinds} outside the enforcement window at {now}"
    if ActionKind.LIFT_HOLD in kinds:
        assert had_np_hold, "lift_hold without a non_payment hold: it would target another hold"
        assert kinds.count(ActionKind.LIFT_HOLD) == 1
    cleared = not (decision.stage is not Stage.CURRENT or decision.new_state.episode_id is not None)
    if cleared and had_np_hold:
        assert ActionKind.LIFT_HOLD in kinds, "overdue cleared but the non_payment hold stays"
    if led.overdue_balance.amount == 0 and had_np_hold:
        assert kinds == [ActionKind.LIFT_HOLD], (
            "a payment that clears everything lifts the hold and nothing else"
        )
    if decision.stage is Stage.CURRENT and decision.new_state.episode_id is None:
        assert not any(k in (ActionKind.PLACE_HOLD, ActionKind.SEND_NOTICE) for k in kinds)
    if (protected or exempt) and had_np_hold:
        assert ActionKind.LIFT_HOLD in kinds


def _check_no_skipped_notice(decision, world, led, now, protected, rules, calendar) -> None:
    """Inside the window, a due notice that was never sent is sent now (the warning first)."""
    state = decision.new_state
    if state.episode_id is None or not calendar.is_open(now) or led.earliest_unpaid_due_date is None:
        return
    today = calendar.local_date(now)
    if any(e.kind is ExemptionKind.PROMISE_TO_PAY and e.until >= today for e in world.exemptions):
        return
    dpd = (today - led.earliest_unpaid_due_date).days
    warning, reminder = rules.day_of(Stage.WARNING), rules.day_of(Stage.REMINDER)
    if not protected and warning is not None and dpd >= warning:
        assert "warning" in state.notices_sent, "the warning is due but was not sent"
    elif reminder is not None and dpd >= reminder and "warning" not in state.notices_sent:
        assert "reminder" in state.notices_sent, "the reminder is due but was not sent"


def _apply(decision: Decision, world: World, now: datetime) -> None:
    for action in decision.actions:
        if action.kind is ActionKind.PLACE_HOLD:
            world.holds.append(np_hold(now))
        elif action.kind is ActionKind.LIFT_HOLD:
            world.holds = [h for h in world.holds if h.reason is not HoldReason.NON_PAYMENT]


@settings(max_examples=150, deadline=None)
@given(
    stage=st.sampled_from([Stage.WARNING, Stage.SUSPENSION, Stage.ESCALATION]),
    moment=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    remaining=st.sampled_from(["0", "0.01", "99.99"]),
    other_holds=st.booleans(),
    protected=st.booleans(),
)
def test_a_payment_that_clears_the_overdue_balance_lifts_only_the_non_payment_hold(
    stage: Stage, moment: datetime, remaining: str, other_holds: bool, protected: bool
) -> None:
    policy = POLICIES["default"]
    now = moment.replace(tzinfo=UTC)
    placed = now - timedelta(days=3)
    state = CollectionsState(
        stage=stage,
        episode_id="ep1",
        notices_sent={"warning": placed - timedelta(days=8), "suspension": placed},
        warning_sent_at=placed - timedelta(days=8),
        suspension_due_on=placed.date(),
        suspended_at=placed,
        version=7,
    )
    holds = [np_hold(placed)] + ([manual_hold(placed)] if other_holds else [])
    due = policy.calendar().local_date(now) - timedelta(days=40)
    led = LedgerSummary(
        overdue_balance=Money(amount=Decimal(remaining)),
        open_balance=Money(amount=Decimal(remaining)),
        credit_balance=Money.zero(),
        earliest_unpaid_due_date=due if remaining != "0" else None,
    )
    decision = evaluate(policy, profile(protected=protected), led, holds, [], state, now)
    assert [a.kind for a in decision.actions] == [ActionKind.LIFT_HOLD]
    assert decision.stage is Stage.CURRENT
    assert decision.new_state.episode_id is None and decision.new_state.notices_sent == {}
    assert decision.new_state.version == 8
