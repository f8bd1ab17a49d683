"""Case merging, report validation, dismissal and service-request drafts (pure; no storage)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.adapters.tables import to_entity
from shared.domain.fraud import (
    MAX_EVIDENCE_PER_CASE,
    Case,
    Category,
    Evidence,
    FraudReport,
    MergeLimits,
    Severity,
    TriageAction,
    TriageDecision,
    holds_lifted_by_dismissal,
    is_case_id,
    join_case,
    new_case_id,
    normalise_case_id,
    open_case,
    record_decision,
)
from shared.domain.holds import NON_PAYMENT_HOLD_ID, Hold, HoldReason, fraud_hold_id
from shared.domain.service_request import build_draft
from shared.errors import Unauthorized
from shared.services.fraud.signatures import verify_signature

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CUSTOMER = "11111111-1111-4111-8111-111111111111"
LIMITS = MergeLimits(escalate_after_reports=3, escalate_window=timedelta(hours=24))


def _report(severity: Severity = Severity.LOW, evidence: int = 1, **extra) -> FraudReport:
    return FraudReport(
        customer_id=CUSTOMER,
        category=Category.PAYMENT_FRAUD,
        severity=severity,
        source="monitor",
        reporter="risk",
        description="suspicious orders",
        evidence=[Evidence(kind="ip", value=f"10.0.0.{i}") for i in range(evidence)],
        **extra,
    )


def _open(severity: Severity = Severity.LOW) -> Case:
    case, _ = open_case(_report(severity), new_case_id(AT), "r0", AT, customer_known=True, limits=LIMITS)
    return case


def test_joining_counts_hits_unions_subscriptions_and_keeps_the_highest_severity() -> None:
    sub = "aaaaaaaa-0000-4000-8000-000000000001"
    case = _open(Severity.HIGH)
    merged, kept = join_case(case, _report(Severity.LOW, subscription_ids=[sub]), "r1", AT, limits=LIMITS)
    assert merged.hit_count == 2
    assert merged.severity is Severity.HIGH
    assert merged.subscription_ids == [sub]
    assert merged.report_ids == ["r0", "r1"]
    assert len(kept) == 1 and merged.evidence_count == 2


def test_n_reports_in_the_window_raise_severity_one_step() -> None:
    case = _open(Severity.LOW)
    case, _ = join_case(case, _report(), "r1", AT + timedelta(hours=1), limits=LIMITS)
    assert case.severity is Severity.LOW
    case, _ = join_case(case, _report(), "r2", AT + timedelta(hours=2), limits=LIMITS)
    assert case.severity is Severity.MEDIUM
    assert case.severity_escalations == 1


def test_reports_outside_the_window_do_not_escalate() -> None:
    case = _open(Severity.LOW)
    case, _ = join_case(case, _report(), "r1", AT + timedelta(hours=30), limits=LIMITS)
    case, _ = join_case(case, _report(), "r2", AT + timedelta(hours=60), limits=LIMITS)
    assert case.severity is Severity.LOW


def test_critical_stays_critical() -> None:
    assert Severity.CRITICAL.raised() is Severity.CRITICAL
    assert Severity.LOW.raised() is Severity.MEDIUM


def test_evidence_is_capped_per_case_and_the_rest_counted() -> None:
    case = _open()
    for i in range(10):
        case, _ = join_case(
            case, _report(evidence=20), f"r{i + 1}", AT, limits=MergeLimits(escalate_after_reports=1000)
        )
    assert case.evidence_count == MAX_EVIDENCE_PER_CASE
    assert case.evidence_dropped == 1 + 10 * 20 - MAX_EVIDENCE_PER_CASE


@given(st.lists(st.sampled_from(list(Severity)), min_size=1, max_size=12))
def test_property_severity_never_goes_down(severities: list[Severity]) -> None:
    case = _open(severities[0])
    for i, severity in enumerate(severities[1:]):
        before = case.severity
        case, _ = join_case(case, _report(severity), f"r{i}", AT + timedelta(minutes=i), limits=LIMITS)
        assert case.severity.rank >= max(before.rank, severity.rank)
    assert case.hit_count == len(severities)


def test_a_hold_decision_moves_the_case_to_investigating() -> None:
    decision = TriageDecision(
        action=TriageAction.HOLD,
        rule="critical-hold",
        explanation="x",
        severity=Severity.CRITICAL,
        triage_version="1",
        decided_at=AT,
    )
    case = record_decision(_open(Severity.CRITICAL), decision)
    assert case.status.value == "investigating" and case.hold_decided
    dry = record_decision(_open(Severity.CRITICAL), decision.model_copy(update={"dry_run": True}))
    assert not dry.hold_decided


_holds = st.lists(
    st.builds(
        Hold,
        hold_id=st.sampled_from([NON_PAYMENT_HOLD_ID, "manual-1", "manual-2", fraud_hold_id("OTHERCASE")]),
        reason=st.sampled_from(list(HoldReason)),
        placed_at=st.just(AT),
        placed_by=st.just("x"),
    ),
    max_size=6,
)


@given(holds=_holds, own=st.booleans())
def test_property_dismissing_never_lifts_a_non_payment_manual_or_other_case_hold(
    holds: list[Hold], own: bool
) -> None:
    case_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    if own:
        holds = [
            *holds,
            Hold(hold_id=fraud_hold_id(case_id), reason=HoldReason.FRAUD, placed_at=AT, placed_by="x"),
        ]
    lifted = holds_lifted_by_dismissal(case_id, holds)
    assert all(h.reason is HoldReason.FRAUD and h.hold_id == fraud_hold_id(case_id) for h in lifted)
    assert len(lifted) == (1 if own else 0)


def test_case_ids_sort_by_time_and_parse_case_insensitively() -> None:
    first, later = new_case_id(AT), new_case_id(AT + timedelta(seconds=1))
    assert first < later and is_case_id(first)
    assert normalise_case_id(first.lower()) == first
    with pytest.raises(ValueError):
        normalise_case_id("' or 1 eq 1")


@pytest.mark.parametrize(
    "change",
    [
        {"customer_id": "not-a-guid"},
        {"subscription_ids": ["x"]},
        {"category": "theft"},
        {"severity": "urgent"},
        {"description": "x" * 4001},
        {"description": "bell\x07"},
        {"evidence": [{"kind": "ip", "value": "v" * 2001}]},
        {"evidence": [{"kind": "ip", "value": "v"}] * 21},
        {"surprise": 1},
        {"occurred_at": "2026-11-25T09:00:00"},
    ],
)
def test_reports_are_validated(change: dict) -> None:
    body = _report().model_dump(mode="json") | change
    with pytest.raises(ValidationError):
        FraudReport.model_validate(body)


def test_signatures() -> None:
    body = b'{"a":1}'
    secrets = {"mon": "s" * 20}
    good = "sha256=" + hmac.new(b"s" * 20, body, hashlib.sha256).hexdigest()
    for machine in (True, False):
        verify_signature(body, "mon", good, secrets, machine=machine)
        verify_signature(body, "mon", None, {}, machine=machine)  # off
    verify_signature(body, None, None, secrets, machine=False)  # a signed-in person
    non_ascii = "sha256=" + "\u00e9" * 64  # a header decoded as Latin-1: 401, not a TypeError (500)
    refused = [("mon", None), ("mon", "sha256=00"), ("x", good), (None, good), ("mon", non_ascii)]
    for sender, signature in refused:
        for machine in (True, False):
            with pytest.raises(Unauthorized):
                verify_signature(body, sender, signature, secrets, machine=machine)


def test_an_unsigned_machine_is_refused_once_secrets_are_set() -> None:
    body = b'{"a":1}'
    with pytest.raises(Unauthorized, match="machine senders"):
        verify_signature(body, None, None, {"mon": "s" * 20}, machine=True)
    verify_signature(body, None, None, {}, machine=True)  # signatures off: the caller's identity only


def test_bilingual_draft_names_tenant_subscriptions_and_evidence() -> None:
    sub = "aaaaaaaa-0000-4000-8000-000000000001"
    case, kept = open_case(
        _report(Severity.HIGH, subscription_ids=[sub]),
        new_case_id(AT),
        "r0",
        AT,
        customer_known=True,
        limits=LIMITS,
    )
    draft = build_draft(case, kept, customer_name="上海示例科技有限公司", at=AT, prepared_by="risk")
    assert CUSTOMER in draft.en.title and CUSTOMER in draft.zh_cn.title
    assert sub in draft.en.description and sub in draft.zh_cn.description
    assert draft.en.evidence_summary == ["ip: 10.0.0.0"]
    assert draft.severity is Severity.HIGH and draft.en.severity.startswith("B")
    assert "21Vianet" in draft.where_to_file
    assert draft.model_dump(by_alias=True)["zh-CN"]["title"] == draft.zh_cn.title


def test_a_case_row_stays_storable_however_large_its_reports() -> None:
    """Every report at its limits (100 subscriptions, long text full of characters JSON escapes):
    the case row still fits Table storage, so later reports keep joining instead of a 422."""
    subs = [f"{i:08x}-0000-4000-8000-000000000001" for i in range(100)]
    limits = MergeLimits(escalate_after_reports=1000)
    big = _report(subscription_ids=subs).model_copy(
        update={"source": '"' * 100, "reporter": '"' * 200, "description": "\U0001f600" * 4000}
    )
    case, _ = open_case(big, new_case_id(AT), "r0", AT, customer_known=True, limits=limits)
    for i in range(1, 30):
        case, _ = join_case(case, big, f"r{i}", AT + timedelta(seconds=i), limits=limits)
        to_entity(case, CUSTOMER, case.case_id)  # raises EntityRefused when a property is too large
    assert case.hit_count == 30 and len(case.subscription_ids) == 100
    assert case.reports[-1].report_id == "r29"
