"""The service-request draft for 21Vianet, in zh-CN and en (pure).

The 21Vianet instance of Partner Center has no service-request API (the create API was
decommissioned in 2020 and "service requests don't apply" there), so a person files the draft
in the 21Vianet partner support portal and records the ticket number it gets back.

The draft is one a person can file as it stands: it summarises every report of the case (counts
by severity, the most severe one, then each recent one), its timeline is in order and in the
partner's local time with the zone named, the zh-CN text carries no English word of ours (what
reporters wrote is quoted as they wrote it, in 「」), sentences end punctuated, and the ticket
state follows the case (a dismissed case's ticket is to be withdrawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.fraud import Case, CaseStatus, Evidence, ReportSummary, Severity, Text, TriageAction
from shared.domain.identity import ClaimedActor

WHERE_TO_FILE = (
    "Partner Center operated by 21Vianet -> Help/Support (支持) -> 新建服务请求 / New service request "
    "(the 21Vianet partner support portal). No API: service requests are filed by a person."
)
WHERE_TO_FILE_ZH = (
    "世纪互联运营的合作伙伴中心 -> 支持 -> 新建服务请求（世纪互联合作伙伴支持门户）。无接口，需人工提交。"
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
SEVERITY_WORD_ZH = {Severity.LOW: "低", Severity.MEDIUM: "中", Severity.HIGH: "高", Severity.CRITICAL: "严重"}
_ACTION_EN = {
    TriageAction.HOLD: "suspend the subscriptions while investigating",
    TriageAction.REVIEW: "review by a person",
    TriageAction.ALERT: "alert only (the customer is protected)",
    TriageAction.NONE: "nothing new",
}
_ACTION_ZH = {
    TriageAction.HOLD: "调查期间暂停订阅",
    TriageAction.REVIEW: "转人工审核",
    TriageAction.ALERT: "仅告警（该客户受保护，未暂停）",
    TriageAction.NONE: "无新的处理",
}
_CATEGORY_ZH = {
    "payment_fraud": "支付欺诈",
    "account_compromise": "账户被盗用",
    "crypto_mining": "加密货币挖矿",
    "resource_abuse": "资源滥用",
    "spam_phishing": "垃圾邮件或网络钓鱼",
    "policy_violation": "违反使用政策",
    "other": "其他可疑活动",
}
_ZONE_ZH = {
    "Asia/Shanghai": "北京时间",
    "Asia/Chongqing": "北京时间",
    "Asia/Urumqi": "乌鲁木齐时间",
    "Asia/Hong_Kong": "香港时间",
    "Asia/Macau": "澳门时间",
    "Asia/Taipei": "台北时间",
    "Asia/Tokyo": "东京时间",
    "Asia/Seoul": "首尔时间",
    "Asia/Singapore": "新加坡时间",
    "UTC": "协调世界时",
    "Etc/UTC": "协调世界时",
}
EVIDENCE_SUMMARY_ITEMS = 20
EVIDENCE_SUMMARY_CHARS = 200
QUOTE_CHARS = 300


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
    WITHDRAWN = "withdrawn"  # the case was dismissed: the request is to be withdrawn (or not filed)


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
    time_zone: str = "Asia/Shanghai"
    prepared_at: datetime
    prepared_by: str
    prepared_by_id: str | None = None
    ticket_updated_by: str | None = None
    ticket_number: str | None = None
    ticket_state: TicketState = TicketState.DRAFT
    ticket_updated_at: datetime | None = None
    ticket_note: str | None = None
    ticket_advice: str | None = None
    ticket_advice_zh: str | None = None


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


def following_case(draft: ServiceRequestDraft, case: Case) -> ServiceRequestDraft:
    """The draft as the case now stands: a dismissed case's request is no longer `filed` (nor
    to be filed): it is to be withdrawn; a confirmed case's stays as the person recorded it."""
    open_states = (TicketState.DRAFT, TicketState.FILED, TicketState.IN_PROGRESS)
    if case.status is not CaseStatus.DISMISSED or draft.ticket_state not in open_states:
        return draft
    filed = draft.ticket_number is not None
    return draft.model_copy(
        update={
            "ticket_state": TicketState.WITHDRAWN,
            "ticket_advice": (
                f"The case was dismissed: withdraw service request {draft.ticket_number} "
                "in the 21Vianet portal."
                if filed
                else "The case was dismissed: do not file this service request."
            ),
            "ticket_advice_zh": (
                f"该案例已撤销，请在世纪互联支持门户撤回服务请求 {draft.ticket_number}。"
                if filed
                else "该案例已撤销，请勿提交此服务请求。"
            ),
        }
    )


