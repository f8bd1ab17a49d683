"""The exposure refresh against the simulator and Azurite: exposure per customer (exact, with
the markup), both paging styles, resuming an interrupted run, the credit hold's whole life,
dry run, seats and usage anomalies opened as fraud cases."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared import wiring
from shared.adapters.layout import EXPOSURE_ROW
from shared.domain.customer import CustomerProfile
from shared.domain.exposure import Exposure
from shared.domain.holds import CREDIT_LIMIT_HOLD_ID, HoldReason
from shared.services.collections import controls, ledger
from shared.services.collections.customer_view import customer_view
from shared.services.exposure.refresh import refresh_exposure
from shared.services.fraud import case_lists
from tests.actors import BOB, TEST_ACTOR
from tests.integration.collections.conftest import invoice, payment
from tests.integration.exposure.conftest import C1, C2, START, customer
from tools.pcsim import DEMO_TENANT

LINES = "/v1/invoices/unbilled/lineitems"


def seed_cost(customer_id: str) -> tuple[Decimal, Decimal]:
    """(billing, usage) of the demo tenant's line items of one customer, exactly."""
    seed = json.loads(DEMO_TENANT.read_text(encoding="utf-8"), parse_float=Decimal)["unbilledLineItems"]
    billing = sum(
        (Decimal(i["subtotal"]) for i in seed["billingLineItems"] if i["customerId"] == customer_id),
        Decimal(0),
    )
    usage = sum(
        (Decimal(i["billingPreTaxTotal"]) for i in seed["usageLineItems"] if i["customerId"] == customer_id),
        Decimal(0),
    )
    return billing, usage


def stored_exposure(customer_id: str) -> Exposure:
    stored = wiring.collections().customers.table.get(Exposure, customer_id, EXPOSURE_ROW)
    assert stored is not None
    return stored.value


def cases_of(customer_id: str) -> list[Any]:
    """The customer's fraud cases, any status."""
    return case_lists.list_cases(
        wiring.fraud(),
        status=None,
        customer_id=customer_id,
        category=None,
        severity=None,
        opened_from=None,
        opened_to=None,
        limit=10,
        continuation_token=None,
    ).items


def holds(customer_id: str) -> dict[str, Any]:
    return {h.hold_id: h for h in customer_view(wiring.collections(), customer_id).holds}


def run_to_end(env: Any, **kwargs: Any) -> Any:
    for _ in range(50):
        result = refresh_exposure(env.deps(), **kwargs)
        if result.finished:
            return result
    raise AssertionError("the refresh did not finish")


def test_exposure_is_ledger_plus_unbilled_priced_with_the_markup(make_env: Any) -> None:
    env = make_env()
    customer(C1, "Shanghai", credit_limit="100000.00 CNY")
    collections = wiring.collections()
    ledger.post_invoice(
        collections, invoice(C1, "i1", "1200.50", date(2026, 12, 20)), actor=TEST_ACTOR, correlation_id="t"
    )
    result = refresh_exposure(env.deps())
    assert result.finished and result.failures == []
    billing, usage = seed_cost(C1)
    exposure = stored_exposure(C1)
    # The policy marks the Azure plan (DZH318Z0BPS6) up by 8%, other offers not at all.
    priced_usage = (usage * Decimal("1.08")).quantize(Decimal("0.01"))
    assert exposure.unbilled_cost.amount == billing + usage
    assert exposure.unbilled.amount == billing + priced_usage
    assert exposure.not_yet_due.amount == Decimal("1200.50")
    assert exposure.total.amount == Decimal("1200.50") + billing + priced_usage
    view = customer_view(collections, C1).exposure
    assert view is not None and view.level == "none" and view.credit_limit == "100000.00 CNY"
    assert {line.offer_id for line in exposure.offers} == {
        "DZH318Z0BPS6:0001",
        "CFQ7TTC0LF8S:0001",
        "CFQ7TTC0LH0Z:0001",
        "CFQ7TTC0LDPB:0001",
    }


def test_both_paging_styles_give_the_same_exposure(make_env: Any, sim: Any) -> None:
    totals = []
    for style in ("continuation", "offset"):
        sim.set_billing_paging(style)
        sim.clear_calls()
        env = make_env(EXPOSURE_PAGE_SIZE="7")
        customer(C1, "Shanghai")
        customer(C2, "Fabrikam")
        run_to_end(env)
        totals.append((stored_exposure(C1).total, stored_exposure(C2).total))
        pages = [c for c in sim.calls() if c["path"].lower() == LINES]
        assert len(pages) > 4
        query = [c["extra"].get("query") or {} for c in pages]
        tokens = [bool(c["extra"].get("ms-continuationtoken")) for c in pages]
        offsets = ["offset" in {k.lower() for k in q} for q in query]
        followed = tokens if style == "continuation" else offsets
        assert followed.count(False) == 2  # the first page of each listing (billing, usage)
        if style == "offset":
            assert not any(tokens)
    assert totals[0] == totals[1]


