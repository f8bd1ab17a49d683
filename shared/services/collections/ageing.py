"""The ageing report: what is owed by how long past due (current, 1-30, 31-60, 61-90, 90+
days), per currency and segment, and per customer; with a CSV export.

Both come from the customer index (`cust:id`): each row keeps the customer's open amounts by
due date, so the buckets are computed for today (the policy's time zone) without reading any
customer. The per-customer lines are paged like every list (O(page)). The totals add up every
customer with an open balance: they read the index rows of those customers (Table storage
skips the others), never the customers table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from shared.adapters.lists import CUSTOMERS_BY_ID, CustomerEntry
from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.errors import BadRequest
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.lists import amount_text, checked_entries, list_index, local_today

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
HEADINGS = {
    "current": ("未到期", "Current"),
    "days_1_30": ("逾期 1-30 天", "1-30 days"),
    "days_31_60": ("逾期 31-60 天", "31-60 days"),
    "days_61_90": ("逾期 61-90 天", "61-90 days"),
    "days_over_90": ("逾期 90 天以上", "90+ days"),
}
MAX_PAGE = 100
TOTALS_PAGE = 1000  # index rows per round trip while adding the totals up


class AgeingLine(BaseModel):
    customer_id: str
    name: str
    currency: str
    segment: str
    current: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    total: str


class AgeingLines(BaseModel):
    as_of: date
    items: list[AgeingLine]
    continuation_token: str | None


class AgeingGroup(BaseModel):
    currency: str
    segment: str
    customers: int
    current: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    days_over_90: str
    total: str


class AgeingReport(BaseModel):
    as_of: date
    groups: list[AgeingGroup]
    headings: dict[str, dict[str, str]]  # bucket -> {zh-CN, en}


def bucket_of(due: date, today: date) -> str:
    late = (today - due).days
    if late <= 0:
        return "current"
    if late <= 30:
        return "days_1_30"
    if late <= 60:
        return "days_31_60"
    if late <= 90:
        return "days_61_90"
    return "days_over_90"


def buckets(entry: CustomerEntry, today: date) -> dict[str, Decimal]:
    out = dict.fromkeys(BUCKETS, Decimal(0))
    for item in entry.open_items:
        out[bucket_of(date.fromisoformat(item.due), today)] += Decimal(item.amount)
    return out


def _query(currency: str | None, segment: str | None) -> tuple[str, dict[str, object]]:
    query = "PartitionKey eq @pk and open_minor gt @zero"
    params: dict[str, object] = {"pk": CUSTOMERS_BY_ID, "zero": 0}
    if currency is not None:
        if not (len(currency) == 3 and currency.isascii() and currency.isupper()):
            raise BadRequest("currency is an ISO 4217 code like CNY")
        query, params["currency"] = query + " and currency eq @currency", currency
    if segment is not None:
        query, params["segment"] = query + " and segment eq @segment", segment
    return query, params


def ageing_lines(
    deps: CollectionsDeps,
    *,
    currency: str | None = None,
    segment: str | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> AgeingLines:
    """A page of customers with an open balance, by customer id, with their buckets."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    today = local_today(deps)
    query, params = _query(currency, segment)
    filters = fingerprint(list="ageing", currency=currency, segment=segment)
    raw, resume = list_index(deps).table.page(query, params, limit, decode_token(continuation_token, filters))
    items = [
        _line(e, today) for e in checked_entries(deps, CUSTOMERS_BY_ID, raw) if Decimal(e.open_balance) > 0
    ]
    return AgeingLines(as_of=today, items=items, continuation_token=encode_token(resume, filters))


def _line(entry: CustomerEntry, today: date) -> AgeingLine:
    amounts = buckets(entry, today)
    return AgeingLine(
        customer_id=entry.customer_id,
        name=entry.name,
        currency=entry.currency,
        segment=entry.segment,
        total=amount_text(sum(amounts.values(), Decimal(0)), entry.currency),
        **{k: amount_text(v, entry.currency) for k, v in amounts.items()},
    )


def ageing_report(
    deps: CollectionsDeps, *, currency: str | None = None, segment: str | None = None
) -> AgeingReport:
    """Totals per currency and segment (every customer with an open balance; see the docstring)."""
    today = local_today(deps)
    query, params = _query(currency, segment)
    table = list_index(deps).table
    groups: dict[tuple[str, str], dict[str, Decimal]] = {}
    counts: dict[tuple[str, str], int] = {}
    resume = None
    while True:
        raw, resume = table.page(query, params, TOTALS_PAGE, resume)
        for entry in checked_entries(deps, CUSTOMERS_BY_ID, raw):
            key = (entry.currency, entry.segment)
            sums = groups.setdefault(key, dict.fromkeys(BUCKETS, Decimal(0)))
            for bucket, amount in buckets(entry, today).items():
                sums[bucket] += amount
            counts[key] = counts.get(key, 0) + 1
        if resume is None:
            break
    rows = [
        AgeingGroup(
            currency=cur,
            segment=seg,
            customers=counts[(cur, seg)],
            total=amount_text(sum(sums.values(), Decimal(0)), cur),
            **{k: amount_text(v, cur) for k, v in sums.items()},
        )
        for (cur, seg), sums in sorted(groups.items())
    ]
    headings = {k: {"zh-CN": zh, "en": en} for k, (zh, en) in HEADINGS.items()}
    return AgeingReport(as_of=today, groups=rows, headings=headings)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula: never starts with = + - @ (or a tab
    or carriage return), which Excel and LibreOffice read as the start of a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def report_csv(report: AgeingReport) -> str:
    header = ["currency", "segment", "customers", *BUCKETS, "total"]
    rows = [
        [g.currency, g.segment, g.customers, *(getattr(g, b) for b in BUCKETS), g.total]
        for g in report.groups
    ]
    return to_csv(header, rows)


def lines_csv(page: AgeingLines) -> str:
    header = ["customer_id", "name", "currency", "segment", *BUCKETS, "total"]
    rows = [
        [li.customer_id, li.name, li.currency, li.segment, *(getattr(li, b) for b in BUCKETS), li.total]
        for li in page.items
    ]
    return to_csv(header, rows)
