"""Exposure refresh cost: Partner Center calls and time beside their floor, at the rate limit.

Starts a fresh Azurite and the Partner Center simulator with a fleet of N customers (default
10,000; `tools.pcsim.billing.fleet`), each with `--billing` billing and `--usage` daily usage
unbilled line items; seeds the same customers in the app (profile rows and the customer list
index `cust:id`, in bulk), then measures, in the same run:
- the first refresh (`refresh_exposure`, EXPOSURE_LISTINGS_PER_RUN >= N: every customer's
  subscription listing is due);
- the second, incremental refresh right after (listings not due: EXPOSURE_LISTING_MAX_AGE_HOURS);
- the bare client: the same line-item pages read and (for the first) every customer's
  subscriptions listed, by a plain loop on the same client and pacing, no app work.

The floor is the fewest calls the documented API needs: ceil(billing items / 2000) +
ceil(usage items / 2000) pages, plus one subscription listing per customer whose seats are read;
its time is those calls at Partner Center's limit, 500 requests per minute per partner tenant.

Time is scaled by `--scale` (default 100): the simulator's window is 60 s / SCALE (500 calls per
0.6 s) and the app's pace (PARTNER_CENTER_MAX_RPM, its default 450 a minute, fleet-shared
pacing) is multiplied by SCALE too. So a wall time here is the app's own work plus the scaled
waits; the unscaled estimate is max(wall, calls at the unscaled pace), and the call rate is
shown beside the allowed one, both scaled and unscaled.

    .venv/bin/python -m bench.exposure [--customers 10000] [--billing 3] [--usage 10] [--scale 100]
    .venv/bin/python -m bench.exposure --quick     # 200 customers: a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared import clock, runtime, wiring
from shared.adapters.customers import storable
from shared.adapters.layout import CUSTOMERS_TABLE, PROFILE_ROW
from shared.adapters.lists import LISTS_TABLE, ROW_MODELS, CustomerRows, entries
from shared.adapters.partner_center.billing import LineItemType, PageCursor, first_cursor, read_page
from shared.clock import FixedClock
from shared.domain.customer import StoredProfile
from shared.services.exposure.refresh import refresh_exposure
from shared.settings import AppSettings
from tools.azurite import Azurite
from tools.pcsim import Simulator
from tools.pcsim.billing import MAX_PAGE_SIZE, fleet

# Wednesday 2 December 2026, 10:00 in Shanghai (inside the enforcement window), as in the tests.
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
LIMIT_PER_MINUTE = 500  # Partner Center: requests per minute per partner tenant
KINDS = {"billinglineitems": "billing pages", "usagelineitems": "usage pages"}


def tenant(customers: int, billing: int, usage: int, seed: int) -> dict[str, Any]:
    """The simulator's seed: `fleet` customers, the first `billing` / `usage` items of each."""
    people, items = fleet(customers, max(billing, usage, 1), seed=seed)

    def first(listed: list[dict[str, Any]], keep: int) -> list[dict[str, Any]]:
        seen: Counter[str] = Counter()
        out = []
        for item in listed:
            seen[item["customerId"]] += 1
            if seen[item["customerId"]] <= keep:
                out.append(item)
        return out

    return {
        "customers": people,
        "unbilledLineItems": {
            "billingLineItems": first(items["billingLineItems"], billing),
            "usageLineItems": first(items["usageLineItems"], usage),
        },
    }


def seed_app(customer_ids: list[str]) -> None:
    """Each customer's profile row and its customer list index rows, in bulk (not measured)."""
    store = runtime.table_store()
    table, index_table = store.table(CUSTOMERS_TABLE), store.table(LISTS_TABLE)
    profiles = [
        StoredProfile(name=f"Fleet customer {n + 1:05d}", customer_id=cid, created_at=NOW, updated_at=NOW)
        for n, cid in enumerate(customer_ids)
    ]

    def write(profile: StoredProfile) -> None:
        tx = table.transaction(profile.customer_id)
        tx.create(storable(profile), PROFILE_ROW)
        tx.submit()

    index_rows: dict[str, list[tuple[str, Any]]] = {}
    for profile in profiles:
        for (pk, rk), entry in entries(CustomerRows(profile.customer_id, profile=profile)).items():
            row = ROW_MODELS[pk].model_validate({**entry.model_dump(), "pending": False, "written_at": NOW})
            index_rows.setdefault(pk, []).append((rk, row))

    def index_batch(pk: str, chunk: list[tuple[str, Any]]) -> None:
        tx = index_table.transaction(pk)
        for rk, model in chunk:
            tx.upsert(model, rk)
        tx.submit()

    batches = [
        (pk, rows[start : start + 100])
        for pk, rows in index_rows.items()
        for start in range(0, len(rows), 100)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, profiles))
        list(pool.map(lambda batch: index_batch(*batch), batches))


