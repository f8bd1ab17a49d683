"""The read phase: Partner Center's unbilled line items, partner-wide, page by page.

For each listing of the run (billing line items, and daily rated usage when EXPOSURE_READ_USAGE,
in each of EXPOSURE_CURRENCIES): read the next page from the stored cursor, add its items up per
customer (`TallyRow`), write the rows (upsert, keyed by the page), then move the cursor past the
page under the run row's ETag. A crash before the cursor moved reads the page again and writes
the same rows; a run out of time stops between pages. The line items have no "changed since"
filter (only provider, type, currency, period, size), so each run reads the period once: the
fewest calls there are for it.

A listing the instance refuses (a 4xx answer: e.g. daily usage where it is not served) is marked
refused and raises an alert once per run; the others go on. Throttling past the client's own
pacing, or a refused token, stops the read: the run resumes next time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from shared.adapters.exposure_runs import ExposureRun, ListingProgress, TallyRow
from shared.adapters.partner_center.billing import LineItemType, UnbilledLineItem, first_cursor, read_page
from shared.adapters.partner_center.errors import (
    PartnerCenterError,
    Throttled,
    Unauthorised,
    is_request_refused,
)
from shared.adapters.tables import Stored
from shared.domain.anomaly import watched
from shared.domain.credit_policy import UsageAnomalyRules
from shared.services.exposure.deps import ExposureDeps
from shared.telemetry import metric

log = logging.getLogger(__name__)
TOP_METERS_PER_DAY = 5
MAX_RESTARTS = 3  # a listing read again from the start at most this often in one run


def _suffix(listing: ListingProgress, page: int | None) -> str:
    """The tally rows' key after the customer id: the listing, then the page (none: every page)."""
    head = f"{listing.kind[0]}{listing.currency}:"
    return head if page is None else f"{head}{page:06d}"


def listings_for(deps: ExposureDeps) -> list[ListingProgress]:
    kinds = [LineItemType.BILLING] + ([LineItemType.USAGE] if deps.settings.exposure_read_usage else [])
    return [
        ListingProgress(kind=kind.value, currency=currency)
        for kind in kinds
        for currency in deps.settings.exposure_currency_list()
    ]


def tally_page(items: list[UnbilledLineItem], rules: UsageAnomalyRules) -> dict[str, TallyRow]:
    """One page's items added up per customer (exact)."""
    rows: dict[str, TallyRow] = {}
    meters: dict[str, dict[str, dict[str, Decimal]]] = {}
    for item in items:
        row = rows.setdefault(item.customer_id, TallyRow())
        row.items += 1
        offer = item.offer_id
        cost_key = f"{item.currency}|{offer}"
        row.costs[cost_key] = row.costs.get(cost_key, Decimal(0)) + item.amount
        if item.subscription_id and item.day is not None and item.kind is LineItemType.BILLING:
            known = row.charged_on.get(item.subscription_id)
            if known is None or item.day.isoformat() > known:
                row.charged_on[item.subscription_id] = item.day.isoformat()
        if item.kind is not LineItemType.USAGE or item.day is None:
            continue
        day_key = f"{item.currency}|{item.day.isoformat()}"
        row.daily[day_key] = row.daily.get(day_key, Decimal(0)) + item.amount
        offers = row.offers.setdefault(day_key, [])
        if offer not in offers and len(offers) < 10:
            offers.append(offer)
        meter = " / ".join(p for p in (item.meter_category, item.meter_sub_category) if p) or "unknown"
        per = meters.setdefault(item.customer_id, {}).setdefault(day_key, {})
        per[meter] = per.get(meter, Decimal(0)) + item.amount
    for customer_id, days in meters.items():
        row = rows[customer_id]
        for day_key, amounts in days.items():
            kept = {m: a for m, a in amounts.items() if watched(m, rules)}
            for meter in sorted(amounts, key=lambda m: -amounts[m])[:TOP_METERS_PER_DAY]:
                kept[meter] = amounts[meter]
            row.meters[day_key] = kept
    return rows


def read_listings(
    deps: ExposureDeps,
    stored: Stored[ExposureRun],
    *,
    out_of_time: Callable[[], bool],
    max_pages: int | None = None,
) -> tuple[Stored[ExposureRun], bool]:
    """Read pages until every listing is done, time runs out or a page budget is spent.
    (the run as saved, whether the read phase is complete)."""
    run, etag = stored.value, stored.etag
    rules = deps.collections.policy().usage_anomaly
    pages = 0
    for listing in run.listings:
        while not listing.done:
            if out_of_time() or (max_pages is not None and pages >= max_pages):
                return Stored(run, stored.partition_key, stored.row_key, etag), False
            cursor = listing.cursor or first_cursor(
                LineItemType(listing.kind), listing.currency, "current", deps.settings.exposure_page_size
            )
            try:
                page = read_page(deps.partner_center, cursor, correlation_id=f"exposure-{run.run_id}")
            except (Throttled, Unauthorised) as exc:
                run.fail(f"{listing.kind} {listing.currency}: {type(exc).__name__}; resumed next run")
                etag = deps.runs.save(run, etag)
                return Stored(run, stored.partition_key, stored.row_key, etag), False
            except PartnerCenterError as exc:
                if is_request_refused(exc) and listing.pages == 0:
                    listing.refused, listing.done = f"HTTP {exc.status} {type(exc).__name__}", True
                    run.fail(f"{listing.kind} {listing.currency}: refused (HTTP {exc.status})")
                    etag = deps.runs.save(run, etag)
                    continue
                if is_request_refused(exc):
                    # A stored continuation refused (it expired while the run waited): read the
                    # listing again from its first page, its rows so far dropped first.
                    deps.runs.drop_listing(run.run_id, _suffix(listing, None))
                    run.fail(f"{listing.kind} {listing.currency}: the next page was refused; read again")
                    listing.cursor, listing.pages, listing.restarts = None, 0, listing.restarts + 1
                    etag = deps.runs.save(run, etag)
                    if listing.restarts > MAX_RESTARTS:
                        return Stored(run, stored.partition_key, stored.row_key, etag), False
                    continue
                run.fail(f"{listing.kind} {listing.currency}: {type(exc).__name__}; resumed next run")
                etag = deps.runs.save(run, etag)
                return Stored(run, stored.partition_key, stored.row_key, etag), False
            deps.runs.put_tallies(run.run_id, _suffix(listing, listing.pages), tally_page(page.items, rules))
            listing.pages += 1
            listing.cursor = page.next
            listing.done = page.next is None
            run.pages_read += 1
            run.items_read += len(page.items)
            run.items_skipped += page.skipped
            pages += 1
            etag = deps.runs.save(run, etag)
            metric("exposure.pages_read", kind=listing.kind)
    return Stored(run, stored.partition_key, stored.row_key, etag), True
