"""The exposure refresh's own rows (table `exposure`): the run row and the tallies of a run.

- `_run/current`: the run in progress (or the last one, `phase` done): where each listing stands
  (its next page's cursor), how far the apply phase got (the last customer applied), counters.
  Saved under its ETag after each page and each chunk of customers, so a run that crashed or
  ran out of time resumes exactly there, and two runs never both advance it.
- `t{run_id}/{customer}:{listing}:{page}`: what one page of line items said about one customer
  (exact sums per offer, per day, per watched meter). Written before the cursor moves past the
  page, by upsert under a key naming the page, so a page read again after a crash writes the
  same rows again instead of counting twice. The apply phase reads a customer's rows with one
  range query; the partition is deleted when the run is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.adapters.layout import EXPOSURE_TABLE
from shared.adapters.partner_center.billing import PageCursor
from shared.adapters.tables import Stored, Table, TableStore, decode, prefix_range
from shared.domain.exposure import ChargeTally

RUN_PARTITION = "_run"
CURRENT_ROW = "current"
MAX_FAILURES = 50
BATCH = 100


class ListingProgress(BaseModel):
    """One partner-wide listing of a run: a line-item type in one currency."""

    kind: str  # billinglineitems | usagelineitems
    currency: str
    cursor: PageCursor | None = None  # the next page (None before the first, or when done)
    done: bool = False
    pages: int = 0
    refused: str | None = None  # the instance refused it (e.g. usage on a cloud without it)
    restarts: int = 0  # read again from the first page (a stored continuation was refused)


class ExposureRun(BaseModel):
    run_id: str
    started_at: datetime
    phase: Literal["read", "apply", "done"] = "read"
    listings: list[ListingProgress] = Field(default_factory=list)
    items_read: int = 0
    items_skipped: int = 0
    pages_read: int = 0
    apply_after: str = ""  # the last customer id the apply phase finished
    customers_applied: int = 0
    exposures_changed: int = 0
    credit_holds_placed: int = 0
    credit_holds_lifted: int = 0
    notices: int = 0
    anomalies_reported: int = 0
    listings_read: int = 0
    unknown_customers: int = 0
    population: int = 0
    failures: list[str] = Field(default_factory=list)
    resumed: int = 0  # how many times a later run carried this one on
    finished_at: datetime | None = None

    def fail(self, text: str) -> None:
        if len(self.failures) < MAX_FAILURES:
            self.failures.append(text[:300])


class TallyRow(BaseModel):
    """What one page said about one customer (exact; keys `CUR|offer`, `CUR|day`)."""

    costs: dict[str, Decimal] = Field(default_factory=dict)
    charged_on: dict[str, str] = Field(default_factory=dict)  # subscription -> ISO day
    daily: dict[str, Decimal] = Field(default_factory=dict)  # usage charges per `CUR|day`
    meters: dict[str, dict[str, Decimal]] = Field(default_factory=dict)  # `CUR|day` -> meter -> amount
    offers: dict[str, list[str]] = Field(default_factory=dict)  # `CUR|day` -> offers
    items: int = 0


def tally_partition(run_id: str) -> str:
    return f"t{run_id}"


class ExposureRunStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    @classmethod
    def of(cls, store: TableStore) -> ExposureRunStore:
        return cls(store.table(EXPOSURE_TABLE))

    def current(self) -> Stored[ExposureRun] | None:
        return self.table.get(ExposureRun, RUN_PARTITION, CURRENT_ROW)

    def create(self, run: ExposureRun) -> str:
        """The first run ever (ConcurrencyConflict if another created it meanwhile)."""
        return self.table.insert(run, RUN_PARTITION, CURRENT_ROW)

    def save(self, run: ExposureRun, etag: str) -> str:
        """Under the ETag read: ConcurrencyConflict if another run moved it meanwhile."""
        return self.table.update(run, RUN_PARTITION, CURRENT_ROW, etag)

    def put_tallies(self, run_id: str, suffix: str, rows: dict[str, TallyRow]) -> int:
        """Upsert one page's rows (key `{customer}:{suffix}`), 100 to a transaction."""
        partition = tally_partition(run_id)
        written = 0
        items = sorted(rows.items())
        for start in range(0, len(items), BATCH):
            tx = self.table.transaction(partition)
            for customer_id, row in items[start : start + BATCH]:
                tx.upsert(row, f"{customer_id}:{suffix}")
            tx.submit()
            written += len(items[start : start + BATCH])
        return written

    def tallies_of(self, run_id: str, customer_id: str) -> list[TallyRow]:
        low, high = prefix_range(customer_id + ":")
        entities = self.table.query(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            {"pk": tally_partition(run_id), "low": low, "high": high},
        )
        return [decode(TallyRow, e).value for e in entities]

    def tallied_customers(self, run_id: str) -> Iterator[str]:
        """The customers a run's pages named, in order (each once)."""
        last = None
        for entity in self.table.partition(tally_partition(run_id)):
            customer_id = str(entity["RowKey"]).split(":", 1)[0]
            if customer_id != last:
                last = customer_id
                yield customer_id

    def drop_listing(self, run_id: str, suffix: str) -> int:
        """Delete the rows one listing of the run wrote (their key: `{customer}:{suffix}...`)."""
        partition = tally_partition(run_id)
        keys = [str(e["RowKey"]) for e in self.table.partition(partition) if f":{suffix}" in str(e["RowKey"])]
        for start in range(0, len(keys), BATCH):
            tx = self.table.transaction(partition)
            for key in keys[start : start + BATCH]:
                tx.delete(key)
            tx.submit()
        return len(keys)

    def drop_tallies(self, run_id: str) -> int:
        partition = tally_partition(run_id)
        keys = [str(e["RowKey"]) for e in self.table.partition(partition)]
        for start in range(0, len(keys), BATCH):
            tx = self.table.transaction(partition)
            for key in keys[start : start + BATCH]:
                tx.delete(key)
            tx.submit()
        return len(keys)