def test_an_interrupted_refresh_resumes_where_it_stopped(make_env: Any, sim: Any) -> None:
    reference = make_env(EXPOSURE_PAGE_SIZE="5")
    customer(C1, "Shanghai")
    customer(C2, "Fabrikam")
    run_to_end(reference)
    whole = (stored_exposure(C1), stored_exposure(C2))

    sim.clear_calls()
    env = make_env(EXPOSURE_PAGE_SIZE="5")
    customer(C1, "Shanghai")
    customer(C2, "Fabrikam")
    first = refresh_exposure(env.deps(), max_pages=3)
    assert not first.finished and first.phase == "read" and first.pages_read == 3
    second = refresh_exposure(env.deps(), max_pages=100, max_customers=1)
    assert not second.finished and second.phase == "apply" and second.resumed
    third = refresh_exposure(env.deps())
    assert third.finished and third.run_id == first.run_id
    pages = [c for c in sim.calls() if c["path"].lower() == LINES]
    run = env.deps().runs.current()
    assert run is not None
    assert len(pages) == run.value.pages_read  # each page read once across the three calls
    assert run.value.customers_applied == 2
    for got, want in zip((stored_exposure(C1), stored_exposure(C2)), whole, strict=True):
        assert got.same_figures(want)
    # The run's tallies are gone; the next run reads the period again from the start.
    assert list(env.deps().runs.table.partition(f"t{first.run_id}")) == []
    fourth = refresh_exposure(env.deps())
    assert fourth.run_id != first.run_id and fourth.finished


def _at_limit_customer(limit: str = "6000.00") -> None:
    customer(C1, "Shanghai", credit_limit=f"{limit} CNY")


def test_the_credit_hold_is_placed_after_the_notice_and_lifted_by_a_payment(make_env: Any) -> None:
    env = make_env(EXPOSURE_READ_USAGE="false")  # 5145.00 CNY unbilled + 900.00 invoiced >= 6000.00
    _at_limit_customer()
    collections = wiring.collections()
    ledger.post_invoice(
        collections, invoice(C1, "i1", "900.00", date(2026, 12, 20)), actor=TEST_ACTOR, correlation_id="t"
    )
    refresh_exposure(env.deps())
    assert CREDIT_LIMIT_HOLD_ID not in holds(C1)  # the notice first
    delivered = env.notices()
    assert [m["notice_id"] for m in delivered] and env.reconciles() == []
    notice = collections.customers.get_notice(C1, delivered[0]["notice_id"])
    assert notice is not None and notice.value.delivered and notice.value.stage == "credit_limit"
    alerts = [a.kind for a in _alerts()]
    assert "credit_limit_reached" in alerts

    env.clock.advance(timedelta(hours=12))
    refresh_exposure(env.deps())
    assert CREDIT_LIMIT_HOLD_ID not in holds(C1)  # a day after delivery, not before

    env.clock.set(START + timedelta(days=1, hours=1))
    refresh_exposure(env.deps())
    hold = holds(C1)[CREDIT_LIMIT_HOLD_ID]
    assert hold.reason == HoldReason.CREDIT_LIMIT.value
    assert [m["customer_id"] for m in env.reconciles()] == [C1]
    # A manual hold stands beside it; the payment lifts the credit hold only.
    controls.place_manual_hold(
        collections,
        C1,
        controls.ManualHoldIn(reason="investigating a dispute"),
        actor=TEST_ACTOR,
        correlation_id="t",
    )
    env.reconciles()
    ledger.post_payment(collections, payment(C1, "p1", "900.00"), actor=TEST_ACTOR, correlation_id="t")
    remaining = holds(C1)
    assert CREDIT_LIMIT_HOLD_ID not in remaining
    assert [h.reason for h in remaining.values()] == [HoldReason.MANUAL.value]
    assert [m["customer_id"] for m in env.reconciles()] == [C1]
    view = customer_view(collections, C1).exposure
    assert view is not None and view.level == "threshold" and not view.credit_hold


def _held_for_credit(env: Any) -> None:
    """C1 over a 5,000.00 CNY limit: the notice delivered, a day later the credit_limit hold."""
    _at_limit_customer("5000.00")
    refresh_exposure(env.deps())
    env.notices()
    env.clock.set(START + timedelta(days=1, hours=1))
    refresh_exposure(env.deps())
    assert CREDIT_LIMIT_HOLD_ID in holds(C1)
    env.reconciles()


