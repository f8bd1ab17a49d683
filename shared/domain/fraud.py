"""Fraud and misuse: reports, cases and how a report joins a case (pure; no I/O).

A report about a customer and a category joins that customer's open case for the category, if
any: its hit count grows, its evidence is appended within the case's limits, its severity is
raised to the highest seen, and N reports inside a window raise it one more step.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.domain.customer import CustomerId, normalise_customer_id
from shared.domain.holds import Hold, HoldReason, fraud_hold_id
from shared.domain.text import multi_line

MAX_SUBSCRIPTIONS = 100
MAX_DESCRIPTION = 4000
MAX_EVIDENCE_PER_REPORT = 20
MAX_EVIDENCE_VALUE = 2000
MAX_EVIDENCE_PER_CASE = 100
MAX_REPORTS_KEPT = 20
MAX_DECISIONS_KEPT = 20
REPORT_SUMMARY_CHARS = 500
REPORT_SUMMARY_SUBSCRIPTIONS = 10
# The recent reports are one JSON property of the case row: Table storage takes at most 32K
# UTF-16 units per property, so the oldest summaries are dropped beyond this budget.
REPORTS_BUDGET_CHARS = 24_000

# ULID-like ids: 10 characters of milliseconds + 16 random, Crockford base32, sortable by time.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
_CASE_ID = re.compile(CASE_ID_PATTERN)


def new_case_id(at: datetime) -> str:
    """A new case id: sorts by creation time, unique with overwhelming probability."""
    millis = int(at.timestamp() * 1000)
    head = ""
    for _ in range(10):
        head = _CROCKFORD[millis % 32] + head
        millis //= 32
    return head + "".join(secrets.choice(_CROCKFORD) for _ in range(16))


def is_case_id(value: str) -> bool:
    return bool(_CASE_ID.match(value))


def _no_controls(value: str) -> str:
    """Free text may hold any script, but no control, bidi or zero-width characters (newlines
    and tabs are allowed): the one rule of `shared.domain.text`."""
    return multi_line(value)


Text = Annotated[str, AfterValidator(_no_controls)]
SubscriptionId = Annotated[str, AfterValidator(normalise_customer_id)]


class Category(StrEnum):
    PAYMENT_FRAUD = "payment_fraud"
    ACCOUNT_COMPROMISE = "account_compromise"
    CRYPTO_MINING = "crypto_mining"
    RESOURCE_ABUSE = "resource_abuse"
    SPAM_PHISHING = "spam_phishing"
    POLICY_VIOLATION = "policy_violation"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def raised(self) -> Severity:
        """One step up (critical stays critical)."""
        return _SEVERITY_ORDER[min(self.rank + 1, len(_SEVERITY_ORDER) - 1)]


_SEVERITY_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


def highest(a: Severity, b: Severity) -> Severity:
    return a if a.rank >= b.rank else b


class CaseStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"

    @property
    def active(self) -> bool:
        return self in (CaseStatus.OPEN, CaseStatus.INVESTIGATING)


class Evidence(BaseModel):
    """One piece of evidence: what kind (ip, url, log, screenshot link, ...) and its value."""

    model_config = ConfigDict(extra="forbid")

    kind: Text = Field(min_length=1, max_length=50)
    value: Text = Field(min_length=1, max_length=MAX_EVIDENCE_VALUE)


class FraudReport(BaseModel):
    """The body of `POST /api/fraud-reports`. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId
    subscription_ids: list[SubscriptionId] = Field(default_factory=list, max_length=MAX_SUBSCRIPTIONS)
    category: Category
    severity: Severity
    source: Text = Field(min_length=1, max_length=100)
    reporter: Text = Field(min_length=1, max_length=200)
    description: Text = Field(min_length=1, max_length=MAX_DESCRIPTION)
    evidence: list[Evidence] = Field(default_factory=list, max_length=MAX_EVIDENCE_PER_REPORT)
    occurred_at: AwareDatetime | None = None

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _date_text(cls, value: object) -> object:
        # JSON carries dates as RFC 3339 text; a bare number is not taken for a Unix time.
        if value is not None and not isinstance(value, str | datetime):
            raise ValueError("must be an RFC 3339 date-time with an offset")
        return value


