"""The simulator's unbilled reconciliation line items ("Get invoice's unbilled reconciliation
line items": `GET /v1/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=...
&currencycode=CNY&period=current&size=2000`).

Items are kept per line item type as wire-shaped dicts (camelCase, numbers as JSON numbers),
seeded from `"unbilledLineItems": {"billingLineItems": [...], "usageLineItems": [...]}`. Only
the `current` period has items; `previous` answers an empty collection. Pages follow one of the
two styles Partner Center collections use: `continuation` (default: `links.next` carries a
`MS-ContinuationToken` header, asked with `seekOperation=Next`) or `offset` (`links.next.uri`
carries `offset=N`, no header).

Script them with `add_items`, `usage_day` (a spike is just a big day) and `fleet` (many
customers, for a benchmark); over HTTP with `POST /_sim/billing/items`, `POST /_sim/billing/usage`
and `POST /_sim/config {"billing_paging": ...}` (`control` below).
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import uuid
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import urlencode

from tools.pcsim.errors import SimError

# invoicelineitemtype (lower case) -> the seed key and the items' `invoiceLineItemType`.
KINDS = {"billinglineitems": "billingLineItems", "usagelineitems": "usageLineItems"}
PROVIDERS = {"billinglineitems": "oneTime", "usagelineitems": "marketplace"}
PAGING_STYLES = ("continuation", "offset")
MAX_PAGE_SIZE = 2000
PARTNER_ID = "7654321"
AZURE_PLAN = ("DZH318Z0BPS6", "0001", "Azure plan")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_IDS = uuid.UUID("0b7c6a1e-5d4f-4c3b-9a2e-1f0e9d8c7b6a")


def kind_of(value: str) -> str:
    """The lower-case line item type (`billinglineitems` or `usagelineitems`), any case given."""
    kind = str(value or "").lower()
    if kind not in KINDS:
        raise SimError(400, 800002, f"Invalid invoiceLineItemType: {value}")
    return kind


def _number(value: Decimal | float | int | str) -> float | int:
    """A JSON number: an int when whole and written without a fraction, else a float whose
    shortest repr is the decimal's text (at most 15 significant digits stay exact)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return float(Decimal(str(value)))


def _token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


