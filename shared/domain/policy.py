"""The collections policy file (`policy/collections.toml`): a validated, versioned pydantic model.

The policy is data, not code: ordered stages with days past due, the notice period, the minimum
overdue balance per currency, the enforcement window, the blast-radius cap, protected customers
and per-segment overrides. `parse_policy` validates the whole file or raises `PolicyError`; a
policy is never applied in part. Its version is a short SHA-256 of the file's bytes.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from datetime import date, time
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.domain.calendar import WorkCalendar
from shared.domain.credit_policy import CreditRules, UsageAnomalyRules
from shared.domain.customer import CustomerId, Locale
from shared.domain.money import parse_amount

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
_HOURS = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


class PolicyError(RuntimeError):
    """The policy file is missing or invalid; the message names the file and the field path."""


class Stage(StrEnum):
    """A customer's collections stage, in order of severity."""

    CURRENT = "current"
    REMINDER = "reminder"
    WARNING = "warning"
    SUSPENSION = "suspension"
    ESCALATION = "escalation"

    @property
    def rank(self) -> int:
        return _STAGE_ORDER.index(self)


_STAGE_ORDER = list(Stage)


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """0 = Monday, as `date.weekday()`."""
        return list(Weekday).index(self)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StageRule(_Strict):
    """One stage: what happens once the earliest unpaid invoice is `days_past_due` days late."""

    action: Stage
    days_past_due: int = Field(ge=1, le=3650)

    @field_validator("action")
    @classmethod
    def _not_current(cls, value: Stage) -> Stage:
        if value is Stage.CURRENT:
            raise ValueError("'current' is not an action; use reminder, warning, suspension, escalation")
        return value