class ReportSummary(BaseModel):
    """What a case keeps of each recent report (the full evidence is kept in its own rows)."""

    report_id: str
    received_at: datetime
    source: str
    reporter: str
    severity: Severity
    subscription_ids: list[str] = Field(default_factory=list)
    description: str
    occurred_at: datetime | None = None


class TriageAction(StrEnum):
    HOLD = "hold"  # place a `fraud` hold: suspend while investigating
    REVIEW = "review"  # the review queue (the case stays `open`)
    ALERT = "alert"  # a hold was called for, but the customer is protected
    NONE = "none"  # nothing new (e.g. the case already holds the customer)


class TriageDecision(BaseModel):
    """What triage decided for one report, and why (the rule that fired)."""

    action: TriageAction
    rule: str
    explanation: str
    severity: Severity
    dry_run: bool = False
    triage_version: str
    decided_at: datetime


class Resolution(BaseModel):
    outcome: CaseStatus
    note: str
    resolved_by: str
    resolved_by_id: str | None = None
    resolved_at: datetime
    recommendation: str | None = None


class Case(BaseModel):
    """A fraud case (row `{case_id}` in the customer's partition of the `cases` table)."""

    case_id: str
    customer_id: str
    customer_known: bool
    category: Category
    severity: Severity
    status: CaseStatus
    opened_at: datetime
    updated_at: datetime
    hit_count: int = 1
    subscription_ids: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    report_ids: list[str] = Field(default_factory=list)
    reports: list[ReportSummary] = Field(default_factory=list)
    window_report_times: list[datetime] = Field(default_factory=list)
    severity_escalations: int = 0
    evidence_count: int = 0
    evidence_dropped: int = 0
    decisions: list[TriageDecision] = Field(default_factory=list)
    hold_decided: bool = False
    resolution: Resolution | None = None
    pc_event_ids: list[str] = Field(default_factory=list)
    escalated: bool = False
    # Every report counted by severity, and the most severe one (kept even when later reports
    # push it out of `reports`, the recent ones): the service request summarises them all.
    severity_counts: dict[Severity, int] = Field(default_factory=dict)
    most_severe: ReportSummary | None = None

    def counts_by_severity(self) -> dict[Severity, int]:
        """Reports by severity (a case stored before the counts were kept: from its reports)."""
        if self.severity_counts:
            return dict(self.severity_counts)
        counts: dict[Severity, int] = {}
        for report in self.reports:
            counts[report.severity] = counts.get(report.severity, 0) + 1
        return counts

    def worst_report(self) -> ReportSummary | None:
        """The most severe report (the earliest of equals)."""
        candidates = [r for r in (self.most_severe, *self.reports) if r is not None]
        return max(candidates, key=lambda r: (r.severity.rank, -r.received_at.timestamp()), default=None)


class MergeLimits(BaseModel):
    """How reports join a case: the window that raises severity, and the evidence cap."""

    escalate_after_reports: int = Field(default=3, ge=2, le=1000)
    escalate_window: timedelta = timedelta(hours=24)
    max_evidence: int = MAX_EVIDENCE_PER_CASE


def _summary(report: FraudReport, report_id: str, at: datetime) -> ReportSummary:
    return ReportSummary(
        report_id=report_id,
        received_at=at,
        source=report.source,
        reporter=report.reporter,
        severity=report.severity,
        subscription_ids=report.subscription_ids[:REPORT_SUMMARY_SUBSCRIPTIONS],
        description=report.description[:REPORT_SUMMARY_CHARS],
        occurred_at=report.occurred_at,
    )


def _recent(reports: list[ReportSummary]) -> list[ReportSummary]:
    """The newest summaries that fit the case row (at most MAX_REPORTS_KEPT, within the budget)."""
    kept = reports[-MAX_REPORTS_KEPT:]
    while len(kept) > 1:
        items = [r.model_dump(mode="json") for r in kept]
        text = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
        if len(text.encode("utf-16-le", "surrogatepass")) // 2 <= REPORTS_BUDGET_CHARS:
            break
        kept = kept[1:]
    return kept


def _union(existing: list[str], new: list[str], cap: int) -> list[str]:
    out = list(existing)
    for item in new:
        if item not in out and len(out) < cap:
            out.append(item)
    return out