@contextlib.contextmanager
def storage_calls() -> Iterator[Counter[str]]:
    """Count the Table storage round trips made inside the block, by table and kind."""
    from azure.data.tables import TableClient

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    prefix = os.environ.get("TABLE_PREFIX", "")
    wrapped = {
        "query_entities": "query",
        "list_entities": "query",
        "get_entity": "get",
        "submit_transaction": "transaction",
        "create_entity": "write",
        "upsert_entity": "write",
        "update_entity": "write",
        "delete_entity": "write",
    }
    originals = {name: getattr(TableClient, name) for name in wrapped}

    def counting(original: Any, kind: str) -> Any:
        def call(self: TableClient, *args: Any, **kwargs: Any) -> Any:
            table = str(self.table_name).removeprefix(prefix)
            with lock:
                counts[f"{table} {kind}"] += 1
            return original(self, *args, **kwargs)

        return call

    for name, kind in wrapped.items():
        setattr(TableClient, name, counting(originals[name], kind))
    try:
        yield counts
    finally:
        for name, original in originals.items():
            setattr(TableClient, name, original)


@dataclass
class Measured:
    wall: float
    calls: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    storage: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def measure(sim: Simulator, work: Callable[[], object]) -> tuple[Measured, object]:
    """Run `work`, counting the simulator's calls by kind (429s apart) and storage round trips."""
    sim.clear_calls()
    with storage_calls() as storage:
        started = time.perf_counter()
        result = work()
        wall = time.perf_counter() - started
    measured = Measured(wall=wall, storage=Counter(storage))
    for call in sim.calls():
        if call["status"] == 429:
            measured.throttled += 1
            continue
        path = str(call["path"]).lower()
        if path.endswith("/invoices/unbilled/lineitems"):
            query = {k.lower(): str(v).lower() for k, v in (call["extra"].get("query") or {}).items()}
            measured.calls[KINDS.get(query.get("invoicelineitemtype", ""), "line-item pages")] += 1
        elif path.endswith("/subscriptions"):
            measured.calls["subscription listings"] += 1
        else:
            measured.calls[f"other {call['method']} {path}"] += 1
    return measured, result


def bare_loop(settings: AppSettings, customer_ids: list[str], list_subscriptions: bool) -> None:
    """Every line-item page read, and every customer's subscriptions listed, with the bare client."""
    client = wiring.partner_center()
    kinds = [LineItemType.BILLING] + ([LineItemType.USAGE] if settings.exposure_read_usage else [])
    for kind in kinds:
        for currency in settings.exposure_currency_list():
            cursor: PageCursor | None = first_cursor(kind, currency, "current", settings.exposure_page_size)
            while cursor is not None:
                cursor = read_page(client, cursor, correlation_id="bench-bare").next
    if list_subscriptions:
        for customer_id in customer_ids:
            client.list_subscriptions(customer_id, correlation_id="bench-bare")


