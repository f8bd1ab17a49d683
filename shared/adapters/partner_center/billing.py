"""Partner Center billing reads: the invoice's unbilled reconciliation line items.

`GET /v1/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=billinglineitems
&currencycode=CNY&period=current&size=2000` ("Get invoice's unbilled reconciliation line items",
Partner Center and Partner Center operated by 21Vianet). `invoicelineitemtype` is
`billinglineitems` (new-commerce one-time and recurring charges) or `usagelineitems` (the v1
daily rated usage: Microsoft deprecated it on the global cloud from 21 January 2025; it is read
wherever the instance still serves it). `period` is `current` or `previous`; at most 2000 a page.

Pages follow either style Partner Center uses: a `MS-ContinuationToken` in `links.next.headers`
(the next page is the link's uri with `seekOperation=Next` and the token as a header), or an
offset in the link's uri and no token (the next page is a plain GET of that uri, its query kept).
A `PageCursor` is plain JSON, so a reader can store it and resume after a crash.

Every call goes through `PartnerCenterHttp.send` (pacing, transient retries, typed errors:
`Throttled`, `Unauthorised`, `PartnerCenterNotFound`, `Unrecognised`, ... unchanged).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.adapters.partner_center.client import API_PREFIX, CONTINUATION_HEADER, PartnerCenterClient
from shared.adapters.partner_center.errors import Unrecognised
from shared.adapters.partner_center.http import ApiCall
from shared.adapters.partner_center.models import Collection, PartnerCenterModel

log = logging.getLogger(__name__)

LINE_ITEMS_PATH = f"{API_PREFIX}/invoices/unbilled/lineitems"
MAX_PAGE_SIZE = 2000
PERIODS = ("current", "previous")
_LEADING_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")


class LineItemType(StrEnum):
    """The `invoicelineitemtype` of the call."""

    BILLING = "billinglineitems"
    USAGE = "usagelineitems"


def wire_decimal(value: Any) -> Decimal | None:
    """A JSON number (or numeric string) as an exact `Decimal`; None stays None.

    `read_page` asks the plumbing for exact numbers (`ApiCall.exact_numbers`: JSON numbers with
    a fraction are parsed as `Decimal` from their text), so amounts arrive as Decimals, kept as
    they are. A float (a caller that parsed the body itself) is read from its `repr`, the
    shortest text that reads back as the same float: exact for up to 15 significant digits
    (`1234.567` -> `Decimal("1234.567")`), never through binary arithmetic. Ints and strings are
    read as they are; bools, NaN and infinities are refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value[:40]!r}") from None
    else:
        raise ValueError(f"not a number: {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def wire_date(value: Any) -> date | None:
    """The date part of a Partner Center date-time as written (any offset: `2026-12-01T00:00:00
    +08:00` is 1 December, not converted to UTC); a bare `2026-12-01` too; "" is None."""
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    text = str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("z", "Z")).date()
    except ValueError:
        pass
    match = _LEADING_DATE.match(text)
    if match is None:
        raise ValueError(f"not a date: {text[:40]!r}")
    return date.fromisoformat(match.group(1))


class UnbilledLineItem(PartnerCenterModel):
    """One line item of either kind, in one shape (`from_wire` maps the two wire shapes)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    customer_id: str = Field(min_length=1)
    customer_name: str | None = None
    subscription_id: str | None = None
    order_id: str | None = None
    product_id: str | None = None
    sku_id: str | None = None
    product_name: str | None = None
    sku_name: str | None = None
    charge_type: str | None = None
    quantity: Decimal | None = None
    amount: Decimal  # billing: `subtotal` (pre-tax, the partner's cost); usage: `billingPreTaxTotal`
    currency: str = Field(min_length=1)  # billing: `currency`; usage: `billingCurrency`
    day: date | None = None  # usage: `usageDate`; billing: `chargeStartDate`
    order_date: date | None = None
    meter_category: str | None = None
    meter_sub_category: str | None = None
    meter_name: str | None = None
    kind: LineItemType

    @field_validator("customer_id", "subscription_id", mode="before")
    @classmethod
    def _lower_id(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("quantity", "amount", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Decimal | None:
        return wire_decimal(value)

    @field_validator("day", "order_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> date | None:
        return wire_date(value)

    @property
    def offer_id(self) -> str:
        """`product:sku` as the subscriptions' new-commerce offer ids, or what there is."""
        if self.product_id and self.sku_id:
            return f"{self.product_id}:{self.sku_id}"
        return self.product_id or "unknown"

    @classmethod
    def from_wire(cls, raw: dict[str, Any], kind: LineItemType) -> UnbilledLineItem:
        """Map a billing or usage line item as Partner Center sends it (keys in any case).
        Raises `ValueError` (pydantic's `ValidationError` is one) when it is not a valid item."""
        if not isinstance(raw, dict):
            raise ValueError(f"a line item must be an object, not {type(raw).__name__}")
        wire = {str(k).lower(): v for k, v in raw.items()}
        values: dict[str, Any] = {
            "customer_id": wire.get("customerid"),
            "customer_name": wire.get("customername"),
            "subscription_id": wire.get("subscriptionid"),
            "order_id": wire.get("orderid"),
            "product_id": wire.get("productid"),
            "sku_id": wire.get("skuid"),
            "product_name": wire.get("productname"),
            "sku_name": wire.get("skuname"),
            "charge_type": wire.get("chargetype"),
            "quantity": wire.get("quantity"),
            "kind": kind,
        }
        if kind is LineItemType.BILLING:
            values |= {
                "amount": wire.get("subtotal"),
                "currency": wire.get("currency"),
                "day": wire.get("chargestartdate"),
                "order_date": wire.get("orderdate"),
            }
        else:
            values |= {
                "amount": wire.get("billingpretaxtotal"),
                "currency": wire.get("billingcurrency"),
                "day": wire.get("usagedate"),
                "order_date": wire.get("orderdate"),
                "meter_category": wire.get("metercategory"),
                "meter_sub_category": wire.get("metersubcategory"),
                "meter_name": wire.get("metername"),
            }
        return cls.model_validate(values)