class BillingStore:
    """Line items per type, the paging style, and the documented list call over them."""

    def __init__(self, items: dict[str, list[Any]] | None = None, paging: str = "continuation") -> None:
        self.items: dict[str, list[Any]] = {kind: [] for kind in KINDS}
        self.paging = paging
        for kind, listed in (items or {}).items():
            self.add_items(kind, listed)

    @classmethod
    def from_seed(cls, seed: dict[str, Any]) -> BillingStore:
        seeded = seed.get("unbilledLineItems") or {}
        return cls({kind: list(seeded.get(key) or []) for kind, key in KINDS.items()})

    def set_paging(self, style: str) -> None:
        if style not in PAGING_STYLES:
            raise ValueError(f"billing_paging must be one of {PAGING_STYLES}, not {style!r}")
        self.paging = style

    def add_items(self, kind: str, items: list[Any]) -> list[Any]:
        """Append items as given (a non-object too, to test a reader's skipping); objects get the
        documented `invoiceLineItemType` and `billingProvider` where they have none."""
        kind = kind_of(kind)
        added = []
        for item in items:
            item = copy.deepcopy(item)
            if isinstance(item, dict):
                item.setdefault("invoiceLineItemType", KINDS[kind])
                item.setdefault("billingProvider", PROVIDERS[kind])
            self.items[kind].append(item)
            added.append(copy.deepcopy(item))
        return added

    def usage_day(
        self,
        customer_id: str,
        subscription_id: str,
        day: date | str,
        amount: Decimal | float | int | str,
        currency: str = "CNY",
        meter_category: str = "Virtual Machines",
        meter_sub_category: str = "D Series",
        count: int = 1,
        customer_name: str | None = None,
    ) -> list[dict[str, Any]]:
        """Add one day of rated usage: `count` items summing to `amount` exactly."""
        items = usage_items(
            customer_id,
            subscription_id,
            day,
            amount,
            currency=currency,
            meter_category=meter_category,
            meter_sub_category=meter_sub_category,
            count=count,
            customer_name=customer_name,
        )
        return self.add_items("usagelineitems", items)

    # --- the API ---
    def list(self, query: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        """The documented call: filters checked, one page answered in the configured style."""
        q = {k.lower(): v for k, v in query.items()}
        if str(q.get("provider", "")).lower() != "onetime":
            raise SimError(400, 800002, f"Invalid provider: {q.get('provider', '')}")
        kind = kind_of(q.get("invoicelineitemtype", ""))
        currency = q.get("currencycode", "")
        if not currency:
            raise SimError(400, 800002, "currencyCode is required")
        if not _CURRENCY.match(currency):
            raise SimError(400, 800002, f"Invalid currencyCode: {currency}")
        period = str(q.get("period", "")).lower()
        if period not in ("current", "previous"):
            raise SimError(400, 800002, f"Invalid period: {q.get('period', '')}")
        try:
            size = max(1, min(int(q.get("size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE))
            offset = self._offset(q, headers)
        except ValueError:
            raise SimError(400, 800002, "Invalid size or offset") from None
        matching = [] if period == "previous" else [i for i in self.items[kind] if _in(i, kind, currency)]
        page = [copy.deepcopy(i) for i in matching[offset : offset + size]]
        base = {
            "provider": "onetime",
            "invoicelineitemtype": kind,
            "currencycode": currency,
            "period": period,
            "size": str(size),
        }
        links: dict[str, Any] = {"self": _link(base | ({"offset": str(offset)} if offset else {}))}
        following = offset + size
        if following < len(matching):
            if self.paging == "offset":
                links["next"] = _link(base | {"offset": str(following)})
            else:
                links["next"] = _link(base | {"seekOperation": "Next"}, _token(following))
        return {
            "totalCount": len(page),
            "items": page,
            "links": links,
            "attributes": {"objectType": "Collection"},
        }

    def _offset(self, q: dict[str, str], headers: dict[str, str]) -> int:
        if self.paging == "offset":
            return max(0, int(q.get("offset", "0") or 0))
        if q.get("seekoperation", "").lower() != "next":
            return 0
        token = headers.get("ms-continuationtoken")
        if not token:
            raise SimError(400, 800002, "MS-ContinuationToken header is required with seekOperation=Next")
        try:
            return int(json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError):
            raise SimError(400, 800002, "Invalid continuation token") from None


def _in(item: Any, kind: str, currency: str) -> bool:
    """Whether an item is in this currency (a non-object is answered as it is, every time)."""
    if not isinstance(item, dict):
        return True
    field = "currency" if kind == "billinglineitems" else "billingCurrency"
    return str(item.get(field, "")).lower() == currency.lower()


def _link(params: dict[str, str], token: str | None = None) -> dict[str, Any]:
    headers = [{"key": "MS-ContinuationToken", "value": token}] if token else []
    return {"uri": "/invoices/unbilled/lineitems?" + urlencode(params), "method": "GET", "headers": headers}


def _split(amount: Decimal, count: int) -> list[Decimal]:
    """`count` parts at the amount's own precision (at least cents) summing to it exactly."""
    step = Decimal(1).scaleb(min(int(amount.as_tuple().exponent), -2))
    part = (amount / count).quantize(step, rounding=ROUND_DOWN)
    return [part] * (count - 1) + [amount - part * (count - 1)]


def usage_items(
    customer_id: str,
    subscription_id: str,
    day: date | str,
    amount: Decimal | float | int | str,
    *,
    currency: str = "CNY",
    meter_category: str = "Virtual Machines",
    meter_sub_category: str = "D Series",
    count: int = 1,
    customer_name: str | None = None,
) -> list[dict[str, Any]]:
    """Daily rated usage items of the documented shape for one Azure plan subscription and day."""
    if count < 1:
        raise ValueError("count must be at least 1")
    when = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    month = when.replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    product, sku, name = AZURE_PLAN
    meter_id = str(uuid.uuid5(_IDS, f"{meter_category}/{meter_sub_category}"))
    entitlement = str(uuid.uuid5(_IDS, f"entitlement/{subscription_id}".lower()))
    group = "rg-" + re.sub(r"[^a-z0-9]+", "-", meter_category.lower()).strip("-")
    items = []
    for index, part in enumerate(_split(Decimal(str(amount)), count)):
        resource = f"vm-{when:%m%d}-{index + 1:02d}"
        unit_price = (part / 24).quantize(Decimal("0.000001"))
        items.append(
            {
                "partnerId": PARTNER_ID,
                "customerId": customer_id,
                "customerName": customer_name or "",
                "invoiceNumber": "",
                "productId": product,
                "skuId": sku,
                "availabilityId": f"{product}00{sku}",
                "productName": name,
                "skuName": name,
                "subscriptionId": subscription_id,
                "chargeStartDate": f"{month.isoformat()}T00:00:00Z",
                "chargeEndDate": f"{month_end.isoformat()}T00:00:00Z",
                "usageDate": f"{when.isoformat()}T00:00:00Z",
                "meterType": "1 Compute Hour",
                "meterCategory": meter_category,
                "meterSubCategory": meter_sub_category,
                "meterId": meter_id,
                "meterName": f"{meter_sub_category} Compute Hours",
                "meterRegion": "China North 3",
                "unitOfMeasure": "1 Hour",
                "resourceUri": (
                    f"/subscriptions/{entitlement}/resourceGroups/{group}"
                    f"/providers/Microsoft.Compute/virtualMachines/{resource}"
                ),
                "resourceGroup": group,
                "consumedService": "Microsoft.Compute",
                "chargeType": "new",
                "unitPrice": _number(unit_price),
                "quantity": 24,
                "unitType": "1 Hour",
                "billingPreTaxTotal": _number(part),
                "billingCurrency": currency,
                "pricingPreTaxTotal": _number(part),
                "pricingCurrency": currency,
                "entitlementId": entitlement,
                "effectiveUnitPrice": _number(unit_price),
                "invoiceLineItemType": "usageLineItems",
                "billingProvider": "marketplace",
            }
        )
    return items


def billing_item(
    customer_id: str,
    subscription_id: str,
    offer_id: str,
    name: str,
    subtotal: Decimal | float | int | str,
    *,
    currency: str = "CNY",
    quantity: int = 1,
    charge_type: str = "cycleCharge",
    start: str = "2026-12-01",
    customer_name: str = "",
    order_id: str = "",
) -> dict[str, Any]:
    """A new-commerce billing line item of the documented shape (a month's charge)."""
    product, _, sku = offer_id.partition(":")
    begin = date.fromisoformat(start)
    end = (begin.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    total = Decimal(str(subtotal))
    unit = (total / quantity).quantize(Decimal("0.01")) if quantity else total
    return {
        "partnerId": PARTNER_ID,
        "customerId": customer_id,
        "customerName": customer_name,
        "customerDomainName": "",
        "invoiceNumber": "",
        "orderId": order_id or f"order-{subscription_id[:8]}",
        "orderDate": f"{start}T00:00:00Z",
        "productId": product,
        "skuId": sku or "0001",
        "availabilityId": f"{product}00{sku or '0001'}",
        "productName": name,
        "skuName": name,
        "chargeType": charge_type,
        "unitPrice": _number(unit),
        "effectiveUnitPrice": _number(unit),
        "unitType": "Licenses",
        "quantity": quantity,
        "subtotal": _number(total),
        "taxTotal": 0,
        "totalForCustomer": _number(total),
        "currency": currency,
        "publisherName": "Microsoft Corporation",
        "subscriptionId": subscription_id,
        "subscriptionDescription": name,
        "chargeStartDate": f"{start}T00:00:00Z",
        "chargeEndDate": f"{end.isoformat()}T00:00:00Z",
        "termAndBillingCycle": "1 Month Subscription",
        "billableQuantity": quantity,
        "meterDescription": "",
        "billingFrequency": "Monthly",
        "invoiceLineItemType": "billingLineItems",
        "billingProvider": "oneTime",
    }


def fleet(
    n_customers: int, items_per_customer: int, currency: str = "CNY", seed: int = 7
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """(customers, unbilledLineItems) for a seed: `n_customers` GUID customers, each with an
    Azure plan subscription and `items_per_customer` items of each kind, the same for a seed."""
    rng = random.Random(seed)

    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    customers: list[dict[str, Any]] = []
    billing: list[dict[str, Any]] = []
    usage: list[dict[str, Any]] = []
    start = date(2026, 11, 1)
    for number in range(n_customers):
        customer_id, subscription_id = guid(), guid()
        name = f"Fleet customer {number + 1:05d}"
        customers.append(
            {
                "id": customer_id,
                "companyProfile": {"tenantId": customer_id, "domain": f"fleet{number + 1:05d}.example.cn"},
                "relationshipToPartner": "reseller",
                "subscriptions": [
                    {"id": subscription_id, "offerId": "DZH318Z0BPS6:0001", "offerName": "Azure plan"}
                ],
            }
        )
        for index in range(items_per_customer):
            cents = rng.randint(1_000, 500_000)
            billing.append(
                billing_item(
                    customer_id,
                    guid(),
                    "CFQ7TTC0LF8S:0001",
                    "Microsoft 365 E3",
                    Decimal(cents).scaleb(-2),
                    currency=currency,
                    quantity=rng.randint(1, 50),
                    customer_name=name,
                )
            )
            usage.extend(
                usage_items(
                    customer_id,
                    subscription_id,
                    start + timedelta(days=index % 30),
                    Decimal(rng.randint(100, 30_000)).scaleb(-2),
                    currency=currency,
                    customer_name=name,
                )
            )
    return customers, {"billingLineItems": billing, "usageLineItems": usage}


def control(store: BillingStore, method: str, name: str, body: Any) -> tuple[int, Any] | None:
    """`POST /_sim/billing/items {"kind", "items"}` and `POST /_sim/billing/usage {customerId,
    subscriptionId, day, amount, currency?, meterCategory?, meterSubCategory?, count?}`;
    None when `name` is not one of them."""
    if name not in ("billing/items", "billing/usage") or method != "POST":
        return None
    if not isinstance(body, dict):
        return 400, {"error": "a JSON object is required"}
    try:
        if name == "billing/items":
            items = body.get("items")
            if not isinstance(items, list):
                return 400, {"error": "items must be a list"}
            return 200, {"added": len(store.add_items(str(body.get("kind", "")), items))}
        options = {
            "currency": "currency",
            "meterCategory": "meter_category",
            "meterSubCategory": "meter_sub_category",
            "count": "count",
        }
        extra = {arg: body[key] for key, arg in options.items() if key in body}
        added = store.usage_day(
            str(body["customerId"]), str(body["subscriptionId"]), str(body["day"]), body["amount"], **extra
        )
        return 200, {"added": len(added)}
    except SimError as exc:
        return 400, {"error": exc.description}
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}
