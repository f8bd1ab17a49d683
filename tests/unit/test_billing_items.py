"""Unbilled line items: the two wire shapes mapped to one, and paging without a network."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from shared.adapters.partner_center.billing import (
    LineItemType,
    PageCursor,
    UnbilledLineItem,
    first_cursor,
    iter_line_items,
    read_page,
    wire_date,
    wire_decimal,
)
from shared.adapters.partner_center.client import PartnerCenterClient
from shared.adapters.partner_center.errors import Unrecognised
from shared.adapters.partner_center.http import ApiCall, ApiResult

BILLING = {
    "partnerId": "7654321",
    "customerId": "11111111-AAAA-4111-8111-111111111111",
    "customerName": "上海示例科技有限公司",
    "customerDomainName": "shanghai-demo.partner.onmschina.cn",
    "invoiceNumber": "",
    "orderId": "order-1",
    "orderDate": "2026-11-30T23:30:00-08:00",
    "productId": "CFQ7TTC0LF8S",
    "skuId": "0001",
    "availabilityId": "CFQ7TTC0LF8S0001",
    "productName": "Microsoft 365 E3",
    "skuName": "Microsoft 365 E3",
    "chargeType": "cycleCharge",
    "unitPrice": 114.0,
    "effectiveUnitPrice": 114.0,
    "unitType": "Licenses",
    "quantity": 25,
    "subtotal": 2850.0,
    "taxTotal": 0,
    "totalForCustomer": 2850.0,
    "currency": "CNY",
    "publisherName": "Microsoft Corporation",
    "subscriptionId": "A1111111-0000-4000-8000-000000000001",
    "subscriptionDescription": "Microsoft 365 E3",
    "chargeStartDate": "2026-12-01T00:00:00+08:00",
    "chargeEndDate": "2026-12-31T00:00:00+08:00",
    "termAndBillingCycle": "1 Month Subscription",
    "billableQuantity": 25,
    "meterDescription": "",
    "billingFrequency": "Monthly",
    "invoiceLineItemType": "billingLineItems",
    "billingProvider": "oneTime",
}
USAGE = {
    "partnerId": "7654321",
    "customerId": "22222222-2222-4222-8222-22222222ABCD",
    "customerName": "Fabrikam Trading Ltd",
    "invoiceNumber": "",
    "productId": "DZH318Z0BPS6",
    "skuId": "0001",
    "availabilityId": "DZH318Z0BPS6000001",
    "productName": "Azure plan",
    "skuName": "Azure plan",
    "subscriptionId": "B2222222-0000-4000-8000-000000000001",
    "chargeStartDate": "2026-12-01T00:00:00Z",
    "chargeEndDate": "2026-12-31T00:00:00Z",
    "usageDate": "2026-12-01T23:00:00-05:00",
    "meterType": "1 Compute Hour",
    "meterCategory": "Virtual Machines",
    "meterSubCategory": "NC Series GPU",
    "meterId": "567dd310-680b-5c72-95f4-0e935476e32d",
    "meterName": "NC Series GPU Compute Hours",
    "meterRegion": "China North 3",
    "unitOfMeasure": "1 Hour",
    "resourceUri": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
    "resourceGroup": "rg",
    "consumedService": "Microsoft.Compute",
    "chargeType": "new",
    "unitPrice": 233.333333,
    "quantity": 24.0,
    "unitType": "1 Hour",
    "billingPreTaxTotal": 5600.0,
    "billingCurrency": "cny",
    "pricingPreTaxTotal": 5600.0,
    "pricingCurrency": "CNY",
    "entitlementId": "e-1",
    "effectiveUnitPrice": 233.333333,
    "invoiceLineItemType": "usageLineItems",
    "billingProvider": "marketplace",
}


def test_a_billing_item_maps_to_the_one_shape() -> None:
    item = UnbilledLineItem.from_wire(BILLING, LineItemType.BILLING)
    assert item.customer_id == "11111111-aaaa-4111-8111-111111111111"
    assert item.subscription_id == "a1111111-0000-4000-8000-000000000001"
    assert (item.amount, item.currency, item.quantity) == (Decimal("2850"), "CNY", Decimal(25))
    assert item.day == date(2026, 12, 1)  # the date as written, whatever the offset
    assert item.order_date == date(2026, 11, 30)  # not moved to 1 December by converting to UTC
    assert (item.order_id, item.charge_type, item.offer_id) == ("order-1", "cycleCharge", "CFQ7TTC0LF8S:0001")
    assert item.meter_category is None and item.kind is LineItemType.BILLING


def test_a_usage_item_maps_to_the_one_shape() -> None:
    item = UnbilledLineItem.from_wire(USAGE, LineItemType.USAGE)
    assert item.customer_id == "22222222-2222-4222-8222-22222222abcd"
    assert item.subscription_id == "b2222222-0000-4000-8000-000000000001"
    assert (item.amount, item.currency) == (Decimal("5600"), "CNY")  # billingPreTaxTotal, billingCurrency
    assert item.day == date(2026, 12, 1)  # usageDate, not chargeStartDate
    assert (item.meter_category, item.meter_sub_category) == ("Virtual Machines", "NC Series GPU")
    assert item.meter_name == "NC Series GPU Compute Hours" and item.quantity == Decimal(24)
    assert item.offer_id == "DZH318Z0BPS6:0001" and item.kind is LineItemType.USAGE


def test_keys_in_any_case_and_numbers_exact() -> None:
    raw = {k.upper(): v for k, v in BILLING.items()} | {"SUBTOTAL": 1234.567, "QUANTITY": "0.1"}
    item = UnbilledLineItem.from_wire(raw, LineItemType.BILLING)
    assert item.amount == Decimal("1234.567") and str(item.amount) == "1234.567"
    assert item.quantity == Decimal("0.1")
    parsed = json.loads('{"a": 0.1, "b": 0.2, "c": 1234.567}')  # floats, as the plumbing parses
    assert wire_decimal(parsed["a"]) + wire_decimal(parsed["b"]) == Decimal("0.3")  # type: ignore[operator]
    assert wire_decimal(parsed["c"]) == Decimal("1234.567")
    assert wire_decimal(7) == Decimal(7) and wire_decimal(None) is None


@pytest.mark.parametrize("bad", [True, float("nan"), float("inf"), "lots", [1]])
def test_not_numbers_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        wire_decimal(bad)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-12-01T00:00:00Z", date(2026, 12, 1)),
        ("2026-12-01T23:59:59.1234567+08:00", date(2026, 12, 1)),
        ("2026-11-30T16:00:00-08:00", date(2026, 11, 30)),
        ("2026-12-01", date(2026, 12, 1)),
        ("", None),
        (None, None),
    ],
)
def test_dates_keep_their_written_day(text: str | None, day: date | None) -> None:
    assert wire_date(text) == day


def test_offer_id_falls_back() -> None:
    no_sku = UnbilledLineItem.from_wire({**USAGE, "skuId": None}, LineItemType.USAGE)
    assert no_sku.offer_id == "DZH318Z0BPS6"
    neither = UnbilledLineItem.from_wire({**USAGE, "skuId": None, "productId": None}, LineItemType.USAGE)
    assert neither.offer_id == "unknown"


@pytest.mark.parametrize(
    "broken",
    [
        {"customerId": ""},
        {"customerId": None},
        {"billingPreTaxTotal": None},
        {"billingPreTaxTotal": "a lot"},
        {"billingCurrency": ""},
        {"usageDate": "yesterday"},
    ],
)
def test_invalid_items_raise_value_errors(broken: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        UnbilledLineItem.from_wire({**USAGE, **broken}, LineItemType.USAGE)


class FakeHttp:
    """Answers each call with the next body, and keeps the calls."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies = list(bodies)
        self.calls: list[ApiCall] = []

    def send(self, call: ApiCall) -> ApiResult:
        self.calls.append(call)
        return ApiResult(200, {}, self.bodies.pop(0), call.request_id)


