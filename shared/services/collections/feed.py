"""The payments-feed signal: a feed that stopped posting payments while invoices keep coming looks,
to the scan, exactly like every customer not paying. It is watched here.

Each ledger write marks its hour in the partner partition: a row `feed:{kind}:{yyyyMMddHH}` for
`payment` and `invoice`, inserted once per hour (insert-if-absent: writers never contend, and a
process remembers the hours it marked). `quiet_reason` reads the marks of the last days (at most
24 rows a day per kind): when no payment was posted for the policy's `payments_feed.quiet_days`
working days while invoices were, the scan raises `alert.payments_feed_quiet` (once a day) and
`GET /api/health` reports degraded with the reason.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.policy import Policy
from shared.services.collections.deps import CollectionsDeps

FEED_PREFIX = "feed:"
_marked: set[str] = set()
_lock = threading.Lock()


class FeedMark(BaseModel):
    """Row `feed:{kind}:{hour}`: the feed posted at least one entry of this kind in this hour."""

    kind: str
    first_at: datetime


def mark(deps: CollectionsDeps, kind: str, now: datetime) -> None:
    """Record that the feed posted a `kind` (payment | invoice) in this hour (idempotent)."""
    row_key = f"{FEED_PREFIX}{kind}:{now.astimezone(UTC):%Y%m%d%H}"
    memo = f"{deps.customers.table.name}/{row_key}"
    with _lock:
        if memo in _marked:
            return
    try:
        deps.customers.table.insert(FeedMark(kind=kind, first_at=now), PARTNER_PARTITION, row_key)
    except ConcurrencyConflict:
        pass  # another writer marked this hour
    with _lock:
        if len(_marked) > 10_000:
            _marked.clear()
        _marked.add(memo)


def _hours(deps: CollectionsDeps, kind: str, since: datetime) -> list[datetime]:
    low = f"{FEED_PREFIX}{kind}:{since.astimezone(UTC):%Y%m%d%H}"
    high = f"{FEED_PREFIX}{kind};"
    entities = deps.customers.table.query(
        "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
        {"pk": PARTNER_PARTITION, "low": low, "high": high},
        select=["RowKey"],
    )
    return [
        datetime.strptime(str(e["RowKey"]).rsplit(":", 1)[1], "%Y%m%d%H").replace(tzinfo=UTC)
        for e in entities
    ]


def quiet_reason(deps: CollectionsDeps, policy: Policy, now: datetime) -> str | None:
    """Why the payments feed looks broken, or None while it looks alive."""
    days = policy.payments_feed.quiet_days
    calendar = policy.calendar()
    # `days` working days back from today (the feed is quiet over weekends and holidays too).
    start, counted = calendar.local_date(now), 0
    while counted < days:
        start -= timedelta(days=1)
        if calendar.is_working_day(start):
            counted += 1
    since = calendar.start_of_day(start)
    if _hours(deps, "payment", since):
        return None
    invoices = _hours(deps, "invoice", since)
    if not invoices:
        return None  # nothing is coming in at all: no sign that payments alone stopped
    return (
        f"no payment was posted for {days} working days (since {start.isoformat()}) while "
        f"invoices were posted in {len(invoices)} hours of them: check the payments feed before "
        "warnings and suspensions follow from it"
    )