class PageCursor(BaseModel):
    """Where the next page is: plain JSON (`model_dump_json` / `model_validate_json`), stored by
    a reader to resume after a crash. `token` set: continuation style."""

    path: str
    params: dict[str, str] = Field(default_factory=dict)
    token: str | None = None


def first_cursor(
    kind: LineItemType, currency: str, period: str = "current", size: int = MAX_PAGE_SIZE
) -> PageCursor:
    """The first page of one kind of line items in one currency and period."""
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"size must be 1..{MAX_PAGE_SIZE}, not {size}")
    return PageCursor(
        path=LINE_ITEMS_PATH,
        params={
            "provider": "onetime",
            "invoicelineitemtype": LineItemType(kind).value,
            "currencycode": currency,
            "period": period,
            "size": str(size),
        },
    )


@dataclass
class LineItemPage:
    """One page: the valid items, where the next page is (None: the last), how many were skipped."""

    items: list[UnbilledLineItem]
    next: PageCursor | None
    skipped: int


def _kind_of(cursor: PageCursor) -> LineItemType:
    for key, value in cursor.params.items():
        if key.lower() == "invoicelineitemtype":
            return LineItemType(value.lower())
    raise ValueError("the cursor names no invoicelineitemtype")


def _has_param(params: dict[str, str], name: str) -> bool:
    return any(key.lower() == name.lower() for key in params)


def _next_cursor(collection: Collection, current: PageCursor) -> PageCursor | None:
    """The next page from `links.next`: its uri (absolute: path and query; without `/v1`: the
    prefix added) with the continuation token when the link carries one, else the uri as given
    (an offset in its query). A token link without a query keeps the current page's query."""
    link = collection.links.next if collection.links else None
    if link is None or not link.uri:
        return None
    parts = urlsplit(link.uri)
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
        path = API_PREFIX + path
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    token = link.header(CONTINUATION_HEADER) or None
    if token and not params:
        params = {k: v for k, v in current.params.items() if k.lower() not in ("offset", "seekoperation")}
    return PageCursor(path=path, params=params, token=token)


def read_page(
    client: PartnerCenterClient, cursor: PageCursor, *, correlation_id: str | None = None
) -> LineItemPage:
    """One GET of line items at `cursor`. Items that fail validation are skipped, counted and
    logged (never their content); a failed call raises the plumbing's typed error."""
    kind = _kind_of(cursor)
    params = dict(cursor.params)
    headers: dict[str, str] = {}
    if cursor.token:
        headers[CONTINUATION_HEADER] = cursor.token
        if not _has_param(params, "seekOperation"):
            params["seekOperation"] = "Next"
    call = ApiCall(
        "GET", cursor.path, params=params, headers=headers, correlation_id=correlation_id, exact_numbers=True
    )
    body = client.http.send(call).body or {}
    if not isinstance(body, dict):
        raise Unrecognised("Partner Center answered line items with no collection", status=200)
    raw_items = next((v for k, v in body.items() if str(k).lower() == "items"), None) or []
    collection = Collection.model_validate({k: v for k, v in body.items() if str(k).lower() != "items"})
    items: list[UnbilledLineItem] = []
    skipped = 0
    for position, raw in enumerate(raw_items if isinstance(raw_items, list) else []):
        try:
            items.append(UnbilledLineItem.from_wire(raw, kind))
        except ValueError as exc:
            skipped += 1
            fields = (
                sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
                if isinstance(exc, ValidationError)
                else []
            )
            log.warning(
                "unbilled line item skipped",
                extra={"line_item_type": kind.value, "position": position, "invalid_fields": fields},
            )
    return LineItemPage(items=items, next=_next_cursor(collection, cursor), skipped=skipped)


def iter_line_items(
    client: PartnerCenterClient,
    kind: LineItemType,
    currency: str,
    period: str = "current",
    size: int = MAX_PAGE_SIZE,
    correlation_id: str | None = None,
) -> Iterator[UnbilledLineItem]:
    """Every valid line item of one kind, currency and period, page after page."""
    cursor: PageCursor | None = first_cursor(kind, currency, period, size)
    while cursor is not None:
        page = read_page(client, cursor, correlation_id=correlation_id)
        yield from page.items
        if page.next is not None and page.next == cursor:
            raise Unrecognised("Partner Center answered the same next page again", status=200)
        cursor = page.next