def test_a_raised_limit_lifts_the_hold_and_a_large_raise_needs_a_second_person(make_env: Any) -> None:
    env = make_env(EXPOSURE_READ_USAGE="false")  # billing line items only: 5145.00 CNY for C1
    collections = wiring.collections()
    _held_for_credit(env)
    profile = CustomerProfile.model_validate(
        {
            "name": "Shanghai",
            "locale": "en",
            "credit_limit": "300000.00 CNY",
            "contacts": [{"name": "Billing", "email": "billing-11111111@example.cn"}],
        }
    )
    written = ledger.put_customer(collections, C1, profile, actor=TEST_ACTOR, correlation_id="t")
    assert written.effect.value == "pending"
    assert CREDIT_LIMIT_HOLD_ID in holds(C1)  # the raise waits for a second person
    change_id = written.value.pending_change.change_id  # type: ignore[union-attr]
    from shared.services.collections import four_eyes

    four_eyes.approve_change(
        collections,
        change_id,
        four_eyes.ApprovalNote(note="agreed with sales"),
        actor=BOB,
        correlation_id="t",
    )
    assert customer_view(collections, C1).profile.credit_limit is not None
    assert CREDIT_LIMIT_HOLD_ID not in holds(C1)
    assert [m["customer_id"] for m in env.reconciles()] == [C1]


def test_the_credit_rule_never_lifts_a_non_payment_or_fraud_hold(make_env: Any) -> None:
    env = make_env(EXPOSURE_READ_USAGE="false")
    collections = wiring.collections()
    customer(C1, "Shanghai", credit_limit="100000.00 CNY")
    from shared.adapters.layout import hold_row
    from shared.domain.holds import Hold

    for hold_id, reason in (("non_payment", HoldReason.NON_PAYMENT), ("fraud-01TEST", HoldReason.FRAUD)):
        collections.customers.table.insert(
            Hold(hold_id=hold_id, reason=reason, placed_at=START, placed_by="test"), C1, hold_row(hold_id)
        )
    refresh_exposure(env.deps())
    assert set(holds(C1)) == {"non_payment", "fraud-01TEST"}


def test_dry_run_places_no_hold_and_sends_no_notice(make_env: Any) -> None:
    env = make_env(ENFORCEMENT_MODE="dry_run", EXPOSURE_READ_USAGE="false")
    _at_limit_customer("5000.00")
    refresh_exposure(env.deps())
    env.clock.set(START + timedelta(days=2))
    refresh_exposure(env.deps())
    assert holds(C1) == {}
    assert env.published_notices() == [] and env.reconciles() == []
    trail = wiring.collections().customers.audit_log.read(C1).records
    actions = {r.action for r in trail}
    assert "credit.notice_dry_run" in actions
    assert "alert.credit_limit_reached" in actions


def test_a_protected_customer_is_never_held_for_credit(make_env: Any) -> None:
    env = make_env(EXPOSURE_READ_USAGE="false")
    customer(C1, "Shanghai", credit_limit="5000.00 CNY")
    wiring.collections().customers.table
    from shared.adapters.layout import PROFILE_ROW
    from shared.domain.customer import StoredProfile

    stored = wiring.collections().customers.table.get(StoredProfile, C1, PROFILE_ROW)
    assert stored is not None
    wiring.collections().customers.table.update(
        stored.value.model_copy(update={"protected": True}), C1, PROFILE_ROW, stored.etag
    )
    refresh_exposure(env.deps())
    env.clock.set(START + timedelta(days=3))
    refresh_exposure(env.deps())
    assert holds(C1) == {} and env.published_notices() == []
    assert "credit_limit_reached" in [a.kind for a in _alerts()]


def test_a_usage_spike_opens_a_critical_case_that_suspends(make_env: Any) -> None:
    env = make_env()
    customer(C2, "Fabrikam")
    refresh_exposure(env.deps())
    cases = cases_of(C2)
    assert len(cases) == 1
    case = cases[0]
    assert case.severity.value == "critical" and case.status == "investigating"
    assert any(h.startswith("fraud-") for h in holds(C2))
    assert [m["customer_id"] for m in env.reconciles()] == [C2]
    hits = case.hit_count
    env.clock.advance(timedelta(hours=2))
    refresh_exposure(env.deps())  # the same anomaly is not reported again
    again = cases_of(C2)
    assert [c.hit_count for c in again] == [hits]


def test_a_steady_customer_opens_no_case_and_seats_added_count(make_env: Any, sim: Any) -> None:
    env = make_env()
    customer(C1, "Shanghai")
    refresh_exposure(env.deps())  # the first listing is the baseline
    assert stored_exposure(C1).seats_added.amount == 0
    sim.set_quantity(C1, "a1111111-0000-4000-8000-000000000001", 30)  # +5 seats of M365 E3
    env.clock.set(START + timedelta(days=1, hours=1))
    refresh_exposure(env.deps())
    exposure = stored_exposure(C1)
    assert exposure.seats_added.amount == Decimal("1300.00")  # 5 x 260.00 (policy seat price)
    assert cases_of(C1) == []