def client_of(http: FakeHttp) -> PartnerCenterClient:
    return PartnerCenterClient(http)  # type: ignore[arg-type]


def collection(items: list[Any], next_link: dict[str, Any] | None = None) -> dict[str, Any]:
    links = {"next": next_link} if next_link else {}
    return {
        "totalCount": len(items),
        "items": items,
        "links": links,
        "attributes": {"objectType": "Collection"},
    }


def test_a_page_skips_and_counts_invalid_items(caplog: pytest.LogCaptureFixture) -> None:
    http = FakeHttp(collection([USAGE, {**USAGE, "customerId": ""}, "junk", None, USAGE]))
    page = read_page(client_of(http), first_cursor(LineItemType.USAGE, "CNY"))
    assert len(page.items) == 2 and page.skipped == 3 and page.next is None
    skipped = [r for r in caplog.records if r.getMessage() == "unbilled line item skipped"]
    assert len(skipped) == 3 and skipped[0].invalid_fields == ["customerId"]  # type: ignore[attr-defined]
    assert "Fabrikam" not in caplog.text  # no content of the items in the log


def test_continuation_links_send_the_token_and_seek_next() -> None:
    token_link = {
        "uri": "/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=usagelineitems"
        "&currencycode=CNY&period=current&size=2",
        "method": "GET",
        "headers": [{"key": "MS-ContinuationToken", "value": "tok-1"}],
    }
    http = FakeHttp(collection([USAGE, USAGE], token_link), collection([USAGE]))
    items = list(iter_line_items(client_of(http), LineItemType.USAGE, "CNY", size=2))
    assert len(items) == 3
    first, second = http.calls
    assert first.headers == {} and first.params["size"] == "2" and "seekOperation" not in first.params
    assert second.path == "/v1/invoices/unbilled/lineitems"
    assert second.headers == {"MS-ContinuationToken": "tok-1"} and second.params["seekOperation"] == "Next"


