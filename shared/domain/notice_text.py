"""Notice wording in zh-CN and en: `render_notice(content, locale)` turns the language-neutral
`NoticeContent` of a decision into a subject and a plain-text body. Pure; no templates on disk,
so a notice can never be sent with a missing template."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from shared.domain.collections import NoticeContent
from shared.domain.collections_models import CreditNotice
from shared.domain.customer import Locale
from shared.domain.money import Money
from shared.domain.policy import Stage

_EN_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_ZH_WEEKDAYS = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]


class RenderedNotice(BaseModel):
    subject: str
    body_text: str
    locale: Locale


def format_money(money: Money) -> str:
    """`CNY 1,234.50`: the currency code first, its ISO 4217 decimals, thousands separators."""
    return f"{money.currency} {money.amount:,}"


def format_date(day: date, locale: Locale | str) -> str:
    """`2026年3月23日（星期一）` or `Monday, 23 March 2026`."""
    if str(locale) == Locale.ZH_CN.value:
        return f"{day.year}年{day.month}月{day.day}日（{_ZH_WEEKDAYS[day.weekday()]}）"
    return f"{_EN_WEEKDAYS[day.weekday()]}, {day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def render_notice(content: NoticeContent, locale: Locale | str | None = None) -> RenderedNotice:
    """The notice in `locale` (the content's locale by default)."""
    chosen = Locale(str(locale)) if locale is not None else content.locale
    if content.credit is not None:
        subject, body = _credit(content, content.credit, chosen)
        return RenderedNotice(subject=subject, body_text=body, locale=chosen)
    if chosen is Locale.ZH_CN:
        subject, body = _zh(content)
    else:
        subject, body = _en(content)
    return RenderedNotice(subject=subject, body_text=body, locale=chosen)


def _invoice_lines(content: NoticeContent, locale: Locale) -> list[str]:
    lines = []
    for invoice in content.invoices:
        due = format_date(invoice.due_date, locale)
        if locale is Locale.ZH_CN:
            lines.append(f"  - 发票 {invoice.number}：未付 {format_money(invoice.amount_due)}，到期日 {due}")
        else:
            lines.append(
                f"  - Invoice {invoice.number}: {format_money(invoice.amount_due)} unpaid, due {due}"
            )
    return lines


def _zh(c: NoticeContent) -> tuple[str, str]:
    amount = format_money(c.amount_overdue)
    earliest = format_date(c.earliest_due_date, Locale.ZH_CN) if c.earliest_due_date else "—"
    head = [
        f"尊敬的{c.customer_name}：",
        "",
        f"截至目前，贵公司逾期未付金额为 {amount}，"
        f"最早一笔已于 {earliest} 到期，已逾期 {c.days_past_due} 天。",
        "逾期发票：",
        *_invoice_lines(c, Locale.ZH_CN),
        "",
    ]
    if c.stage is Stage.REMINDER:
        subject = f"付款提醒：逾期金额 {amount}"
        middle = ["如您已付款，请忽略本提醒。如有疑问，请联系我们的财务团队。"]
    elif c.stage is Stage.WARNING:
        when = format_date(c.suspension_date, Locale.ZH_CN) if c.suspension_date else "—"
        subject = f"服务暂停警告：如未付款，服务将于 {when} 起暂停"
        middle = [
            f"如在 {when}（{c.time_zone} 时间）之前仍未付清逾期款项，我们将自该日起暂停贵公司的云服务订阅。",
            "付清逾期款项后，暂停将自动解除，订阅会尽快恢复。",
        ]
    elif c.stage is Stage.SUSPENSION:
        subject = f"服务已暂停：逾期金额 {amount}"
        middle = [
            "由于逾期款项仍未付清，我们已按照催收政策暂停贵公司的云服务订阅。",
            "付清逾期款项后，暂停将自动解除，订阅会尽快恢复。",
        ]
    else:
        subject = f"内部升级：{c.customer_name} 逾期 {c.days_past_due} 天，建议取消订阅"
        # A policy may escalate without a suspension stage: say "suspended" only when it is so.
        since = ""
        if c.suspension_date:
            since = f"订阅自 {format_date(c.suspension_date, Locale.ZH_CN)} 起已暂停，"
        middle = [
            f"客户 {c.customer_name} 已逾期 {c.days_past_due} 天，{since}仍未付款。",
            "建议：联系客户并考虑取消其订阅。本通知仅发送给合作伙伴内部人员。",
        ]
        facts = [f"逾期金额 {amount}，最早到期日 {earliest}。", *head[3:]]
        return subject, "\n".join([*facts, *middle])
    tail = ["", "付款方式：", c.how_to_pay] if c.how_to_pay else []
    return subject, "\n".join([*head, *middle, *tail])


def _en(c: NoticeContent) -> tuple[str, str]:
    amount = format_money(c.amount_overdue)
    earliest = format_date(c.earliest_due_date, Locale.EN) if c.earliest_due_date else "-"
    head = [
        f"Dear {c.customer_name},",
        "",
        f"Your overdue balance is {amount}. The oldest unpaid invoice was due on {earliest} "
        f"and is {c.days_past_due} days past due.",
        "Overdue invoices:",
        *_invoice_lines(c, Locale.EN),
        "",
    ]
    if c.stage is Stage.REMINDER:
        subject = f"Payment reminder: {amount} overdue"
        middle = [
            "If you have already paid, please disregard this reminder. Questions: contact our billing team."
        ]
    elif c.stage is Stage.WARNING:
        when = format_date(c.suspension_date, Locale.EN) if c.suspension_date else "-"
        subject = f"Suspension warning: services will be suspended from {when} unless paid"
        middle = [
            f"Unless the overdue balance is paid before {when} ({c.time_zone} time), your cloud "
            "subscriptions will be suspended from that day.",
            "Once the overdue balance is paid, the suspension is lifted automatically and your "
            "subscriptions are reactivated as soon as possible.",
        ]
    elif c.stage is Stage.SUSPENSION:
        subject = f"Services suspended: {amount} overdue"
        middle = [
            "As the overdue balance remains unpaid, your cloud subscriptions have been suspended "
            "under our collections policy.",
            "Once the overdue balance is paid, the suspension is lifted automatically and your "
            "subscriptions are reactivated as soon as possible.",
        ]
    else:
        subject = f"Escalation: {c.customer_name} {c.days_past_due} days past due, recommend cancellation"
        since = (
            f"subscriptions are suspended since {format_date(c.suspension_date, Locale.EN)} and "
            if c.suspension_date
            else ""
        )
        middle = [
            f"Customer {c.customer_name} is {c.days_past_due} days past due; {since}"
            "the balance is still unpaid.",
            "Recommendation: contact the customer and consider cancelling the subscriptions. "
            "This notice goes to the partner's staff only.",
        ]
        facts = [f"Overdue balance {amount}; oldest unpaid invoice due on {earliest}.", *head[3:]]
        return subject, "\n".join([*facts, *middle])
    tail = ["", "How to pay:", c.how_to_pay] if c.how_to_pay else []
    return subject, "\n".join([*head, *middle, *tail])


def _credit(c: NoticeContent, credit: CreditNotice, locale: Locale) -> tuple[str, str]:
    """The credit-limit notice: exposure has reached the credit the partner gives."""
    exposure, limit = format_money(credit.exposure), format_money(credit.credit_limit)
    unbilled = format_money(credit.unbilled)
    tail_zh = ["", "付款方式：", c.how_to_pay] if c.how_to_pay else []
    tail_en = ["", "How to pay:", c.how_to_pay] if c.how_to_pay else []
    if locale is Locale.ZH_CN:
        days = credit.hold_after_days
        then = (
            f"如在本通知送达后 {days} 天内敞口仍未降至额度以下，我们将暂停贵公司的云服务订阅，"
            "直至敞口降至额度以下（付款或提高额度后自动恢复）。"
            if credit.hold_follows and days
            else "我们将暂停贵公司的云服务订阅，直至敞口降至额度以下（付款或提高额度后自动恢复）。"
            if credit.hold_follows
            else "请尽快付款或联系我们调整信用额度，以免影响后续订购。"
        )
        body = [
            f"尊敬的{c.customer_name}：",
            "",
            f"贵公司当前的信用敞口为 {exposure}，已达到我们为贵公司设定的信用额度 {limit}。",
            f"敞口包括未付账单，以及本计费周期尚未开票的云服务费用 {unbilled}。",
            then,
            *tail_zh,
        ]
        return f"信用额度已用尽：敞口 {exposure}，额度 {limit}", "\n".join(body)
    days = credit.hold_after_days
    if credit.hold_follows and days:
        then = (
            f"If exposure is not back under the limit {days} day(s) after this notice reaches you, your "
            "cloud subscriptions will be suspended until it is (paying, or a raised limit, lifts it "
            "automatically)."
        )
    elif credit.hold_follows:
        then = (
            "Your cloud subscriptions will be suspended until exposure is back under the limit "
            "(paying, or a raised limit, lifts it automatically)."
        )
    else:
        then = "Please pay or contact us about your credit limit, so that further purchases are not affected."
    body = [
        f"Dear {c.customer_name},",
        "",
        f"Your credit exposure is {exposure}, which has reached the credit limit of {limit} "
        "we extend to you.",
        f"Exposure counts your unpaid invoices and the cloud charges of this billing period not yet "
        f"invoiced ({unbilled}).",
        then,
        *tail_en,
    ]
    return f"Credit limit reached: exposure {exposure} of {limit}", "\n".join(body)


def notice_html(rendered: RenderedNotice) -> str:
    """The same notice as a small HTML page (the e-mail's HTML part): the plain text, escaped,
    paragraph by paragraph, in the notice's language; no images, scripts or outside links."""
    from html import escape

    paragraphs = [p for p in rendered.body_text.split("\n\n") if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(escape(line) for line in paragraph.split("\n")) + "</p>"
        for paragraph in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{rendered.locale.value}">\n<head><meta charset="utf-8">'
        f"<title>{escape(rendered.subject)}</title></head>\n<body>\n{body}\n</body>\n</html>\n"
    )