def merge_tallies(rows: list[TallyRow]) -> tuple[ChargeTally, dict[str, Any]]:
    """A customer's rows of one run as one `ChargeTally` and its usage per currency and day:
    `{currency: {"days": {day: amount}, "meters": {day: {meter: amount}}, "offers": {day: [..]}}}`."""
    tally = ChargeTally()
    usage: dict[str, dict[str, Any]] = {}
    for row in rows:
        for key, cost in row.costs.items():
            currency, _, offer = key.partition("|")
            tally.costs[(currency, offer)] = tally.costs.get((currency, offer), Decimal(0)) + cost
        for subscription, day_text in row.charged_on.items():
            day = date.fromisoformat(day_text)
            known = tally.charged_on.get(subscription)
            if known is None or day > known:
                tally.charged_on[subscription] = day
        tally.items += row.items
        for key, amount in row.daily.items():
            currency, _, day_text = key.partition("|")
            day = date.fromisoformat(day_text)
            bucket = usage.setdefault(currency, {"days": {}, "meters": {}, "offers": {}})
            bucket["days"][day] = bucket["days"].get(day, Decimal(0)) + amount
        for key, meters in row.meters.items():
            currency, _, day_text = key.partition("|")
            day = date.fromisoformat(day_text)
            bucket = usage.setdefault(currency, {"days": {}, "meters": {}, "offers": {}})
            per = bucket["meters"].setdefault(day, {})
            for meter, amount in meters.items():
                per[meter] = per.get(meter, Decimal(0)) + amount
        for key, offers in row.offers.items():
            currency, _, day_text = key.partition("|")
            day = date.fromisoformat(day_text)
            bucket = usage.setdefault(currency, {"days": {}, "meters": {}, "offers": {}})
            known_offers = bucket["offers"].setdefault(day, [])
            known_offers.extend(o for o in offers if o not in known_offers)
    return tally, usage
