"""One run of the exposure refresh (timer `%EXPOSURE_SCHEDULE%`; off with EXPOSURE_ENABLED=false).

A run has two phases, both resumable from the run row (`shared/adapters/exposure_runs.py`):
1. read: the partner-wide unbilled line-item listings, page by page (`read.py`);
2. apply: every customer the app knows, in id order (`apply.py`); the run row remembers the
   last customer done, every `CHECKPOINT` customers.
A run stops when EXPOSURE_RUN_SECONDS have passed (or, in tests, a page or customer budget is
spent); the next timer run carries it on from where it stopped. Once applied, the run's tallies
are deleted and the next run starts a new reading. Two runs never both advance one run row:
each save is under its ETag, and the one that loses stops.

The cap: credit holds placed by one run are capped like suspensions by a scan (the policy's
`[blast_radius]`, of the customers the run applies); the rest wait for a later run, with an alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from shared.adapters.exposure_runs import ExposureRun, tally_partition
from shared.adapters.lists import CUSTOMERS_BY_ID
from shared.adapters.tables import ConcurrencyConflict, Stored
from shared.errors import Contended
from shared.services.collections.alerts import raise_alert
from shared.services.exposure.apply import Budget, apply_customer
from shared.services.exposure.deps import ExposureDeps
from shared.services.exposure.read import listings_for, read_listings
from shared.telemetry import metric

log = logging.getLogger(__name__)
CHECKPOINT = 25


@dataclass
class RefreshResult:
    enabled: bool
    run_id: str | None = None
    phase: str | None = None
    finished: bool = False
    resumed: bool = False
    pages_read: int = 0
    customers_applied: int = 0
    failures: list[str] = field(default_factory=list)


def refresh_exposure(
    deps: ExposureDeps,
    *,
    max_pages: int | None = None,
    max_customers: int | None = None,
    seconds: float | None = None,
) -> RefreshResult:
    """Start or carry on the run (see the module docstring)."""
    settings = deps.settings
    if not settings.exposure_enabled:
        log.info("exposure refresh is off (EXPOSURE_ENABLED=false)")
        return RefreshResult(enabled=False)
    started = time.monotonic()
    budget_seconds = seconds if seconds is not None else settings.exposure_run_seconds

    def out_of_time() -> bool:
        return time.monotonic() - started > budget_seconds

    try:
        stored, resumed = _start_or_resume(deps)
        result = RefreshResult(enabled=True, run_id=stored.value.run_id, resumed=resumed)
        pages_before = stored.value.pages_read
        if stored.value.phase == "read":
            stored, complete = read_listings(deps, stored, out_of_time=out_of_time, max_pages=max_pages)
            result.pages_read = stored.value.pages_read - pages_before
            if not complete:
                return _result(result, stored.value)
            stored = _begin_apply(deps, stored)
        stored = _apply_all(deps, stored, out_of_time=out_of_time, max_customers=max_customers, result=result)
        if stored.value.phase == "apply":
            return _result(result, stored.value)
        return _result(result, _finish(deps, stored).value)
    except (ConcurrencyConflict, Contended):
        log.warning("another exposure refresh is running: this one stops")
        return RefreshResult(enabled=True, failures=["another refresh advanced the run meanwhile"])


def _result(result: RefreshResult, run: ExposureRun) -> RefreshResult:
    result.phase = run.phase
    result.finished = run.phase == "done"
    result.failures = list(run.failures)
    return result


def new_run_id(deps: ExposureDeps, previous: str | None) -> str:
    """The run's start to the microsecond (one run at a time: the run row is single)."""
    run_id = f"{deps.clock.now():%Y%m%d%H%M%S%f}"
    return run_id + "b" if previous is not None and previous.startswith(run_id) else run_id


def _start_or_resume(deps: ExposureDeps) -> tuple[Stored[ExposureRun], bool]:
    current = deps.runs.current()
    if current is not None and current.value.phase != "done":
        run = current.value.model_copy(update={"resumed": current.value.resumed + 1})
        etag = deps.runs.save(run, current.etag)
        return Stored(run, current.partition_key, current.row_key, etag), True
    if current is not None:
        deps.runs.drop_tallies(current.value.run_id)  # a run that stopped between done and cleanup
    run = ExposureRun(
        run_id=new_run_id(deps, current.value.run_id if current else None),
        started_at=deps.clock.now(),
        listings=listings_for(deps),
    )
    etag = deps.runs.create(run) if current is None else deps.runs.save(run, current.etag)
    return Stored(run, "_run", "current", etag), False


