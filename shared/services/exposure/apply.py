"""The apply phase for one customer: seats, usage history, anomalies, exposure and the credit
decision, written in ONE transaction of the customer's partition (with its audit entries and the
outbox of the notice and reconcile it decided), then published.

1. the customer's tallies of this run (one range query) and, when due and within the run's
   budget, its subscription listing (seat counts; new subscriptions count from zero);
2. the usage history: this period's days replace the stored ones, meters seen are remembered;
3. anomalies of this period's days (`shared/domain/anomaly.py`), each reported once through
   the fraud intake (idempotent by a report id derived from the anomaly) before the commit that
   remembers it was reported: a crash in between reports it again, which the case counts once;
4. exposure (`shared/domain/exposure.py`) and the credit decision (`shared/domain/credit.py`),
   under the rails: enforcement window, protection, exemptions, the refresh's cap, dry run;
5. commit (ETag-guarded; a conflict re-reads and decides again), publish the outbox.
A customer whose figures did not change writes nothing but what its decision changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.customers import CollectionsRecord, CustomerAggregate
from shared.adapters.exposure_runs import merge_tallies
from shared.adapters.layout import STATE_ROW, USAGE_ROW
from shared.adapters.partner_center.errors import PartnerCenterError
from shared.adapters.tables import Stored
from shared.domain.anomaly import (
    MAX_HISTORY_DAYS,
    MAX_METERS_SEEN,
    MAX_REPORTED,
    Anomaly,
    UsageHistory,
    detect_seats,
    detect_spend,
)
from shared.domain.credit import CreditState, evaluate_credit
from shared.domain.credit_policy import UsageAnomalyRules
from shared.domain.exposure import ChargeTally, SeatChange, compute_exposure, seat_changes_between
from shared.domain.holds import CREDIT_LIMIT_HOLD_ID
from shared.domain.identity import Actor
from shared.services.collections.actions import CommitContext
from shared.services.collections.credit import hold_paused, stage_credit
from shared.services.collections.decision import ledger_summary
from shared.services.collections.outbox import publish_outbox, reconcile_item
from shared.services.exposure.anomalies import report_anomaly
from shared.services.exposure.deps import ExposureDeps

log = logging.getLogger(__name__)
ACTOR = Actor.system("exposure-refresh")


@dataclass
class Budget:
    """What a run may still spend: subscription listings, credit holds (the cap)."""

    listings: int
    holds: int


@dataclass
class Applied:
    known: bool = True
    exposure_changed: bool = False
    hold_placed: bool = False
    hold_lifted: bool = False
    notices: int = 0
    anomalies: int = 0
    listed: bool = False
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Listing:
    seats: dict[str, tuple[str, int]]  # subscription -> (offer, quantity)


def apply_customer(
    deps: ExposureDeps,
    customer_id: str,
    *,
    run_id: str,
    run_started: datetime,
    budget: Budget,
) -> Applied:
    """Bring one customer's exposure, history and credit standing up to this run's reading."""
    collections = deps.collections
    tally, usage = merge_tallies(deps.runs.tallies_of(run_id, customer_id))
    out = Applied()
    first = collections.customers.load(customer_id)  # one partition query; reused by attempt 1
    if not first.exists:
        out.known = False
        return out
    listing = _maybe_list(deps, customer_id, first.usage.value if first.usage else None, budget, out)
    loaded = [first]

    def attempt() -> Applied:
        result = Applied(listed=out.listed, failures=list(out.failures))
        aggregate = loaded.pop() if loaded else collections.customers.load(customer_id)
        if not aggregate.exists:
            result.known = False
            return result
        now = deps.clock.now()
        policy = collections.policy()
        ctx = CommitContext(policy=policy, now=now, actor=ACTOR, correlation_id=f"exposure-{run_id}")
        _decide_and_commit(deps, aggregate, ctx, tally, usage, listing, run_started, budget, result)
        return result

    return retry_on_conflict(attempt, what=f"the exposure of customer {customer_id}")


def _maybe_list(
    deps: ExposureDeps, customer_id: str, history: UsageHistory | None, budget: Budget, out: Applied
) -> _Listing | None:
    """The customer's subscription listing, when its last one is old and the run may still list."""
    if budget.listings <= 0:
        return None
    listed_at = history.listed_at if history else None
    max_age = deps.settings.exposure_listing_max_age_hours * 3600
    now = deps.clock.now()
    if listed_at is not None and (now - listed_at).total_seconds() < max_age:
        return None
    budget.listings -= 1
    try:
        subscriptions = deps.partner_center.list_subscriptions(customer_id, correlation_id="exposure-seats")
    except PartnerCenterError as exc:
        out.failures.append(f"customer {customer_id}: subscription listing {type(exc).__name__}")
        return None
    out.listed = True
    seats = {}
    for sub in subscriptions:
        status = str(sub.status or "").lower()
        if status in ("deleted", "expired", "disabled"):
            continue
        seats[sub.id.lower()] = (str(sub.offer_id or "unknown"), int(sub.quantity or 0))
    return _Listing(seats=seats)