def test_offset_links_are_followed_as_given_and_absolute_uris_lose_their_host() -> None:
    offset_link = {
        "uri": "https://api.partnercenter.microsoftonline.cn/v1/invoices/unbilled/lineitems"
        "?provider=onetime&invoicelineitemtype=billinglineitems&currencycode=CNY&period=current"
        "&size=1&offset=1",
        "method": "GET",
        "headers": [],
    }
    http = FakeHttp(collection([BILLING], offset_link))
    page = read_page(client_of(http), first_cursor(LineItemType.BILLING, "CNY", size=1))
    assert page.next == PageCursor(
        path="/v1/invoices/unbilled/lineitems",
        params={
            "provider": "onetime",
            "invoicelineitemtype": "billinglineitems",
            "currencycode": "CNY",
            "period": "current",
            "size": "1",
            "offset": "1",
        },
    )
    http.bodies.append(collection([]))
    assert read_page(client_of(http), page.next).items == []
    assert http.calls[-1].headers == {} and http.calls[-1].params["offset"] == "1"


def test_a_token_link_without_a_query_keeps_the_filters() -> None:
    link = {"uri": "/invoices/unbilled/lineitems", "headers": [{"KEY": "ms-continuationtoken", "VALUE": "t"}]}
    http = FakeHttp(collection([USAGE], link))
    page = read_page(client_of(http), first_cursor(LineItemType.USAGE, "CNY"))
    assert page.next is not None and page.next.token == "t"
    assert (
        page.next.params["currencycode"] == "CNY"
        and page.next.params["invoicelineitemtype"] == "usagelineitems"
    )


def test_the_same_next_page_again_stops_with_an_error() -> None:
    cursor = first_cursor(LineItemType.USAGE, "CNY")
    same = {"uri": "/invoices/unbilled/lineitems?" + "&".join(f"{k}={v}" for k, v in cursor.params.items())}
    http = FakeHttp(collection([USAGE], same), collection([USAGE], same))
    with pytest.raises(Unrecognised):
        list(iter_line_items(client_of(http), LineItemType.USAGE, "CNY"))


def test_not_a_collection_is_unrecognised() -> None:
    with pytest.raises(Unrecognised):
        read_page(client_of(FakeHttp(["a", "bare", "array"])), first_cursor(LineItemType.USAGE, "CNY"))


def test_billing_reads_parse_json_numbers_from_their_text() -> None:
    """Beyond 15 significant digits a float would round: billing reads ask for Decimals."""
    from shared.adapters.partner_center.http import _parse_body

    raw = b'{"items": [{"subtotal": 12345678901234567.891}]}'
    assert _parse_body(raw, True)["items"][0]["subtotal"] == Decimal("12345678901234567.891")
    assert _parse_body(raw)["items"][0]["subtotal"] != Decimal("12345678901234567.891")