def _begin_apply(deps: ExposureDeps, stored: Stored[ExposureRun]) -> Stored[ExposureRun]:
    run = stored.value
    run.phase = "apply"
    run.population = sum(1 for _ in _customers(deps, ""))
    now = deps.clock.now()
    today = deps.collections.policy().calendar().local_date(now)
    for listing in run.listings:
        if listing.refused:
            raise_alert(
                deps.collections,
                key=f"exposure_listing_refused:{listing.kind}:{listing.currency}",
                action="alert.exposure_listing_refused",
                reason=(
                    f"Partner Center refused the unbilled {listing.kind} in {listing.currency} "
                    f"({listing.refused}): exposure and anomalies go without them (EXPOSURE_READ_USAGE)"
                ),
                today=today,
                now=now,
                correlation_id=f"exposure-{run.run_id}",
            )
    etag = deps.runs.save(run, stored.etag)
    return Stored(run, stored.partition_key, stored.row_key, etag)


def _customers(deps: ExposureDeps, after: str) -> Iterator[str]:
    """The customers the app knows (the customer list's index), in id order, after `after`."""
    index = deps.collections.customers.lists
    if index is None:
        return iter(())
    entities = index.table.query(
        "PartitionKey eq @pk and RowKey gt @after", {"pk": CUSTOMERS_BY_ID, "after": after}, select=["RowKey"]
    )
    return (str(e["RowKey"]) for e in entities)


def _apply_all(
    deps: ExposureDeps,
    stored: Stored[ExposureRun],
    *,
    out_of_time: Callable[[], bool],
    max_customers: int | None,
    result: RefreshResult,
) -> Stored[ExposureRun]:
    run, etag = stored.value, stored.etag
    policy = deps.collections.policy()
    allowed = policy.blast_radius.allowed_suspensions(run.population)
    budget = Budget(
        listings=max(0, deps.settings.exposure_listings_per_run - run.listings_read),
        holds=max(0, allowed - run.credit_holds_placed),
    )
    capped_alerted = False
    done = 0
    unsaved = 0
    for customer_id in _customers(deps, run.apply_after):
        if out_of_time() or (max_customers is not None and done >= max_customers):
            etag = deps.runs.save(run, etag)
            return Stored(run, stored.partition_key, stored.row_key, etag)
        holds_before = budget.holds
        try:
            applied = apply_customer(
                deps, customer_id, run_id=run.run_id, run_started=run.started_at, budget=budget
            )
        except Exception as exc:  # one customer never stops the others; it is tried next run
            log.exception("exposure not applied", extra={"customer_id": customer_id})
            run.fail(f"customer {customer_id}: {type(exc).__name__}")
        else:
            run.customers_applied += 1
            run.exposures_changed += int(applied.exposure_changed)
            run.credit_holds_placed += int(applied.hold_placed)
            run.credit_holds_lifted += int(applied.hold_lifted)
            run.notices += applied.notices
            run.anomalies_reported += applied.anomalies
            run.listings_read += int(applied.listed)
            run.unknown_customers += int(not applied.known)
            for failure in applied.failures:
                run.fail(failure)
            if budget.holds <= 0 and holds_before <= 0 and not capped_alerted:
                capped_alerted = _alert_capped(deps, run, allowed)
        run.apply_after = customer_id
        done += 1
        unsaved += 1
        result.customers_applied += 1
        if unsaved >= CHECKPOINT:
            etag = deps.runs.save(run, etag)
            unsaved = 0
    run.phase = "done"
    etag = deps.runs.save(run, etag)
    return Stored(run, stored.partition_key, stored.row_key, etag)


def _alert_capped(deps: ExposureDeps, run: ExposureRun, allowed: int) -> bool:
    now = deps.clock.now()
    return raise_alert(
        deps.collections,
        key="credit_holds_capped",
        action="alert.credit_holds_capped",
        reason=(
            f"the exposure refresh placed {allowed} credit_limit holds, the blast-radius cap of "
            f"{run.population} customers: the others wait for the next run"
        ),
        today=deps.collections.policy().calendar().local_date(now),
        now=now,
        correlation_id=f"exposure-{run.run_id}",
    )


def _finish(deps: ExposureDeps, stored: Stored[ExposureRun]) -> Stored[ExposureRun]:
    run = stored.value
    run.finished_at = deps.clock.now()
    etag = deps.runs.save(run, stored.etag)
    dropped = deps.runs.drop_tallies(run.run_id)
    metric("exposure.run_finished", customers=run.customers_applied)
    log.info(
        "exposure refresh done",
        extra={
            "run_id": run.run_id,
            "pages": run.pages_read,
            "items": run.items_read,
            "customers": run.customers_applied,
            "changed": run.exposures_changed,
            "holds_placed": run.credit_holds_placed,
            "anomalies": run.anomalies_reported,
            "tally_rows_dropped": dropped,
            "partition": tally_partition(run.run_id),
        },
    )
    return Stored(run, stored.partition_key, stored.row_key, etag)