def _decide_and_commit(
    deps: ExposureDeps,
    aggregate: CustomerAggregate,
    ctx: CommitContext,
    tally: ChargeTally,
    usage: dict[str, dict[str, object]],
    listing: _Listing | None,
    run_started: datetime,
    budget: Budget,
    result: Applied,
) -> None:
    collections = deps.collections
    policy, now = ctx.policy, ctx.now
    assert aggregate.profile is not None
    profile = aggregate.profile.value
    calendar = policy.calendar()
    today = calendar.local_date(now)
    ledger = ledger_summary(aggregate, policy, now)
    before = aggregate.usage.value if aggregate.usage else UsageHistory()
    history, new_seats = _history(before, usage.get(ledger.currency), listing, ledger.currency, now, today)
    last_invoice = max((s.value.issued_on for s in aggregate.invoices.values()), default=None)
    history.seat_changes = [c for c in history.seat_changes if last_invoice is None or c.on > last_invoice]

    anomalies = _anomalies(policy.usage_anomaly, before, history, usage.get(ledger.currency), ledger.currency)
    anomalies += detect_seats(new_seats, before.seats, policy.usage_anomaly)
    for anomaly in anomalies:
        if anomaly.key in history.reported:
            continue
        report_anomaly(deps.fraud, aggregate.customer_id, anomaly, actor=ACTOR)
        history.reported = [*history.reported, anomaly.key][-MAX_REPORTED:]
        result.anomalies += 1
    # A fraud hold placed by a report changed the partition: read it again before committing.
    if result.anomalies:
        aggregate = collections.customers.load(aggregate.customer_id)

    exposure = compute_exposure(
        ledger,
        tally,
        history.seat_changes,
        policy.credit,
        profile.segment,
        last_invoice,
        now=now,
        unbilled_as_of=run_started,
    )
    state = aggregate.credit.value if aggregate.credit else CreditState()
    notice = aggregate.notices.get(state.notice_id) if state.notice_id else None
    delivered = notice.value.delivered_at if notice is not None and notice.value.delivered else None
    decision = evaluate_credit(
        exposure=exposure,
        profile=profile,
        rules=policy.credit,
        protected=profile.protected or policy.is_protected(aggregate.customer_id),
        hold_present=CREDIT_LIMIT_HOLD_ID in aggregate.holds,
        notice_delivered_at=delivered,
        state=state,
        now=now,
        window_open=calendar.is_open(now),
        hold_paused=hold_paused(aggregate, today),
    )
    change = collections.customers.change(aggregate)
    staged = stage_credit(
        change,
        aggregate,
        decision,
        exposure,
        ledger,
        ctx,
        dry_run=deps.dry_run,
        hold_allowed=budget.holds > 0,
    )
    if history != before or aggregate.usage is None:
        change.put(history, USAGE_ROW, aggregate.usage.etag if aggregate.usage else None)
    record = aggregate.collections.model_copy(deep=True)
    if staged.notices or staged.reconcile_reasons:
        record.revision += 1
        record.outbox.extend(staged.notices)
        if staged.reconcile_reasons:
            record.outbox.append(
                reconcile_item(
                    aggregate.customer_id,
                    record.revision,
                    "; ".join(staged.reconcile_reasons),
                    ctx.correlation_id,
                    now,
                )
            )
        record.updated_at = now
        change.put_record(record)
    before_ids = {item.message_id for item in aggregate.collections.outbox}
    if not len(change.tx) and not change.entries:
        return  # nothing changed: nothing is written
    etags = change.commit()
    result.exposure_changed = aggregate.exposure is None or not exposure.same_figures(
        aggregate.exposure.value
    )
    result.hold_placed = staged.hold_placed
    result.hold_lifted = "lift_hold" in staged.applied
    result.notices = len(staged.notices)
    if staged.hold_placed:
        budget.holds -= 1
    if staged.notices or staged.reconcile_reasons:
        committed = Stored(record, aggregate.customer_id, STATE_ROW, etags[STATE_ROW])
        mine = [i.message_id for i in record.outbox if i.message_id not in before_ids]
        publish_outbox(collections, _Commit(aggregate.customer_id, committed, mine))


@dataclass(frozen=True)
class _Commit:
    """What `publish_outbox` needs to know of this commit."""

    customer_id: str
    committed: Stored[CollectionsRecord] | None
    staged: list[str]


def _history(
    before: UsageHistory,
    usage: dict[str, object] | None,
    listing: _Listing | None,
    currency: str,
    now: datetime,
    today: date,
) -> tuple[UsageHistory, list[SeatChange]]:
    """The usage history with this run's reading: the period's days replace the stored ones."""
    history = before.model_copy(deep=True)
    history.currency = currency
    if usage:
        days = usage["days"]
        assert isinstance(days, dict)
        for day, amount in days.items():
            history.days[day.isoformat()] = amount
        if len(history.days) > MAX_HISTORY_DAYS:
            for day_text in sorted(history.days)[: len(history.days) - MAX_HISTORY_DAYS]:
                del history.days[day_text]
    new_seats: list[SeatChange] = []
    if listing is not None:
        quantities = {sub: qty for sub, (_, qty) in listing.seats.items()}
        if before.listed_at is not None:  # the first listing is the baseline, not a change
            new_seats = seat_changes_between(before.seats, listing.seats, today)
            history.seat_changes = (history.seat_changes + new_seats)[-50:]
        history.seats = quantities
        history.seat_offers = {sub: offer for sub, (offer, _) in listing.seats.items()}
        history.listed_at = now
    return history, new_seats


def _anomalies(
    rules: UsageAnomalyRules,
    before: UsageHistory,
    history: UsageHistory,
    usage: dict[str, object] | None,
    currency: str,
) -> list[Anomaly]:
    if not usage:
        return []
    meters = usage["meters"]
    offers = usage["offers"]
    period_days = usage["days"]
    assert isinstance(meters, dict) and isinstance(offers, dict) and isinstance(period_days, dict)
    days = {date.fromisoformat(d): Decimal(a) for d, a in history.days.items()}
    seen = set(before.meters_seen)
    found = detect_spend(days, meters, offers, seen, sorted(period_days), currency, rules)
    all_meters = {m for per in meters.values() for m in per}
    history.meters_seen = sorted(seen | all_meters)[:MAX_METERS_SEEN]
    return found
