"""Unbilled reconciliation line items: the billing reads against the simulator over real HTTP."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests

from shared.adapters.partner_center import PartnerCenterNotFound, Throttled, Unrecognised
from shared.adapters.partner_center.billing import (
    LINE_ITEMS_PATH,
    LineItemType,
    PageCursor,
    UnbilledLineItem,
    first_cursor,
    iter_line_items,
    read_page,
)
from tests.integration.partner_center.conftest import C1, C2, C2_SUB, make_client
from tools.pcsim import Simulator
from tools.pcsim.billing import billing_item, fleet

C1_AZURE_PLAN = "a1111111-0000-4000-8000-000000000004"
C9 = "99999999-9999-4999-8999-999999999999"
C9_PLAN = "d9999999-0000-4000-8000-000000000001"


def seeded_usage(sim: Simulator, days: int) -> None:
    """A customer of its own with `days` days of usage: amounts 100.01, 100.02, ..."""
    for n in range(1, days + 1):
        sim.usage_day(C9, C9_PLAN, f"2026-11-{n:02d}", Decimal("100") + Decimal(n).scaleb(-2))


def line_item_calls(sim: Simulator) -> list[dict[str, Any]]:
    return [c for c in sim.calls() if c["path"].lower() == LINE_ITEMS_PATH]


def test_billing_items_are_parsed_with_exact_decimals(sim: Simulator) -> None:
    sim.add_line_items(
        "billinglineitems",
        [
            billing_item(C9, "S-1", "CFQ7TTC0LF8S:0001", "Microsoft 365 E3", "1234.567", quantity=3),
            billing_item(C9, "s-2", "CFQ7TTC0LF8S:0001", "Microsoft 365 E3", "0.1"),
            billing_item(C9, "s-3", "CFQ7TTC0LF8S:0001", "Microsoft 365 E3", "0.2"),
        ],
    )
    items = [
        i
        for i in iter_line_items(make_client(sim), LineItemType.BILLING, "CNY", correlation_id="bill-1")
        if i.customer_id == C9
    ]
    assert [i.amount for i in items] == [Decimal("1234.567"), Decimal("0.1"), Decimal("0.2")]
    assert items[1].amount + items[2].amount == Decimal("0.3")  # exact, not 0.30000000000000004
    first = items[0]
    assert first.quantity == Decimal(3) and first.subscription_id == "s-1"
    assert first.offer_id == "CFQ7TTC0LF8S:0001" and first.kind is LineItemType.BILLING
    assert first.day == date(2026, 12, 1) and first.order_date == date(2026, 12, 1)
    assert first.currency == "CNY" and first.charge_type == "cycleCharge"


def test_the_demo_tenants_line_items(sim: Simulator) -> None:
    client = make_client(sim)
    billing = list(iter_line_items(client, LineItemType.BILLING, "CNY"))
    assert {(i.customer_id, i.subscription_id, i.amount) for i in billing} >= {
        (C1, "a1111111-0000-4000-8000-000000000001", Decimal("2850.00")),
        (C1, "a1111111-0000-4000-8000-000000000003", Decimal("1920.00")),
    }
    usage = list(iter_line_items(client, LineItemType.USAGE, "CNY", size=7))
    c1_days = {i.day: i.amount for i in usage if i.subscription_id == C1_AZURE_PLAN}
    assert len(c1_days) == 31 and all(Decimal(120) <= a <= Decimal(181) for a in c1_days.values())
    c2 = sorted((i for i in usage if i.customer_id == C2), key=lambda i: i.day or date.min)
    assert len(c2) == 31 and all(Decimal(40) <= i.amount <= Decimal(61) for i in c2[:30])
    spike = c2[-1]
    assert (spike.day, spike.amount, spike.subscription_id) == (date(2026, 12, 1), Decimal("5600.00"), C2_SUB)
    assert (spike.meter_category, spike.meter_sub_category) == ("Virtual Machines", "NC Series GPU")
    assert spike.offer_id == "DZH318Z0BPS6:0001" and spike.kind is LineItemType.USAGE


@pytest.mark.parametrize("style", ["continuation", "offset"])
def test_both_paging_styles_read_every_item_once(sim: Simulator, style: str) -> None:
    sim.reset({"customers": []})
    sim.set_rate_limit(10_000)
    sim.set_billing_paging(style)
    seeded_usage(sim, 11)
    items = list(iter_line_items(make_client(sim), LineItemType.USAGE, "CNY", size=4))
    assert [i.amount for i in items] == [Decimal("100") + Decimal(n).scaleb(-2) for n in range(1, 12)]
    calls = line_item_calls(sim)
    assert len(calls) == 3 and {c["status"] for c in calls} == {200}
    assert "ms-continuationtoken" not in calls[0]["extra"]
    assert "offset" not in calls[0]["extra"]["query"]
    for call in calls[1:]:
        query = {k.lower(): v for k, v in call["extra"]["query"].items()}
        assert query["currencycode"] == "CNY" and query["size"] == "4"
        if style == "continuation":
            assert call["extra"]["ms-continuationtoken"] and query["seekoperation"] == "Next"
            assert "offset" not in query
        else:
            assert "ms-continuationtoken" not in call["extra"] and "seekoperation" not in query
    if style == "offset":
        assert [c["extra"]["query"]["offset"] for c in calls[1:]] == ["4", "8"]


@pytest.mark.parametrize("style", ["continuation", "offset"])
def test_a_stored_cursor_resumes_with_exactly_the_remaining_items(sim: Simulator, style: str) -> None:
    sim.reset({"customers": []})
    sim.set_rate_limit(10_000)
    sim.set_billing_paging(style)
    seeded_usage(sim, 10)
    client = make_client(sim)
    page = read_page(client, first_cursor(LineItemType.USAGE, "CNY", size=3))
    assert len(page.items) == 3 and page.next is not None and page.skipped == 0
    assert (page.next.token is not None) is (style == "continuation")
    stored = page.next.model_dump_json()  # what a refresh keeps to resume after a crash
    cursor: PageCursor | None = PageCursor.model_validate_json(stored)
    rest: list[UnbilledLineItem] = []
    while cursor is not None:
        following = read_page(make_client(sim), cursor)  # a new process: a new client
        rest.extend(following.items)
        cursor = following.next
    assert [i.day for i in page.items + rest] == [date(2026, 11, n) for n in range(1, 11)]
    assert [i.amount for i in rest] == [Decimal("100") + Decimal(n).scaleb(-2) for n in range(4, 11)]


def test_invalid_items_are_skipped_and_counted_not_fatal(sim: Simulator, caplog: Any) -> None:
    sim.reset({"customers": []})
    sim.set_rate_limit(10_000)
    good = billing_item(C9, "s-1", "CFQ7TTC0LF8S:0001", "Microsoft 365 E3", "10.50")
    no_customer = {**good, "customerId": ""}
    bad_amount = {**good, "subtotal": "lots"}
    sim.add_line_items("billinglineitems", [good, no_customer, "not an object", bad_amount, good])
    page = read_page(make_client(sim), first_cursor(LineItemType.BILLING, "CNY"))
    assert [i.amount for i in page.items] == [Decimal("10.50")] * 2
    assert page.skipped == 3 and page.next is None
    assert sum("unbilled line item skipped" in r.getMessage() for r in caplog.records) == 3


def test_pascal_case_answers_parse(sim: Simulator) -> None:
    sim.set_response_case("pascal")
    usage = list(iter_line_items(make_client(sim), LineItemType.USAGE, "CNY", size=20))
    assert len(usage) == 62 and usage[0].customer_id == C1 and usage[0].meter_category == "Virtual Machines"


def test_missing_or_invalid_currency_is_the_typed_400(sim: Simulator) -> None:
    client = make_client(sim)
    missing = first_cursor(LineItemType.BILLING, "CNY")
    del missing.params["currencycode"]
    with pytest.raises(Unrecognised) as err:
        read_page(client, missing)
    assert err.value.status == 400 and err.value.error_code == 800002
    with pytest.raises(Unrecognised) as err:
        read_page(client, first_cursor(LineItemType.USAGE, "yuan"))
    assert err.value.status == 400 and "currencyCode" in err.value.description


def test_other_refusals_of_the_filters(sim: Simulator) -> None:
    client = make_client(sim)
    with pytest.raises(Unrecognised):
        list(iter_line_items(client, LineItemType.BILLING, "CNY", period="last-year"))
    wrong_provider = first_cursor(LineItemType.BILLING, "CNY")
    wrong_provider.params["provider"] = "azure"
    with pytest.raises(Unrecognised):
        read_page(client, wrong_provider)
    with pytest.raises(ValueError):
        first_cursor(LineItemType.BILLING, "CNY", size=2001)
    with pytest.raises(PartnerCenterNotFound):
        read_page(
            client,
            PageCursor(
                path="/v1/invoices/unbilled/nothing", params={"invoicelineitemtype": "usagelineitems"}
            ),
        )


def test_a_429_is_throttled_with_its_retry_after(sim: Simulator) -> None:
    sim.add_fault("throttle", path="/invoices/unbilled/lineitems", seconds=17, times=1)
    with pytest.raises(Throttled) as err:
        list(iter_line_items(make_client(sim), LineItemType.BILLING, "CNY"))
    assert err.value.retry_after_seconds == 17
    assert [c["status"] for c in line_item_calls(sim)] == [429]  # not retried inside the call


def test_the_rate_limit_counts_line_item_reads(sim: Simulator) -> None:
    sim.set_rate_limit(2)
    client = make_client(sim)
    client.list_subscriptions(C1)
    read_page(client, first_cursor(LineItemType.BILLING, "CNY"))
    with pytest.raises(Throttled):
        read_page(client, first_cursor(LineItemType.USAGE, "CNY"))


def test_the_previous_period_and_another_currency_are_empty(sim: Simulator) -> None:
    client = make_client(sim)
    page = read_page(client, first_cursor(LineItemType.USAGE, "CNY", period="previous"))
    assert (page.items, page.next, page.skipped) == ([], None, 0)
    assert list(iter_line_items(client, LineItemType.BILLING, "USD")) == []


def test_control_endpoints_and_reset(sim: Simulator) -> None:
    control = f"{sim.base_url}/_sim"
    answer = requests.post(
        f"{control}/billing/usage",
        json={"customerId": C9, "subscriptionId": C9_PLAN, "day": "2026-12-01", "amount": 99.99, "count": 3},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json() == {"added": 3}
    item = billing_item(C9, "s-1", "CFQ7TTC0LF8S:0001", "Microsoft 365 E3", "5")
    answer = requests.post(
        f"{control}/billing/items", json={"kind": "billinglineitems", "items": [item]}, timeout=5
    )
    assert answer.status_code == 200
    assert requests.post(f"{control}/config", json={"billing_paging": "pages"}, timeout=5).status_code == 400
    configured = requests.post(f"{control}/config", json={"billing_paging": "offset"}, timeout=5).json()
    assert configured["billing_paging"] == "offset"
    client = make_client(sim)
    usage = [i for i in iter_line_items(client, LineItemType.USAGE, "CNY", size=5) if i.customer_id == C9]
    assert sum((i.amount for i in usage), Decimal(0)) == Decimal("99.99") and len(usage) == 3
    assert [c for c in line_item_calls(sim) if "offset" in c["extra"].get("query", {})]
    assert requests.post(f"{control}/reset", timeout=5).status_code == 200
    sim.set_rate_limit(10_000)
    assert not [i for i in iter_line_items(client, LineItemType.USAGE, "CNY") if i.customer_id == C9]
    assert sim.core.billing.paging == "continuation"
    assert len(list(iter_line_items(client, LineItemType.BILLING, "CNY"))) == 3  # the seed's again


def test_seat_changes_and_new_subscriptions_show_in_the_listing(sim: Simulator) -> None:
    client = make_client(sim)
    added = sim.add_subscription(
        C2, {"id": "B2222222-0000-4000-8000-000000000009", "offerId": "CFQ7TTC0LF8S:0001"}
    )
    assert added["status"] == "active" and added["attributes"] == {"objectType": "Subscription"}
    listed = {s.id.lower(): s for s in client.list_subscriptions(C2)}
    assert set(listed) == {C2_SUB, "b2222222-0000-4000-8000-000000000009"}
    etag = listed[C2_SUB].etag
    sim.set_quantity(C2, C2_SUB, 15)
    again = client.get_subscription(C2, C2_SUB)
    assert again.quantity == 15 and again.etag != etag  # a legacy subscription: a new etag
    with pytest.raises(ValueError):
        sim.add_subscription(C2, {"id": C2_SUB})


def test_the_cursor_is_plain_json() -> None:
    cursor = first_cursor(LineItemType.USAGE, "CNY", "previous", 50)
    assert json.loads(cursor.model_dump_json()) == {
        "path": "/v1/invoices/unbilled/lineitems",
        "params": {
            "provider": "onetime",
            "invoicelineitemtype": "usagelineitems",
            "currencycode": "CNY",
            "period": "previous",
            "size": "50",
        },
        "token": None,
    }


def test_a_fleet_seed_is_deterministic_and_read_back_whole(sim: Simulator) -> None:
    customers, items = fleet(4, 3, "CNY", seed=5)
    assert (customers, items) == fleet(4, 3, "CNY", seed=5) and fleet(4, 3, "CNY", seed=6) != (
        customers,
        items,
    )
    sim.reset({"customers": customers, "unbilledLineItems": items})
    sim.set_rate_limit(10_000)
    client = make_client(sim)
    assert len(list(client.list_customers())) == 4
    billing = list(iter_line_items(client, LineItemType.BILLING, "CNY", size=5))
    usage = list(iter_line_items(client, LineItemType.USAGE, "CNY", size=5))
    assert len(billing) == len(usage) == 12
    assert {i.customer_id for i in usage} == {c["id"] for c in customers}
    assert {i.subscription_id for i in usage} == {c["subscriptions"][0]["id"] for c in customers}