def _money_text(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('amounts are strings like "100.00" (never numbers, to avoid float rounding)')
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"not a decimal amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("amount must be a finite number >= 0")
    return amount


def _check_currencies(value: dict[str, Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for currency, amount in value.items():
        if not CURRENCY_PATTERN.match(currency):
            raise ValueError(f"{currency!r} is not an ISO 4217 currency code (three capital letters)")
        out[currency] = _money_text(amount)
        parse_amount(str(amount), currency)  # the one money rule: an ISO code, its minor units
    return out


class Rules(_Strict):
    """The effective rules for one segment: stages, notice period and minimum overdue balance."""

    stages: list[StageRule] = Field(min_length=1)
    min_notice_days: int = Field(ge=1, le=365)
    minimum_overdue_balance: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("minimum_overdue_balance", mode="before")
    @classmethod
    def _amounts(cls, value: Any) -> Any:
        return _check_currencies(value) if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _ordered(self) -> Rules:
        previous: StageRule | None = None
        for rule in self.stages:
            if previous is not None:
                if rule.action.rank <= previous.action.rank:
                    raise ValueError(
                        f"stages must be listed in the order reminder, warning, suspension, escalation, "
                        f"each at most once ({rule.action} after {previous.action})"
                    )
                if rule.days_past_due <= previous.days_past_due:
                    raise ValueError(
                        f"days_past_due must strictly increase ({rule.action} at {rule.days_past_due} "
                        f"is not after {previous.action} at {previous.days_past_due})"
                    )
            previous = rule
        warning, suspension = self.day_of(Stage.WARNING), self.day_of(Stage.SUSPENSION)
        if (warning is None) != (suspension is None):
            # A warning names the suspension date, and no suspension may come without one.
            raise ValueError("a warning stage and a suspension stage go together: give both or neither")
        if warning is not None and suspension is not None:
            if suspension - warning < self.min_notice_days:
                raise ValueError(
                    f"suspension ({suspension} days) minus warning ({warning} days) must be at least "
                    f"min_notice_days ({self.min_notice_days})"
                )
        return self

    def day_of(self, stage: Stage) -> int | None:
        """The days past due at which `stage` starts, or None when this policy has no such stage."""
        for rule in self.stages:
            if rule.action is stage:
                return rule.days_past_due
        return None

    def minimum_for(self, currency: str) -> Decimal | None:
        return self.minimum_overdue_balance.get(currency)


class Bilingual(_Strict):
    """A text customers read, in both languages."""

    zh_cn: str = Field(alias="zh-CN", min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)

    def text(self, locale: Locale | str) -> str:
        return self.zh_cn if str(locale) == Locale.ZH_CN.value else self.en


class SegmentOverride(_Strict):
    """A segment's changes to the defaults; what it leaves out is inherited (stages as a whole).
    `title` (and `description`) are what customers read: the segment's key is never shown."""

    title: Bilingual
    description: Bilingual | None = None
    stages: list[StageRule] | None = None
    min_notice_days: int | None = Field(default=None, ge=1, le=365)
    minimum_overdue_balance: dict[str, Decimal] | None = None

    @field_validator("minimum_overdue_balance", mode="before")
    @classmethod
    def _amounts(cls, value: Any) -> Any:
        return _check_currencies(value) if isinstance(value, dict) else value


class HowToPay(_Strict):
    """Payment instructions shown in warnings and in the published policy, in both languages."""

    zh_cn: str = Field(alias="zh-CN", min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)

    def text(self, locale: Locale | str) -> str:
        return self.zh_cn if str(locale) == Locale.ZH_CN.value else self.en


FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR = 2000, 2100


class YearCalendar(_Strict):
    """One year's days off and make-up working days, and where they come from (the State
    Council's notice for mainland China)."""

    source: str = Field(min_length=1, max_length=500)
    # The source as the Chinese policy text names it (the published zh-CN text shows no English).
    source_zh: str | None = Field(default=None, min_length=1, max_length=500)
    holidays: list[date] = Field(default_factory=list)
    make_up_workdays: list[date] = Field(default_factory=list)


class EnforcementWindow(_Strict):
    """Business days and hours (policy time zone) when notices and holds may happen."""

    weekdays: list[Weekday] = Field(min_length=1)
    opens: str = Field(description="HH:MM local time, inclusive")
    closes: str = Field(description="HH:MM local time, exclusive")
    # Extra days (a company day off, ...); a year with a date here counts as listed.
    holidays: list[date] = Field(default_factory=list)
    make_up_workdays: list[date] = Field(default_factory=list)
    years: dict[int, YearCalendar] = Field(default_factory=dict)

    @field_validator("years")
    @classmethod
    def _dates_in_their_year(cls, value: dict[int, YearCalendar]) -> dict[int, YearCalendar]:
        for year, listed in value.items():
            if not FIRST_CALENDAR_YEAR <= year <= LAST_CALENDAR_YEAR:
                raise ValueError(f"year {year} is outside {FIRST_CALENDAR_YEAR}-{LAST_CALENDAR_YEAR}")
            stray = [d for d in [*listed.holidays, *listed.make_up_workdays] if d.year != year]
            if stray:
                raise ValueError(f"years.{year} lists {stray[0].isoformat()}, a date of another year")
        return value

    def all_holidays(self) -> set[date]:
        return set(self.holidays).union(*(y.holidays for y in self.years.values()))

    def all_make_up_workdays(self) -> set[date]:
        return set(self.make_up_workdays).union(*(y.make_up_workdays for y in self.years.values()))

    def listed_years(self) -> set[int]:
        """Years whose days off the policy lists (a `years` entry, or a date in the flat lists)."""
        return set(self.years) | {d.year for d in [*self.holidays, *self.make_up_workdays]}

    @field_validator("opens", "closes")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HOURS.match(value):
            raise ValueError(f"{value!r} is not a time like 09:00 (00:00 to 23:59)")
        if value == "24:00":
            raise ValueError("use 23:59 for the end of the day")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EnforcementWindow:
        if not _parse_hhmm(self.opens) < _parse_hhmm(self.closes):
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        both = self.all_holidays() & self.all_make_up_workdays()
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"a date cannot be both a holiday and a make-up working day: {listed}")
        return self


class BlastRadius(_Strict):
    """At most this many suspensions per scan, and at most this share of the customers scanned."""

    max_suspensions_per_scan: int = Field(ge=0, le=1_000_000)
    max_suspension_percent: Decimal = Field(ge=0, le=100)
    # Warnings too: a broken payments feed makes everyone overdue at once, and a wave of
    # warnings is the first harm. A scan may always send `warnings_always_allowed`; beyond that,
    # at most `max_warning_percent` of the customers it evaluates and never more than
    # `max_warnings_per_scan`. The rest wait for approval in the scan's batch, with an alert.
    max_warnings_per_scan: int = Field(default=100, ge=0, le=1_000_000)
    max_warning_percent: Decimal = Field(default=Decimal(50), ge=0, le=100)
    warnings_always_allowed: int = Field(default=10, ge=0, le=1_000_000)

    @field_validator("max_suspension_percent", "max_warning_percent", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('give the percent as an integer or a string like "2.5"')
        return value

    def allowed_suspensions(self, population: int) -> int:
        """How many suspensions one scan may carry out: min(N, ceil(P% of `population`)), the
        population being the customers evaluated in the scan, so a non-zero percent allows at
        least one; the rest wait for approval."""
        share = Decimal(max(population, 0)) * self.max_suspension_percent / 100
        return min(self.max_suspensions_per_scan, int(share.to_integral_value(ROUND_CEILING)))

    def allowed_warnings(self, population: int) -> int:
        """How many warnings one scan may send (see the fields above)."""
        share = Decimal(max(population, 0)) * self.max_warning_percent / 100
        by_share = max(self.warnings_always_allowed, int(share.to_integral_value(ROUND_CEILING)))
        return min(self.max_warnings_per_scan, by_share)


class ExemptionLimits(_Strict):
    """The longest exemption a person may grant, per kind, in days from today (inclusive end)."""

    promise_to_pay_max_days: int = Field(default=60, ge=1, le=366)
    enforcement_off_max_days: int = Field(default=90, ge=1, le=366)

    def max_days(self, kind: str) -> int:
        """The limit of an exemption kind (`promise_to_pay` or `enforcement_off`)."""
        return self.promise_to_pay_max_days if kind == "promise_to_pay" else self.enforcement_off_max_days


class PaymentsFeed(_Strict):
    """When the payments feed counts as broken (an alert and a degraded health check follow):
    no payment posted for `quiet_days` working days while invoices are; or, on one day, at least
    `jump_min_episodes` customers falling overdue and at least `jump_factor` times the median
    day of the `baseline_days` before (judged once `baseline_min_days` of them were counted)."""

    quiet_days: int = Field(default=3, ge=1, le=60)
    jump_factor: Decimal = Field(default=Decimal(3), ge=Decimal("1.5"), le=Decimal(100))
    jump_min_episodes: int = Field(default=20, ge=1, le=1_000_000)
    baseline_days: int = Field(default=14, ge=3, le=90)
    baseline_min_days: int = Field(default=7, ge=1, le=90)

    @model_validator(mode="after")
    def _baseline(self) -> PaymentsFeed:
        if self.baseline_min_days > self.baseline_days:
            raise ValueError("baseline_min_days cannot exceed baseline_days")
        return self


class FourEyes(_Strict):
    """Changes one person may not make alone: the first request waits as a pending change until
    a different person holding Collections.Approve approves or rejects it."""

    release_cap_batch: bool = True  # releasing a batch held back by the blast-radius cap
    mark_protected: bool = True  # marking a customer protected (no warning, no suspension)
    enforcement_off: bool = True  # an enforcement_off exemption
    # A promise_to_pay lasting more than this many days (from today) needs a second person.
    promise_to_pay_alone_max_days: int = Field(default=14, ge=0, le=3650)
    pending_days: int = Field(default=7, ge=1, le=90)  # a pending change expires after this


class Policy(_Strict):
    """The whole collections policy. `version` is computed by `parse_policy`, never written in the file."""

    version: str = Field(default="unversioned", exclude=True)
    time_zone: str = "Asia/Shanghai"
    defaults: Rules
    segments: dict[str, SegmentOverride] = Field(default_factory=dict)
    how_to_pay: HowToPay
    enforcement_window: EnforcementWindow
    blast_radius: BlastRadius
    exemptions: ExemptionLimits = Field(default_factory=ExemptionLimits)
    payments_feed: PaymentsFeed = Field(default_factory=PaymentsFeed)
    protected_customers: list[CustomerId] = Field(default_factory=list)
    four_eyes: FourEyes = Field(default_factory=FourEyes)
    credit: CreditRules = Field(default_factory=CreditRules)
    usage_anomaly: UsageAnomalyRules = Field(default_factory=UsageAnomalyRules)
    # Statutory holidays of the years the policy does not list, from a maintained library; set by
    # the adapter that loads the file (`shared/adapters/holiday_library.py`), never in the file.
    library_holidays: dict[int, tuple[date, ...]] = Field(default_factory=dict, exclude=True, repr=False)
    library_name: str = Field(default="", exclude=True)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("segments")
    @classmethod
    def _segment_names(cls, value: dict[str, SegmentOverride]) -> dict[str, SegmentOverride]:
        for name in value:
            if not re.match(r"^[a-z0-9_-]{1,50}$", name):
                raise ValueError(f"segment name {name!r} must be lower-case letters, digits, _ or -")
        return value

    @model_validator(mode="after")
    def _four_eyes_below_maximum(self) -> Policy:
        alone, most = self.four_eyes.promise_to_pay_alone_max_days, self.exemptions.promise_to_pay_max_days
        if alone > most:
            raise ValueError(
                f"four_eyes.promise_to_pay_alone_max_days ({alone}) cannot exceed "
                f"exemptions.promise_to_pay_max_days ({most})"
            )
        return self

    @model_validator(mode="after")
    def _segments_valid(self) -> Policy:
        # Merge each segment now, so an override that breaks the stage rules fails the load.
        for name in self.segments:
            try:
                self.rules_for(name)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                message = str(first["msg"]).removeprefix("Value error, ")
                raise ValueError(
                    f"segment {name!r} with the defaults gives invalid rules: {message}"
                ) from None
        return self

    def rules_for(self, segment: str) -> Rules:
        """The defaults with the segment's overrides applied (the defaults for an unknown segment)."""
        override = self.segments.get(segment)
        if override is None:
            return self.defaults
        minimum = dict(self.defaults.minimum_overdue_balance)
        minimum.update(override.minimum_overdue_balance or {})
        return Rules.model_validate(
            {
                "stages": [s.model_dump() for s in (override.stages or self.defaults.stages)],
                "min_notice_days": override.min_notice_days or self.defaults.min_notice_days,
                "minimum_overdue_balance": {k: str(v) for k, v in minimum.items()},
            }
        )

    def is_protected(self, customer_id: str | None) -> bool:
        return customer_id is not None and customer_id.lower() in self.protected_customers

    def calendar(self) -> WorkCalendar:
        """The enforcement window as a pure calendar in the policy's time zone: the listed days
        off, and for every year the policy does not list, the library's statutory holidays (its
        make-up working days are unknown, so that year's weekends stay days off)."""
        window = self.enforcement_window
        listed = window.listed_years()
        holidays = window.all_holidays()
        for year, days in self.library_holidays.items():
            if year not in listed:
                holidays.update(days)
        return WorkCalendar(
            time_zone=ZoneInfo(self.time_zone),
            weekdays=frozenset(day.number for day in window.weekdays),
            opens=_parse_hhmm(window.opens),
            closes=_parse_hhmm(window.closes),
            holidays=frozenset(holidays),
            make_up_workdays=frozenset(window.all_make_up_workdays()),
        )

    def missing_calendar_years(self, today: date) -> list[int]:
        """Years the policy should list by `today` and does not: this year, and from 1 December
        the next one (their days off then come from the library, make-up days unknown)."""
        wanted = [today.year] + ([today.year + 1] if today.month == 12 else [])
        listed = self.enforcement_window.listed_years()
        return [year for year in wanted if year not in listed]

    def calendar_gap(self, missing: list[int]) -> str:
        """Why years without listed days off matter and what to do, in one sentence."""
        years = ", ".join(map(str, missing))
        return (
            f"the collections policy lists no days off for {years}: the statutory holidays come from "
            f"{self.library_name or 'the holidays library'} and make-up working days are unknown; add "
            f"[enforcement_window.years.{missing[0]}] from the State Council's notice"
        )


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def policy_version(content: bytes) -> str:
    """The policy's version: the first 12 hex digits of the SHA-256 of the file's bytes."""
    return hashlib.sha256(content).hexdigest()[:12]


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse_policy(content: bytes, source: str = "<policy>") -> Policy:
    """Validate policy TOML bytes; raise PolicyError naming the source and each bad field."""
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{source}: the policy file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from None
    if "version" in data:
        raise PolicyError(f"{source}: version: computed from the file content; remove this key")
    for key in ("library_holidays", "library_name"):
        if key in data:
            raise PolicyError(f"{source}: {key}: filled in from the holidays library; remove this key")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{_field_path(err.get('loc', ())) or '(top level)'}: {message}")
        raise PolicyError(f"{source}: invalid policy: " + "; ".join(problems)) from None
    return policy.model_copy(update={"version": policy_version(content)})
