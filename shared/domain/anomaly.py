"""Usage anomalies: a day's charges or seats jumping past the policy's rule (pure; no I/O).

Rules (`[usage_anomaly]` of the policy, `credit_policy.UsageAnomalyRules`), for one customer and
one day D, in the ledger's currency:
- `spend_spike`: D's charges are at least `minimum_amount` and more than `factor` times the
  median day of the `baseline_days` before D (days without charges count as 0, from the first
  day the customer's charges are known), judged once `baseline_min_days` of them are known;
- `new_meter`: D's charges on a watched meter (GPU virtual machines) the customer never used
  before D are at least `minimum_amount`;
- `seat_jump`: a subscription gained at least `seat_minimum` seats in a day, to at least
  `seat_factor` times its count before (a new subscription counts from zero).
Nothing below `minimum_amount`, and nothing in a currency it does not list, is an anomaly.
A spike is critical at `critical_factor` times the median, the median being at least
`minimum_amount / factor` for this purpose (so a customer with almost no history does not turn
every first large day critical by dividing by nearly nothing).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median

from pydantic import BaseModel, Field

from shared.domain.credit_policy import UsageAnomalyRules
from shared.domain.exposure import SeatChange

MAX_HISTORY_DAYS = 100
MAX_METERS_SEEN = 300
MAX_REPORTED = 200


class UsageHistory(BaseModel):
    """Row `usage` of the customer partition: the baseline the anomaly rule compares with."""

    currency: str | None = None
    days: dict[str, Decimal] = Field(default_factory=dict)  # ISO day -> charges that day
    meters_seen: list[str] = Field(default_factory=list)
    reported: list[str] = Field(default_factory=list)  # anomaly keys already reported
    seats: dict[str, int] = Field(default_factory=dict)  # subscription -> quantity, last listing
    seat_offers: dict[str, str] = Field(default_factory=dict)  # subscription -> offer id
    seat_changes: list[SeatChange] = Field(default_factory=list)  # since the last invoice
    listed_at: datetime | None = None

    def day_amounts(self) -> dict[date, Decimal]:
        return {date.fromisoformat(day): amount for day, amount in self.days.items()}


class Anomaly(BaseModel):
    """One anomaly and its evidence."""

    rule: str  # spend_spike | new_meter | seat_jump
    day: date
    currency: str | None = None
    amount: Decimal | None = None
    baseline_median: Decimal | None = None
    baseline_days: int = 0
    times_baseline: Decimal | None = None
    meters: list[str] = Field(default_factory=list)
    offers: list[str] = Field(default_factory=list)
    subscription_id: str | None = None
    seats_before: int | None = None
    seats_after: int | None = None
    severity: str

    @property
    def key(self) -> str:
        """Which anomaly this is: the same day, rule and subject give the same key (idempotence)."""
        subject = self.subscription_id or ",".join(sorted(self.meters)) if self.rule != "spend_spike" else ""
        return f"{self.rule}:{self.day.isoformat()}:{subject}"


def watched(meter: str, rules: UsageAnomalyRules) -> bool:
    text = meter.lower()
    return any(word.lower() in text for word in rules.watched_meters)


def _median_before(
    days: dict[date, Decimal], day: date, rules: UsageAnomalyRules
) -> tuple[Decimal | None, int]:
    """The median of the baseline window before `day` and how many days of it are known."""
    known = [d for d in days if d < day]
    if not known:
        return None, 0
    first = min(known)
    start = max(first, day - timedelta(days=rules.baseline_days))
    window = [days.get(start + timedelta(days=i), Decimal(0)) for i in range((day - start).days)]
    if len(window) < rules.baseline_min_days:
        return None, len(window)
    return Decimal(median(window)), len(window)


def detect_spend(
    days: dict[date, Decimal],
    meters: dict[date, dict[str, Decimal]],
    offers: dict[date, list[str]],
    meters_seen_before: set[str],
    judge: list[date],
    currency: str,
    rules: UsageAnomalyRules,
) -> list[Anomaly]:
    """The spend anomalies of the days in `judge`. `days` is the customer's charges per day
    (its history and this period), `meters` the charges per meter per day."""
    minimum = rules.minimum_amount.get(currency)
    if not rules.enabled or minimum is None:
        return []
    found: list[Anomaly] = []
    for day in sorted(judge):
        amount = days.get(day, Decimal(0))
        if amount < minimum or amount <= 0:
            continue
        base, counted = _median_before(days, day, rules)
        day_offers = sorted(offers.get(day, []))[:10]
        day_meters = meters.get(day, {})
        if base is not None and amount > rules.factor * base:
            floor = max(base, minimum / rules.factor)
            critical = amount >= rules.critical_factor * floor
            found.append(
                Anomaly(
                    rule="spend_spike",
                    day=day,
                    currency=currency,
                    amount=amount,
                    baseline_median=base,
                    baseline_days=counted,
                    times_baseline=(amount / base).quantize(Decimal("0.1")) if base > 0 else None,
                    meters=sorted(day_meters, key=lambda m: -day_meters[m])[:10],
                    offers=day_offers,
                    severity="critical" if critical else rules.severity,
                )
            )
        earlier = set(meters_seen_before) | {m for d, ms in meters.items() if d < day for m in ms}
        new = {m: v for m, v in day_meters.items() if watched(m, rules) and m not in earlier}
        new_amount = sum(new.values(), Decimal(0))
        if new and new_amount >= minimum:
            found.append(
                Anomaly(
                    rule="new_meter",
                    day=day,
                    currency=currency,
                    amount=new_amount,
                    baseline_median=base,
                    baseline_days=counted,
                    meters=sorted(new),
                    offers=day_offers,
                    severity=rules.severity,
                )
            )
    return found


def detect_seats(
    changes: list[SeatChange], before: dict[str, int], rules: UsageAnomalyRules
) -> list[Anomaly]:
    """Seat jumps among the seat changes of one listing (`before`: the counts it started from)."""
    if not rules.enabled:
        return []
    found = []
    for change in changes:
        prior = before.get(change.subscription_id, 0)
        after = prior + change.added
        if change.added >= rules.seat_minimum and (prior == 0 or after >= rules.seat_factor * prior):
            found.append(
                Anomaly(
                    rule="seat_jump",
                    day=change.on,
                    subscription_id=change.subscription_id,
                    offers=[change.offer_id],
                    seats_before=prior,
                    seats_after=after,
                    severity=rules.severity,
                )
            )
    return found