def open_case(
    report: FraudReport,
    case_id: str,
    report_id: str,
    at: datetime,
    *,
    customer_known: bool,
    limits: MergeLimits,
) -> tuple[Case, list[Evidence]]:
    """A new case for a first report; returns the case and the evidence items to store."""
    kept = report.evidence[: limits.max_evidence]
    case = Case(
        case_id=case_id,
        customer_id=report.customer_id,
        customer_known=customer_known,
        category=report.category,
        severity=report.severity,
        status=CaseStatus.OPEN,
        opened_at=at,
        updated_at=at,
        subscription_ids=list(dict.fromkeys(report.subscription_ids)),
        sources=[report.source],
        report_ids=[report_id],
        reports=[_summary(report, report_id, at)],
        window_report_times=[at],
        evidence_count=len(kept),
        evidence_dropped=len(report.evidence) - len(kept),
        severity_counts={report.severity: 1},
    )
    return case.model_copy(update={"most_severe": case.reports[0]}), kept


def join_case(
    case: Case, report: FraudReport, report_id: str, at: datetime, *, limits: MergeLimits
) -> tuple[Case, list[Evidence]]:
    """The case after another report joins it, and the evidence items to append.

    Severity becomes the highest seen; when the reports inside the window reach the threshold,
    it is raised one more step and the window starts again.
    """
    room = max(0, limits.max_evidence - case.evidence_count)
    kept = report.evidence[:room]
    severity = highest(case.severity, report.severity)
    window = [t for t in case.window_report_times if at - t < limits.escalate_window] + [at]
    escalations = case.severity_escalations
    if len(window) >= limits.escalate_after_reports:
        severity = severity.raised()
        escalations += 1
        window = []
    summary = _summary(report, report_id, at)
    counts = case.counts_by_severity()
    counts[report.severity] = counts.get(report.severity, 0) + 1
    worst = case.worst_report()
    merged = case.model_copy(
        update={
            "severity_counts": counts,
            "most_severe": summary if worst is None or report.severity.rank > worst.severity.rank else worst,
            "severity": severity,
            "updated_at": at,
            "hit_count": case.hit_count + 1,
            "subscription_ids": _union(case.subscription_ids, report.subscription_ids, MAX_SUBSCRIPTIONS),
            "sources": _union(case.sources, [report.source], 20),
            "report_ids": ([*case.report_ids, report_id])[-50:],
            "reports": _recent([*case.reports, summary]),
            "window_report_times": window,
            "severity_escalations": escalations,
            "evidence_count": case.evidence_count + len(kept),
            "evidence_dropped": case.evidence_dropped + len(report.evidence) - len(kept),
        }
    )
    return merged, kept


def record_decision(case: Case, decision: TriageDecision) -> Case:
    """The case with a triage decision recorded; a hold (real or dry-run) means `investigating`."""
    hold = decision.action is TriageAction.HOLD
    status = case.status
    if hold and status is CaseStatus.OPEN:
        status = CaseStatus.INVESTIGATING
    return case.model_copy(
        update={
            "decisions": ([*case.decisions, decision])[-MAX_DECISIONS_KEPT:],
            "hold_decided": case.hold_decided or (hold and not decision.dry_run),
            "status": status,
        }
    )


def cancellation_recommendation(case: Case) -> str:
    """What `confirmed` recommends: cancel the reported subscriptions (bilingual)."""
    subs = ", ".join(case.subscription_ids) or "(all of the customer's subscriptions / 该客户的全部订阅)"
    return (
        f"建议取消以下订阅并保留暂停状态直至取消完成：{subs}。"
        f" Recommended: cancel these subscriptions and keep them suspended until cancelled: {subs}."
    )


def normalise_case_id(value: str) -> str:
    """Case ids are case-insensitive on input and upper-case when stored."""
    upper = value.upper()
    if not _CASE_ID.match(upper):
        raise ValueError("not a case id (26 characters, Crockford base32)")
    return upper


def holds_lifted_by_dismissal(case_id: str, holds: list[Hold]) -> list[Hold]:
    """The holds a dismissed case lifts: its own `fraud` hold and nothing else.

    A non-payment, manual, or another case's hold stays, so access comes back only when none
    remains (the executor decides that from the holds left).
    """
    own = fraud_hold_id(case_id)
    return [hold for hold in holds if hold.hold_id == own and hold.reason is HoldReason.FRAUD]
