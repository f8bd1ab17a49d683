"""The 21Vianet service-request draft is one a person can file as it stands: every report
summarised, no English word of ours in the zh-CN text, the timeline in order and in local time
with the zone named, sentences punctuated, and the ticket state following the case."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shared.domain.fraud import (
    Case,
    CaseStatus,
    Category,
    Evidence,
    FraudReport,
    MergeLimits,
    Resolution,
    Severity,
    TriageAction,
    TriageDecision,
    join_case,
    new_case_id,
    open_case,
    record_decision,
)
from shared.domain.service_request import ServiceRequestDraft, TicketState, build_draft, following_case

AT = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
CUSTOMER = "11111111-1111-4111-8111-111111111111"
SUB = "aaaaaaaa-0000-4000-8000-000000000001"
LIMITS = MergeLimits(escalate_after_reports=1000)


def report(
    severity: Severity, description: str, *, source: str = "风控系统", kind: str = "order"
) -> FraudReport:
    return FraudReport(
        customer_id=CUSTOMER,
        subscription_ids=[SUB],
        category=Category.PAYMENT_FRAUD,
        severity=severity,
        source=source,
        reporter="风控组",
        description=description,
        evidence=[Evidence(kind=kind, value="订单 1001")],
    )


def decision(at: datetime, action: TriageAction, severity: Severity) -> TriageDecision:
    return TriageDecision(
        action=action,
        rule="critical-hold",
        explanation="critical reports hold at once",
        severity=severity,
        triage_version="t1",
        decided_at=at,
    )


def chargebacks_then_a_medium_report() -> Case:
    """A critical "three chargebacks in one hour", then a later medium report (the field case)."""
    case, _ = open_case(
        report(Severity.CRITICAL, "一小时内三笔拒付"),
        new_case_id(AT),
        "r0",
        AT,
        customer_known=True,
        limits=LIMITS,
    )
    case = record_decision(case, decision(AT + timedelta(seconds=1), TriageAction.HOLD, Severity.CRITICAL))
    later = AT + timedelta(hours=2)
    case, _ = join_case(case, report(Severity.MEDIUM, "登录地点异常"), "r1", later, limits=LIMITS)
    return record_decision(case, decision(later + timedelta(seconds=1), TriageAction.NONE, Severity.CRITICAL))


def draft_of(case: Case, zone: str = "Asia/Shanghai") -> ServiceRequestDraft:
    evidence = [Evidence(kind="order", value="订单 1001"), Evidence(kind="ip", value="10.0.0.8")]
    return build_draft(
        case, evidence, customer_name="上海示例科技有限公司", at=AT, prepared_by="风控组", time_zone=zone
    )


def english_words(text: str, case: Case) -> list[str]:
    """Latin-letter words left once ids, the tenant, subscriptions and the 21Vianet severity
    letter are taken out (what reporters wrote is Chinese in these tests)."""
    for known in (case.case_id, case.customer_id, SUB, "UTC"):
        text = text.replace(known, " ")
    return [w for w in re.findall(r"[A-Za-z]+", text) if w not in ("A", "B", "C")]


def zh_texts(draft: ServiceRequestDraft) -> list[str]:
    zh = draft.zh_cn
    return [zh.title, zh.description, zh.severity, *zh.timeline, *zh.evidence_summary]


def test_every_report_is_summarised_the_critical_one_is_not_hidden_by_a_later_medium_one() -> None:
    case = chargebacks_then_a_medium_report()
    draft = draft_of(case)
    assert "一小时内三笔拒付" in draft.zh_cn.description and "一小时内三笔拒付" in draft.en.description
    assert "2 report(s)" in draft.en.description and "1 critical, 1 medium" in draft.en.description
    assert "按严重程度：严重1份、中1份。" in draft.zh_cn.description
    assert sum("登录地点异常" in line for line in draft.zh_cn.timeline) == 1  # the later one too


def test_the_most_severe_report_survives_when_later_reports_push_it_out_of_the_recent_ones() -> None:
    case = chargebacks_then_a_medium_report()
    for i in range(2, 30):
        case, _ = join_case(
            case,
            report(Severity.LOW, f"例行提醒 {i}"),
            f"r{i}",
            AT + timedelta(hours=3, minutes=i),
            limits=LIMITS,
        )
    assert all(r.severity is not Severity.CRITICAL for r in case.reports)  # pushed out of the recent ones
    draft = draft_of(case)
    assert "一小时内三笔拒付" in draft.zh_cn.description
    assert "30 report(s)" in draft.en.description and "1 critical" in draft.en.description


def test_the_zh_cn_text_has_no_english_word_of_ours() -> None:
    case = chargebacks_then_a_medium_report()
    case = case.model_copy(
        update={
            "status": CaseStatus.DISMISSED,
            "resolution": Resolution(
                outcome=CaseStatus.DISMISSED,
                note="误报",
                resolved_by="风控组",
                resolved_at=AT + timedelta(hours=5),
            ),
        }
    )
    draft = draft_of(case)
    for text in zh_texts(draft):
        assert english_words(text, case) == [], text
    assert "critical" not in draft.zh_cn.description and "hold" not in "".join(draft.zh_cn.timeline)


def test_the_timeline_is_in_order_in_local_time_with_the_zone_named() -> None:
    case = chargebacks_then_a_medium_report()
    draft = draft_of(case)
    assert draft.zh_cn.timeline[0].startswith("2026-11-25 09:30（北京时间）")  # 01:30 UTC
    assert draft.en.timeline[0].startswith("2026-11-25 09:30 (Asia/Shanghai, UTC+08:00)")
    stamps = [line[:16] for line in draft.en.timeline]
    assert stamps == sorted(stamps) and len(stamps) == 5  # opened, 2 reports, 2 decisions
    elsewhere = draft_of(case, zone="America/Vancouver")
    assert elsewhere.en.timeline[0].startswith("2026-11-24 17:30 (America/Vancouver, UTC-08:00)")
    assert "世界协调时间-08:00" in elsewhere.zh_cn.timeline[0]


def test_sentences_are_punctuated() -> None:
    draft = draft_of(chargebacks_then_a_medium_report())
    assert draft.zh_cn.description.endswith("。") and draft.en.description.endswith(".")
    assert all(line.endswith("。") for line in draft.zh_cn.timeline)
    assert all(line.endswith(".") for line in draft.en.timeline)
    assert "。。" not in draft.zh_cn.description and ".." not in draft.en.description


def test_the_ticket_state_follows_the_case() -> None:
    case = chargebacks_then_a_medium_report()
    filed = draft_of(case).model_copy(
        update={"ticket_number": "SR-2026-1", "ticket_state": TicketState.FILED}
    )
    assert following_case(filed, case).ticket_state is TicketState.FILED
    dismissed = case.model_copy(update={"status": CaseStatus.DISMISSED})
    withdrawn = following_case(filed, dismissed)
    assert withdrawn.ticket_state is TicketState.WITHDRAWN
    assert withdrawn.ticket_advice and "SR-2026-1" in withdrawn.ticket_advice
    assert withdrawn.ticket_advice_zh and "SR-2026-1" in withdrawn.ticket_advice_zh
    never_filed = following_case(draft_of(case), dismissed)
    assert never_filed.ticket_state is TicketState.WITHDRAWN and "请勿提交" in (
        never_filed.ticket_advice_zh or ""
    )
    closed = filed.model_copy(update={"ticket_state": TicketState.CLOSED})
    assert following_case(closed, dismissed).ticket_state is TicketState.CLOSED
    confirmed = case.model_copy(update={"status": CaseStatus.CONFIRMED})
    assert following_case(filed, confirmed).ticket_state is TicketState.FILED
