"""Triage rules: the file model, which rule fires, and the safety rails (pure; no storage)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.adapters.policy_files import load_triage
from shared.domain.fraud import (
    Case,
    CaseStatus,
    Category,
    FraudReport,
    MergeLimits,
    Severity,
    TriageAction,
    open_case,
)
from shared.domain.triage import CustomerFacts, TriageConfigError, parse_triage, triage

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CUSTOMER = "11111111-1111-4111-8111-111111111111"
CONFIG = load_triage(REPO / "policy" / "triage.toml")


def _case(severity: Severity, category: Category = Category.PAYMENT_FRAUD) -> Case:
    report = FraudReport(
        customer_id=CUSTOMER,
        category=category,
        severity=severity,
        source="monitor",
        reporter="risk",
        description="suspicious",
    )
    return open_case(
        report, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "r1", AT, customer_known=True, limits=MergeLimits()
    )[0]


def _decide(case: Case, facts: CustomerFacts | None = None, *, dry_run: bool = False, in_place: bool = False):
    return triage(
        case,
        facts or CustomerFacts(known=True),
        CONFIG,
        at=AT,
        today=AT.date(),
        dry_run=dry_run,
        hold_in_place=in_place,
    )


def test_critical_holds_at_once_and_names_the_rule_and_version() -> None:
    decision = _decide(_case(Severity.CRITICAL))
    assert decision.action is TriageAction.HOLD
    assert decision.rule == "critical-hold"
    assert "critical-hold" in decision.explanation
    assert decision.triage_version == CONFIG.label
    assert "#" in CONFIG.label


def test_high_crypto_mining_holds_but_other_high_goes_to_review() -> None:
    assert _decide(_case(Severity.HIGH, Category.CRYPTO_MINING)).rule == "high-crypto-mining"
    review = _decide(_case(Severity.HIGH, Category.SPAM_PHISHING))
    assert review.action is TriageAction.REVIEW
    assert review.rule == "high-review"


def test_high_report_about_a_young_customer_holds() -> None:
    young = CustomerFacts(known=True, customer_since=AT.date() - timedelta(days=5))
    old = CustomerFacts(known=True, customer_since=date(2020, 1, 1))
    assert _decide(_case(Severity.HIGH), young).rule == "high-new-customer"
    assert _decide(_case(Severity.HIGH), old).action is TriageAction.REVIEW
    assert _decide(_case(Severity.HIGH), CustomerFacts()).action is TriageAction.REVIEW


@pytest.mark.parametrize("severity", [Severity.LOW, Severity.MEDIUM])
def test_lower_severities_go_to_review(severity: Severity) -> None:
    decision = _decide(_case(severity))
    assert decision.action is TriageAction.REVIEW
    assert decision.rule == "default"


def test_protected_customer_gets_an_alert_not_a_hold() -> None:
    decision = _decide(_case(Severity.CRITICAL), CustomerFacts(known=True, protected=True))
    assert decision.action is TriageAction.ALERT
    assert "protected" in decision.explanation


def test_dry_run_records_would_hold() -> None:
    decision = _decide(_case(Severity.CRITICAL), dry_run=True)
    assert decision.action is TriageAction.HOLD
    assert decision.dry_run is True
    assert "would place" in decision.explanation


def test_hold_already_in_place_does_nothing_new() -> None:
    assert _decide(_case(Severity.CRITICAL), in_place=True).action is TriageAction.NONE


@given(
    severity=st.sampled_from(list(Severity)),
    category=st.sampled_from(list(Category)),
    age_days=st.one_of(st.none(), st.integers(min_value=0, max_value=5000)),
    dry_run=st.booleans(),
    in_place=st.booleans(),
)
def test_property_a_protected_customer_never_gets_an_automatic_hold(
    severity: Severity, category: Category, age_days: int | None, dry_run: bool, in_place: bool
) -> None:
    since = None if age_days is None else AT.date() - timedelta(days=age_days)
    facts = CustomerFacts(known=True, protected=True, customer_since=since)
    decision = _decide(_case(severity, category), facts, dry_run=dry_run, in_place=in_place)
    assert decision.action is not TriageAction.HOLD


def test_invalid_files_are_refused_with_the_path_of_each_problem() -> None:
    with pytest.raises(TriageConfigError, match=r"rules\.0\.severities"):
        parse_triage('version = "1"\n[[rules]]\nname = "a"\nseverities = ["urgent"]\naction = "hold"\n')
    with pytest.raises(TriageConfigError, match="used twice"):
        parse_triage(
            'version = "1"\n'
            '[[rules]]\nname = "a"\nseverities = ["low"]\naction = "hold"\n'
            '[[rules]]\nname = "a"\nseverities = ["high"]\naction = "review"\n'
        )
    with pytest.raises(TriageConfigError, match="action"):
        parse_triage('version = "1"\n[[rules]]\nname = "a"\nseverities = ["low"]\naction = "alert"\n')
    with pytest.raises(TriageConfigError, match="Extra inputs"):
        parse_triage(
            'version = "1"\nsurprise = 1\n[[rules]]\nname = "a"\nseverities = ["low"]\naction = "hold"\n'
        )
    with pytest.raises(TriageConfigError, match="not valid TOML"):
        parse_triage("version = ")


def test_the_version_hash_changes_with_the_file() -> None:
    text = 'version = "1"\n[[rules]]\nname = "a"\nseverities = ["low"]\naction = "hold"\n'
    assert parse_triage(text).label != parse_triage(text + "# edited\n").label


def test_case_status_helpers() -> None:
    assert CaseStatus.OPEN.active and CaseStatus.INVESTIGATING.active
    assert not CaseStatus.CONFIRMED.active and not CaseStatus.DISMISSED.active