def report(
    title: str,
    app: Measured,
    bare: Measured,
    floor_calls: dict[str, int],
    customers: int,
    scale: float,
    pace_per_minute: int,
    run: Any,
) -> None:
    floor_total = sum(floor_calls.values())
    allowed = LIMIT_PER_MINUTE * scale
    floor_scaled = floor_total / allowed * 60
    floor_real = floor_total / LIMIT_PER_MINUTE
    rate = app.total / app.wall * 60 if app.wall else 0.0
    unscaled = max(app.wall / 60, app.total / (pace_per_minute / scale))
    kinds = [*KINDS.values(), "subscription listings"]
    kinds += sorted(k for k in app.calls if k not in kinds)
    by_kind = ", ".join(
        f"{k} {app.calls[k]} ({app.calls[k] / customers:.3f}/customer, floor {floor_calls.get(k, 0)})"
        for k in kinds
        if app.calls[k] or floor_calls.get(k)
    )
    trips = sum(app.storage.values())
    print(title)
    print(
        f"  Partner Center calls:       {app.total} ({app.total / customers:.3f} per customer); "
        f"429s {app.throttled}"
    )
    print(f"    by kind:                  {by_kind}")
    print(f"  floor calls:                {floor_total} ({floor_total / customers:.3f} per customer)")
    print(f"  ratio calls / floor:        {app.total / max(floor_total, 1):.3f}")
    print(f"  wall time (scaled):         {app.wall:.1f} s")
    print(
        f"  floor time:                 {floor_scaled:.2f} s scaled = {floor_real:.2f} min at "
        f"{LIMIT_PER_MINUTE}/min unscaled"
    )
    print(f"  ratio wall / floor time:    {app.wall / max(floor_scaled, 1e-9):.1f}")
    print(
        f"  Partner Center call rate:   {rate:.0f}/min measured vs {allowed:.0f}/min allowed (scaled) = "
        f"{rate / scale:.1f}/min vs {LIMIT_PER_MINUTE}/min unscaled ({rate / allowed:.1%} of the limit)"
    )
    print(
        f"  unscaled estimate:          {unscaled:.2f} min = max(wall, {app.total} calls at the app's "
        f"pace of {pace_per_minute / scale:.0f}/min); floor {floor_real:.2f} min"
    )
    print(
        f"  bare client:                {bare.total} calls in {bare.wall:.1f} s; 429s {bare.throttled} "
        f"(ratio bare / floor: calls {bare.total / max(floor_total, 1):.3f}, "
        f"time {bare.wall / max(floor_scaled, 1e-9):.1f})"
    )
    print(
        f"  ratio app / bare:           calls {app.total / max(bare.total, 1):.3f}, "
        f"time {app.wall / max(bare.wall, 1e-9):.2f}"
    )
    print(
        f"  storage round trips (app):  {trips} ({trips / customers:.1f} per customer: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(app.storage.items()))})"
    )
    if run is not None:
        print(
            f"  run: phase {run.phase}, {run.pages_read} pages, {run.items_read} items, "
            f"{run.customers_applied} customers applied, {run.listings_read} listings, "
            f"{run.exposures_changed} exposures changed, {run.credit_holds_placed} credit holds placed, "
            f"{run.notices} notices, {run.anomalies_reported} anomalies reported, "
            f"{len(run.failures)} failures{': ' + '; '.join(run.failures[:3]) if run.failures else ''}",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--billing", type=int, default=3, help="billing line items per customer")
    parser.add_argument("--usage", type=int, default=10, help="daily usage line items per customer")
    parser.add_argument(
        "--scale", type=float, default=100.0, help="time scale (simulator window 60 s / SCALE)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 customers")
    parser.add_argument("--seed", type=int, default=7, help="the fleet's random seed")
    args = parser.parse_args(argv)
    customers = 200 if args.quick else args.customers
    if customers < 1 or args.billing < 0 or args.usage < 0 or args.scale <= 0:
        parser.error("--customers must be at least 1, --billing / --usage at least 0, --scale positive")
    base_pace = int(AppSettings.model_fields["partner_center_max_rpm"].default)
    pace = round(base_pace * args.scale)
    if pace > 100_000:
        parser.error(f"--scale {args.scale:g} paces {pace}/min: PARTNER_CENTER_MAX_RPM allows 100,000")
    seed = tenant(customers, args.billing, args.usage, args.seed)
    customer_ids = [c["id"] for c in seed["customers"]]
    billing_items = len(seed["unbilledLineItems"]["billingLineItems"])
    usage_items = len(seed["unbilledLineItems"]["usageLineItems"])
    pages = {
        "billing pages": max(1, math.ceil(billing_items / MAX_PAGE_SIZE)),
        "usage pages": max(1, math.ceil(usage_items / MAX_PAGE_SIZE)),
    }
    window = 60.0 / args.scale
    print(
        f"bench.exposure: {customers} customers, {args.billing} billing + {args.usage} usage line items "
        f"each ({billing_items} + {usage_items}); time scaled {args.scale:g}x: simulator limit "
        f"{LIMIT_PER_MINUTE} per {window:.2f} s, app pace PARTNER_CENTER_MAX_RPM={pace} "
        f"({base_pace}/min x {args.scale:g}, fleet-shared)",
        flush=True,
    )
    azurite = Azurite.start()
    previous = clock.set_clock(FixedClock(NOW))
    try:
        with Simulator(seed, rate_limit=LIMIT_PER_MINUTE) as sim:
            sim.set_rate_limit(LIMIT_PER_MINUTE, window)
            suffix = uuid.uuid4().hex[:8]
            os.environ.update(
                {
                    "AzureWebJobsStorage": azurite.connection_string,
                    "QUEUE_TRANSPORT": "storage",
                    "TABLE_PREFIX": "e" + suffix,
                    "RECONCILE_QUEUE_NAME": f"rec-{suffix}",
                    "NOTICE_QUEUE_NAME": f"not-{suffix}",
                    "ENFORCEMENT_MODE": "enforce",
                    "PARTNER_CENTER_BASE_URL": sim.base_url,
                    "PARTNER_CENTER_AUTH": "none",
                    "PARTNER_CENTER_MAX_RPM": str(pace),
                    "PARTNER_CENTER_PACING": "shared",
                    "EXPOSURE_LISTINGS_PER_RUN": str(min(100_000, max(1000, customers))),
                    "EXPOSURE_LISTING_MAX_AGE_HOURS": "24",
                }
            )
            runtime.reset()
            started = time.perf_counter()
            seed_app(customer_ids)
            print(
                f"seeded {customers} customers in the app in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            deps = wiring.exposure()
            titles = (
                "first refresh (every subscription listing due)",
                "second refresh, right after (no listing due: the floor is the pages)",
            )
            for listings, title in zip((True, False), titles, strict=True):
                app, result = measure(sim, lambda: refresh_exposure(deps, seconds=24 * 3600.0))
                stored = deps.runs.current()
                bare, _ = measure(
                    sim, lambda listings=listings: bare_loop(deps.settings, customer_ids, listings)
                )
                floor = {**pages, "subscription listings": customers if listings else 0}
                if not getattr(result, "finished", False):
                    title += f" -- NOT FINISHED: {result}"
                run = stored.value if stored else None
                report(title, app, bare, floor, customers, args.scale, pace, run)
    finally:
        clock.set_clock(previous)
        runtime.reset()
        azurite.stop()


if __name__ == "__main__":
    main()