def test_a_seat_jump_opens_a_case(make_env: Any, sim: Any) -> None:
    env = make_env(EXPOSURE_READ_USAGE="false")
    customer(C1, "Shanghai")
    refresh_exposure(env.deps())
    sim.set_quantity(C1, "a1111111-0000-4000-8000-000000000003", 500)  # 80 -> 500 seats
    env.clock.set(START + timedelta(days=1, hours=1))
    refresh_exposure(env.deps())
    cases = cases_of(C1)
    assert len(cases) == 1 and cases[0].category == "resource_abuse"


def test_the_credit_watch_lists_customers_over_the_threshold(make_env: Any) -> None:
    env = make_env(EXPOSURE_READ_USAGE="false")
    customer(C1, "Shanghai", credit_limit="6000.00 CNY")  # 5145.00: 85.75%
    customer(C2, "Fabrikam", credit_limit="100000.00 CNY")
    refresh_exposure(env.deps())
    from shared.services.collections.credit_watch import list_credit_watch

    page = list_credit_watch(wiring.collections())
    assert [(e.customer_id, e.level, e.used_percent) for e in page.items] == [(C1, "threshold", "85.75")]
    assert list_credit_watch(wiring.collections(), level="limit").items == []
    assert [a.kind for a in _alerts()].count("credit_threshold") == 1


def _alerts() -> list[Any]:
    from shared.services.collections.alerts import list_alerts

    return list_alerts(wiring.collections()).items


def test_the_demo_shows_a_customer_near_its_limit_and_a_usage_spike_case(make_env: Any) -> None:
    from datetime import UTC, datetime

    from tools import demo_ledger

    env = make_env()
    env.clock.set(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    demo_ledger.seed_with_history()
    env.clock.set(START)
    demo_ledger.refresh_exposure()
    first = customer_view(wiring.collections(), C1).exposure
    assert first is not None and first.level == "threshold" and first.credit_limit == "25000.00 CNY"
    from shared.services.collections.credit_watch import list_credit_watch

    assert [e.customer_id for e in list_credit_watch(wiring.collections()).items] == [C1]
    cases = cases_of(C2)
    assert len(cases) == 1 and cases[0].severity.value == "critical"


def test_a_refresh_that_finds_nothing_new_writes_nothing_to_the_customer(make_env: Any) -> None:
    env = make_env()
    customer(C1, "Shanghai", credit_limit="100000.00 CNY")
    refresh_exposure(env.deps())
    table = wiring.collections().customers.table
    before = {str(e["RowKey"]): e.metadata["etag"] for e in table.partition(C1)}
    env.clock.advance(timedelta(hours=2))
    second = refresh_exposure(env.deps())
    assert second.finished
    after = {str(e["RowKey"]): e.metadata["etag"] for e in table.partition(C1)}
    assert after == before
    run = env.deps().runs.current()
    assert run is not None and run.value.exposures_changed == 0 and run.value.listings_read == 0


def test_a_refused_continuation_reads_the_listing_again_and_counts_once(make_env: Any, sim: Any) -> None:
    reference = make_env(EXPOSURE_PAGE_SIZE="5", EXPOSURE_READ_USAGE="false")
    customer(C1, "Shanghai")
    run_to_end(reference)
    whole = stored_exposure(C1)

    env = make_env(EXPOSURE_PAGE_SIZE="1", EXPOSURE_READ_USAGE="false")
    customer(C1, "Shanghai")
    first = refresh_exposure(env.deps(), max_pages=2)
    assert not first.finished
    # The stored continuation has expired by the time the run carries on: Partner Center says 400.
    sim.add_fault("status", method="GET", path="unbilled", status=400, code=800002, times=1)
    run_to_end(env)
    assert stored_exposure(C1).same_figures(whole)
    run = env.deps().runs.current()
    assert run is not None and run.value.listings[0].restarts == 1


def test_an_exemption_lifts_the_credit_hold_at_once(make_env: Any) -> None:
    env = make_env(EXPOSURE_READ_USAGE="false")
    collections = wiring.collections()
    _held_for_credit(env)
    until = (START + timedelta(days=8)).date()
    controls.add_exemption(
        collections,
        C1,
        controls.ExemptionIn(kind="promise_to_pay", until=until, reason="pays on the 10th"),
        actor=TEST_ACTOR,
        correlation_id="t",
    )
    assert CREDIT_LIMIT_HOLD_ID not in holds(C1)
    assert [m["customer_id"] for m in env.reconciles()] == [C1]