@dataclass(frozen=True)
class _Clock:
    """Local time with the zone named, in both languages."""

    zone: ZoneInfo

    def offset(self, at: datetime) -> str:
        delta = at.astimezone(self.zone).utcoffset() or timedelta(0)
        minutes = int(delta.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def en(self, at: datetime) -> str:
        local = at.astimezone(self.zone)
        return f"{local:%Y-%m-%d %H:%M} ({self.zone.key}, UTC{self.offset(at)})"

    def zh(self, at: datetime) -> str:
        local = at.astimezone(self.zone)
        name = _ZONE_ZH.get(self.zone.key) or f"世界协调时间{self.offset(at)}"
        return f"{local:%Y-%m-%d %H:%M}（{name}）"


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "…"


_EVIDENCE_KIND_ZH = {
    "ip": "网络地址",
    "url": "网址",
    "domain": "域名",
    "log": "日志",
    "order": "订单",
    "transaction": "交易",
    "payment": "付款",
    "card": "银行卡",
    "email": "电子邮件",
    "account": "账户",
    "user": "用户",
    "screenshot": "截图",
    "file": "文件",
    "other": "其他",
}


def _evidence_value(item: Evidence) -> str:
    value = item.value
    return value if len(value) <= EVIDENCE_SUMMARY_CHARS else value[:EVIDENCE_SUMMARY_CHARS] + "…"


def _evidence_lines(evidence: list[Evidence]) -> list[str]:
    return [f"{item.kind}: {_evidence_value(item)}" for item in evidence[:EVIDENCE_SUMMARY_ITEMS]]


def _evidence_lines_zh(evidence: list[Evidence]) -> list[str]:
    """The kind in Chinese where it is a common one (else quoted as given), the value quoted."""
    lines = []
    for item in evidence[:EVIDENCE_SUMMARY_ITEMS]:
        kind = _EVIDENCE_KIND_ZH.get(item.kind.strip().lower(), f"「{item.kind}」")
        lines.append(f"{kind}：「{_evidence_value(item)}」")
    return lines


def _counts(case: Case) -> tuple[str, str]:
    counts = case.counts_by_severity()
    order = sorted(counts, key=lambda s: -s.rank)
    en = ", ".join(f"{counts[s]} {s.value}" for s in order)
    zh = "、".join(f"{SEVERITY_WORD_ZH[s]}{counts[s]}份" for s in order)
    return en, zh


def _report_en(clock: _Clock, report: ReportSummary) -> str:
    occurred = f", occurred {clock.en(report.occurred_at)}" if report.occurred_at else ""
    return (
        f"{clock.en(report.received_at)}: report from {report.source}, severity {report.severity.value}"
        f"{occurred}: “{_quote(report.description)}”."
    )


def _report_zh(clock: _Clock, report: ReportSummary) -> str:
    occurred = f"，发生于{clock.zh(report.occurred_at)}" if report.occurred_at else ""
    return (
        f"{clock.zh(report.received_at)}：收到来自「{report.source}」的报告，严重程度为{SEVERITY_WORD_ZH[report.severity]}"
        f"{occurred}，内容：「{_quote(report.description)}」。"
    )


def _timeline(case: Case, clock: _Clock, category_zh: str) -> tuple[list[str], list[str]]:
    """Every event of the case in order of time, in local time with the zone named."""
    events: list[tuple[datetime, int, str, str]] = [
        (
            case.opened_at,
            0,
            f"{clock.en(case.opened_at)}: case opened ({case.category.value.replace('_', ' ')}).",
            f"{clock.zh(case.opened_at)}：创建案例（{category_zh}）。",
        ),
    ]
    reports = {r.report_id: r for r in (*case.reports, case.most_severe) if r is not None}
    for report in reports.values():
        events.append((report.received_at, 1, _report_en(clock, report), _report_zh(clock, report)))
    for decision in case.decisions:
        events.append(
            (
                decision.decided_at,
                2,
                f"{clock.en(decision.decided_at)}: triage: {_ACTION_EN[decision.action]} "
                f"(rule {decision.rule}): {decision.explanation.rstrip('.')}.",
                f"{clock.zh(decision.decided_at)}：分诊结论：{_ACTION_ZH[decision.action]}"
                f"（严重程度为{SEVERITY_WORD_ZH[decision.severity]}）。",
            )
        )
    if case.resolution is not None:
        at = case.resolution.resolved_at
        outcome_zh = "确认欺诈" if case.resolution.outcome is CaseStatus.CONFIRMED else "撤销"
        events.append(
            (
                at,
                3,
                f"{clock.en(at)}: case {case.resolution.outcome.value}.",
                f"{clock.zh(at)}：案例已{outcome_zh}。",
            )
        )
    events.sort(key=lambda e: (e[0], e[1]))
    return [e[2] for e in events], [e[3] for e in events]


def build_draft(
    case: Case,
    evidence: list[Evidence],
    *,
    customer_name: str | None,
    at: datetime,
    prepared_by: str,
    time_zone: str = "Asia/Shanghai",
) -> ServiceRequestDraft:
    """The bilingual draft of a service request about a case's suspicious activity."""
    clock = _Clock(ZoneInfo(time_zone))
    subs = case.subscription_ids
    subs_text = ", ".join(subs) if subs else "-"
    subs_text_zh = "、".join(subs) if subs else "未指明"
    who = customer_name or case.customer_id
    category_zh = _CATEGORY_ZH.get(case.category.value, "其他可疑活动")
    timeline_en, timeline_zh = _timeline(case, clock, category_zh)
    counts_en, counts_zh = _counts(case)
    received = sorted(r.received_at for r in case.reports) or [case.opened_at]
    first, last = received[0], max(received[-1], case.updated_at)
    worst = case.worst_report()
    worst_en = worst_zh = ""
    if worst is not None:
        worst_en = (
            f" The most severe ({worst.severity.value}) came from {worst.source} "
            f"at {clock.en(worst.received_at)}: "
            f"“{_quote(worst.description)}”."
        )
        worst_zh = (
            f"其中最严重的一份（严重程度为{SEVERITY_WORD_ZH[worst.severity]}）于{clock.zh(worst.received_at)}"
            f"来自「{worst.source}」：「{_quote(worst.description)}」。"
        )
    en = DraftText(
        title=(
            f"Suspicious activity ({case.category.value.replace('_', ' ')}) "
            f"on customer tenant {case.customer_id}"
        ),
        description=(
            f"We are the CSP partner of {who} (tenant {case.customer_id}). Between {clock.en(first)} and "
            f"{clock.en(last)} we received {case.hit_count} report(s) of "
            f"{case.category.value.replace('_', ' ')} about this customer (case {case.case_id}, overall "
            f"severity {case.severity.value}): {counts_en}.{worst_en} Affected subscriptions: {subs_text}. "
            "Every report is listed in the timeline below. Please investigate the activity and advise on "
            "the next steps."
        ),
        severity=_SEVERITY_EN[case.severity],
        timeline=timeline_en,
        evidence_summary=_evidence_lines(evidence),
    )
    zh = DraftText(
        title=f"客户租户 {case.customer_id} 存在可疑活动（{category_zh}）",
        description=(
            f"我们是「{who}」（租户 {case.customer_id}）的云解决方案提供商合作伙伴。"
            f"{clock.zh(first)}至{clock.zh(last)}期间，我们共收到{case.hit_count}份关于该客户{category_zh}的报告"
            f"（案例编号 {case.case_id}，总体严重程度：{SEVERITY_WORD_ZH[case.severity]}），"
            f"按严重程度：{counts_zh}。{worst_zh}涉及的订阅：{subs_text_zh}。"
            "各份报告见下方时间线。请协助调查上述活动并告知后续处理建议。"
        ),
        severity=_SEVERITY_ZH[case.severity],
        timeline=timeline_zh,
        evidence_summary=_evidence_lines_zh(evidence),
    )
    return ServiceRequestDraft(
        case_id=case.case_id,
        customer_tenant_id=case.customer_id,
        customer_name=customer_name,
        subscription_ids=subs,
        severity=case.severity,
        zh_cn=zh,
        en=en,
        time_zone=time_zone,
        prepared_at=at,
        prepared_by=prepared_by,
    )
