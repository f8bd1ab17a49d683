"""The payments-feed signal: a feed that stopped posting payments while invoices keep coming looks,
to the scan, exactly like every customer not paying. It is watched here.

Each ledger write marks its hour in the partner partition: a row `feed:{kind}:{yyyyMMddHH}` for
`payment` and `invoice`, inserted once per hour (insert-if-absent: writers never contend, and a
process remembers the hours it marked). `quiet_reason` reads the marks of the last days (at most
24 rows a day per kind): when no payment was posted for the policy's `payments_feed.quiet_days`
working days while invoices were, the scan raises `alert.payments_feed_quiet` (once a day) and
`GET /api/health` reports degraded with the reason.

The second signal is the overdue share jumping: each scan adds the overdue episodes it opened to
the day's row `overdue:{yyyyMMdd}` (local date; one ETag-guarded update per scan). When one day
counts at least `payments_feed.jump_min_episodes` and at least `jump_factor` times the median of
the days before (`baseline_days`, judged once `baseline_min_days` of them were counted), the
scan raises `alert.overdue_jump` (once a day) and health reports degraded: customers who
normally pay by the due date all falling overdue at once is what a broken feed looks like.
"""

from __future__ import annotations

import statistics
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel

from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.policy import Policy
from shared.services.collections.deps import CollectionsDeps

FEED_PREFIX = "feed:"
OVERDUE_PREFIX = "overdue:"
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
        f"no payment was posted for {days} working day{'s' if days != 1 else ''} (since "
        f"{start.isoformat()}) while invoices were posted in {len(invoices)} "
        f"hour{'s' if len(invoices) != 1 else ''} of them: check the payments feed before "
        "warnings and suspensions follow from it"
    )


class OverdueDay(BaseModel):
    """Row `overdue:{yyyyMMdd}`: overdue episodes the scans of that local day opened."""

    day: date
    started: int = 0


def count_episodes(deps: CollectionsDeps, policy: Policy, now: datetime, started: int) -> None:
    """Add one scan's opened episodes to today's row (created with 0 too: the day counts)."""
    today = policy.calendar().local_date(now)
    table, row_key = deps.customers.table, f"{OVERDUE_PREFIX}{today:%Y%m%d}"

    def attempt() -> None:
        stored = table.get(OverdueDay, PARTNER_PARTITION, row_key)
        if stored is None:
            table.insert(OverdueDay(day=today, started=started), PARTNER_PARTITION, row_key)
        elif started:
            total = stored.value.model_copy(update={"started": stored.value.started + started})
            table.update(total, PARTNER_PARTITION, row_key, stored.etag)

    retry_on_conflict(attempt, what="the overdue-episode count")


def overdue_jump_reason(deps: CollectionsDeps, policy: Policy, now: datetime) -> str | None:
    """Why today's newly overdue customers look like a broken feed, or None."""
    rules = policy.payments_feed
    today = policy.calendar().local_date(now)
    first = today - timedelta(days=rules.baseline_days)
    entities = deps.customers.table.query(
        "PartitionKey eq @pk and RowKey ge @low and RowKey le @high",
        {
            "pk": PARTNER_PARTITION,
            "low": f"{OVERDUE_PREFIX}{first:%Y%m%d}",
            "high": f"{OVERDUE_PREFIX}{today:%Y%m%d}",
        },
        select=["RowKey", "started"],
    )
    counts = {str(e["RowKey"]).removeprefix(OVERDUE_PREFIX): int(e.get("started") or 0) for e in entities}
    now_count = counts.pop(f"{today:%Y%m%d}", 0)
    if len(counts) < rules.baseline_min_days:
        return None  # too little history to tell a jump from a new installation
    usual = Decimal(str(statistics.median(counts.values())))
    threshold = max(Decimal(rules.jump_min_episodes), rules.jump_factor * usual)
    if now_count < threshold:
        return None
    return (
        f"{now_count} customers fell overdue today, against a usual {usual} a day (median of the "
        f"{len(counts)} days before): check the payments feed before warnings and suspensions follow"
    )


def feed_reason(deps: CollectionsDeps, policy: Policy, now: datetime) -> str | None:
    """Either signal of a broken payments feed (for the health check), or None."""
    return quiet_reason(deps, policy, now) or overdue_jump_reason(deps, policy, now)
