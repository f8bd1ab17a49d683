"""The service-request draft for 21Vianet, in zh-CN and en (pure).

The 21Vianet instance of Partner Center has no service-request API (the create API was
decommissioned in 2020 and "service requests don't apply" there), so a person files the draft
in the 21Vianet partner support portal and records the ticket number it gets back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.fraud import Case, Evidence, Severity, Text
from shared.domain.identity import ClaimedActor

WHERE_TO_FILE = (
    "Partner Center operated by 21Vianet -> Help/Support (支持) -> 新建服务请求 / New service request "
    "(the 21Vianet partner support portal). No API: service requests are filed by a person."
)
WHERE_TO_FILE_ZH = (
    "世纪互联运营的合作伙伴中心 -> 支持 -> 新建服务请求（世纪互联合作伙伴支持门户）。"
    + "无 API，需人工提交。"
)

_SEVERITY_EN = {
    Severity.LOW: "C (low impact)",
    Severity.MEDIUM: "C (moderate impact)",
    Severity.HIGH: "B (high impact)",
    Severity.CRITICAL: "A (critical impact)",
}
_SEVERITY_ZH = {
    Severity.LOW: "C（影响较小）",
    Severity.MEDIUM: "C（中等影响）",
    Severity.HIGH: "B（影响较大）",
    Severity.CRITICAL: "A（严重影响）",
}
_CATEGORY_ZH = {
    "payment_fraud": "支付欺诈",
    "account_compromise": "账户被盗用",
    "crypto_mining": "加密货币挖矿",
    "resource_abuse": "资源滥用",
    "spam_phishing": "垃圾邮件/网络钓鱼",
    "policy_violation": "违反使用政策",
    "other": "其他可疑活动",
}
EVIDENCE_SUMMARY_ITEMS = 20
EVIDENCE_SUMMARY_CHARS = 200


class DraftText(BaseModel):
    """One language's draft."""

    title: str
    description: str
    severity: str
    timeline: list[str]
    evidence_summary: list[str]


class TicketState(StrEnum):
    DRAFT = "draft"
    FILED = "filed"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ServiceRequestDraft(BaseModel):
    """What `POST .../escalation` stores on the case and returns."""

    case_id: str
    customer_tenant_id: str
    customer_name: str | None = None
    subscription_ids: list[str]
    severity: Severity
    zh_cn: DraftText = Field(serialization_alias="zh-CN")
    en: DraftText
    where_to_file: str = WHERE_TO_FILE
    where_to_file_zh: str = WHERE_TO_FILE_ZH
    prepared_at: datetime
    prepared_by: str
    prepared_by_id: str | None = None
    ticket_updated_by: str | None = None
    ticket_number: str | None = None
    ticket_state: TicketState = TicketState.DRAFT
    ticket_updated_at: datetime | None = None
    ticket_note: str | None = None


class EscalationRequest(BaseModel):
    """Body of `POST .../escalation` (optional)."""

    model_config = ConfigDict(extra="forbid")

    prepared_by: ClaimedActor = Field(default=None, exclude=True)


class TicketUpdate(BaseModel):
    """Body of `PATCH .../escalation`: the ticket number 21Vianet gave, and its state."""

    model_config = ConfigDict(extra="forbid")

    ticket_number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
    state: TicketState = TicketState.FILED
    note: Text = Field(default="", max_length=2000)
    updated_by: ClaimedActor = Field(default=None, exclude=True)


def _evidence_lines(evidence: list[Evidence]) -> list[str]:
    lines = []
    for item in evidence[:EVIDENCE_SUMMARY_ITEMS]:
        value = (
            item.value
            if len(item.value) <= EVIDENCE_SUMMARY_CHARS
            else item.value[:EVIDENCE_SUMMARY_CHARS] + "…"
        )
        lines.append(f"{item.kind}: {value}")
    return lines


def build_draft(
    case: Case,
    evidence: list[Evidence],
    *,
    customer_name: str | None,
    at: datetime,
    prepared_by: str,
) -> ServiceRequestDraft:
    """The bilingual draft of a service request about a case's suspicious activity."""
    subs = case.subscription_ids
    subs_text = ", ".join(subs) if subs else "-"
    who = customer_name or case.customer_id
    category_zh = _CATEGORY_ZH.get(case.category.value, case.category.value)
    timeline_en = [f"{case.opened_at.isoformat()} case opened ({case.category.value})"]
    timeline_zh = [f"{case.opened_at.isoformat()} 创建案例（{category_zh}）"]
    for report in case.reports:
        occurred = f", occurred {report.occurred_at.isoformat()}" if report.occurred_at else ""
        timeline_en.append(
            f"{report.received_at.isoformat()} report from {report.source}"
            f" ({report.severity.value}{occurred})"
        )
        occurred_zh = f"，发生于 {report.occurred_at.isoformat()}" if report.occurred_at else ""
        timeline_zh.append(
            f"{report.received_at.isoformat()} 收到来自 {report.source} 的报告"
            f"（{report.severity.value}{occurred_zh}）"
        )
    for decision in case.decisions:
        timeline_en.append(f"{decision.decided_at.isoformat()} triage: {decision.explanation}")
        timeline_zh.append(
            f"{decision.decided_at.isoformat()} 分诊：{decision.action.value}（规则 {decision.rule}）"
        )
    latest = case.reports[-1].description if case.reports else ""
    lines = _evidence_lines(evidence)
    en = DraftText(
        title=f"Suspicious activity ({case.category.value}) on customer tenant {case.customer_id}",
        description=(
            f"We are the CSP partner of {who} (tenant {case.customer_id}). We received "
            f"{case.hit_count} report(s) of {case.category.value.replace('_', ' ')} about this customer "
            f"(case {case.case_id}, severity {case.severity.value}). Affected subscriptions: {subs_text}. "
            f"Latest report: {latest} Please investigate the activity and advise on the next steps."
        ),
        severity=_SEVERITY_EN[case.severity],
        timeline=timeline_en,
        evidence_summary=lines,
    )
    zh = DraftText(
        title=f"客户租户 {case.customer_id} 存在可疑活动（{category_zh}）",
        description=(
            f"我们是 {who}（租户 {case.customer_id}）的云解决方案提供商合作伙伴。"
            f"我们共收到 {case.hit_count} 份"
            f"关于该客户{category_zh}的报告（案例 {case.case_id}，严重程度 {case.severity.value}）。"
            f"涉及的订阅：{subs_text}。最新报告：{latest} 请协助调查上述活动并告知后续处理建议。"
        ),
        severity=_SEVERITY_ZH[case.severity],
        timeline=timeline_zh,
        evidence_summary=lines,
    )
    return ServiceRequestDraft(
        case_id=case.case_id,
        customer_tenant_id=case.customer_id,
        customer_name=customer_name,
        subscription_ids=subs,
        severity=case.severity,
        zh_cn=zh,
        en=en,
        prepared_at=at,
        prepared_by=prepared_by,
    )
