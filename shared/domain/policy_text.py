"""The customer-facing collections policy, rendered (markdown) from the same `Policy` object the
scan enforces, in zh-CN and en, so what is published and what is enforced cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from shared.domain.customer import Locale
from shared.domain.money import canonical
from shared.domain.policy import Bilingual, Policy, Rules, Stage

_WEEKDAYS_ZH = {
    "mon": "周一",
    "tue": "周二",
    "wed": "周三",
    "thu": "周四",
    "fri": "周五",
    "sat": "周六",
    "sun": "周日",
}
_WEEKDAYS_EN = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}

_STAGE_ZH = {
    Stage.REMINDER: "付款提醒：我们发送提醒通知，服务不受影响。",
    Stage.WARNING: "暂停警告：我们发送警告通知，写明暂停服务的确切日期及付款方式；服务暂不受影响。",
    Stage.SUSPENSION: "暂停服务：您的云服务订阅被暂停，无法访问，并发送暂停通知。暂停期间数据暂时保留，"
    "但订阅期结束时仍未恢复的订阅，其数据可能被删除。",
    Stage.ESCALATION: "内部升级：我们的客户团队将与您联系，并可能建议取消订阅。",
}
_STAGE_EN = {
    Stage.REMINDER: "Reminder: we send a reminder notice; your services are not affected.",
    Stage.WARNING: "Warning: we send a warning naming the exact suspension date and how to pay; "
    "your services are not yet affected.",
    Stage.SUSPENSION: "Suspension: your cloud subscriptions are suspended (access is blocked) and "
    "we send a suspension notice. Data is kept while suspended, but a subscription still suspended "
    "at the end of its term may have its data deleted.",
    Stage.ESCALATION: "Escalation: our account team contacts you and may recommend cancelling "
    "the subscriptions.",
}

SUPPORTED_LANGUAGES = (Locale.ZH_CN.value, Locale.EN.value)

# Currencies as a Chinese reader names them (others by their ISO code, which is what a bank
# statement shows).
_CURRENCY_ZH = {"CNY": "人民币", "USD": "美元", "EUR": "欧元", "HKD": "港币", "JPY": "日元", "GBP": "英镑"}
_ZONE_ZH = {"Asia/Shanghai": "北京时间", "Asia/Hong_Kong": "香港时间", "Asia/Taipei": "台北时间"}


def render_policy(policy: Policy, lang: Locale | str, today: date | None = None) -> str:
    """The published collections policy (markdown) in `lang` (`zh-CN` or `en`). With `today`,
    the days off listed are those of this year and the next (else every one the policy lists)."""
    locale = Locale(str(lang))
    return _zh(policy, today) if locale is Locale.ZH_CN else _en(policy, today)


def _amount(value: Decimal, currency: str) -> str:
    return f"{canonical(value, currency):,}"


def _offset(zone: str) -> str:
    offset = datetime(2026, 1, 15, tzinfo=ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _zone_zh(zone: str) -> str:
    name = _ZONE_ZH.get(zone)
    return f"{name}（{_offset(zone)}）" if name else _offset(zone)


def _money_zh(currency: str, value: Decimal) -> str:
    name = _CURRENCY_ZH.get(currency)
    amount = _amount(value, currency)
    return f"{name} {amount} 元" if currency == "CNY" else f"{name or currency} {amount}"


def _dates(days: list[date], empty: str, sep: str = ", ") -> str:
    return sep.join(d.isoformat() for d in sorted(days)) if days else empty


def _shown_years(policy: Policy, today: date | None) -> list[int]:
    """This year and the next (with `today`), else every year the policy lists."""
    return [today.year, today.year + 1] if today else sorted(policy.enforcement_window.listed_years())


# The days-off list in each language: {year}, {source}, {library}, {days} are filled in.
_DAYS_OFF_WORDS = {
    Locale.ZH_CN: {
        "listed": "- {year} 年{source}",
        "source": "（来源：{source}）",
        "holidays": "  - 节假日：{days}",
        "make_up": "  - 调休上班日：{days}",
        "library": "- {year} 年（本政策未列出：法定节假日取自 {library} 的中国日历；"
        "调休上班日未知，周末一律视为休息日）",
        "unknown": "- {year} 年：节假日尚未公布",
        "extra": "- {year} 年另行安排的日期",
        "extra_off": "  - 休息日：{days}",
        "extra_work": "  - 上班日：{days}",
        "rule": "- 本政策未列出的年份：法定节假日取自 {library} 的中国日历；调休上班日未知，"
        "因此这些年份的周末一律视为休息日。",
        "none": "无",
        "sep": "、",
    },
    Locale.EN: {
        "listed": "- {year}{source}",
        "source": " (source: {source})",
        "holidays": "  - Public holidays: {days}",
        "make_up": "  - Make-up working days: {days}",
        "library": "- {year} (not listed in this policy: statutory public holidays from {library}; "
        "make-up working days unknown, so weekends are days off)",
        "unknown": "- {year}: public holidays not yet published",
        "extra": "- {year}: other dates set by the partner",
        "extra_off": "  - Days off: {days}",
        "extra_work": "  - Working days: {days}",
        "rule": "- Years this policy does not list: the statutory public holidays come from {library}'s "
        "China calendar; make-up working days are not known for them, so their weekends are "
        "always days off.",
        "none": "none",
        "sep": ", ",
    },
}


def _days_off(policy: Policy, today: date | None, locale: Locale) -> list[str]:
    """Per year shown: the policy's list (with its source), else the library's statutory
    holidays, else "not yet published"; then the partner's own extra dates; then the rule."""
    words = _DAYS_OFF_WORDS[locale]
    window = policy.enforcement_window
    if locale is Locale.ZH_CN:  # the library by its name and version; its China calendar in Chinese
        library = policy.library_name.removesuffix(" (China)") or "节假日程序库"
    else:
        library = policy.library_name or "the holidays library"

    def days(values: list[date]) -> str:
        return _dates(values, words["none"], words["sep"])

    lines = []
    for year in _shown_years(policy, today):
        listed = window.years.get(year)
        extra = [d for d in window.holidays if d.year == year]
        extra_work = [d for d in window.make_up_workdays if d.year == year]
        if listed is not None:
            named = listed.source_zh if locale is Locale.ZH_CN else listed.source
            source = words["source"].format(source=named) if named else ""
            lines += [
                words["listed"].format(year=year, source=source),
                words["holidays"].format(days=days(listed.holidays)),
                words["make_up"].format(days=days(listed.make_up_workdays)),
            ]
        elif extra or extra_work:
            pass  # the partner's own dates for the year, below
        elif year in policy.library_holidays:
            lines += [
                words["library"].format(year=year, library=library),
                words["holidays"].format(days=days(list(policy.library_holidays[year]))),
            ]
        else:
            lines.append(words["unknown"].format(year=year))
        if extra or extra_work:
            lines += [
                words["extra"].format(year=year),
                words["extra_off"].format(days=days(extra)),
                words["extra_work"].format(days=days(extra_work)),
            ]
    lines.append(words["rule"].format(library=library))
    return lines


def _segments(policy: Policy) -> list[tuple[Bilingual | None, Bilingual | None, Rules]]:
    out: list[tuple[Bilingual | None, Bilingual | None, Rules]] = [(None, None, policy.defaults)]
    for name, override in sorted(policy.segments.items()):
        out.append((override.title, override.description, policy.rules_for(name)))
    return out


def _zh(policy: Policy, today: date | None) -> str:
    window = policy.enforcement_window
    lines = [
        "# 催收政策",
        "",
        f"本政策版本：`{policy.version}`。文中日期和时间均为{_zone_zh(policy.time_zone)}。",
        "逾期天数自最早一笔未付发票的到期日起计算；有争议或已作废的发票不计入逾期。",
        "",
    ]
    for title, description, rules in _segments(policy):
        lines += [f"## {'标准客户' if title is None else '客户类别：' + title.zh_cn}", ""]
        if description:
            lines += [description.zh_cn, ""]
        for rule in rules.stages:
            lines.append(f"- 逾期 **{rule.days_past_due}** 天：{_STAGE_ZH[rule.action]}")
        lines.append(
            "- 警告送达（您的邮件服务器接收或通知接口确认）与暂停之间至少间隔 "
            f"**{rules.min_notice_days}** 天；"
            "暂停绝不会在警告送达之前发生，警告迟送达时暂停日期随之顺延。"
        )
        minimums = "，".join(
            _money_zh(currency, v) for currency, v in sorted(rules.minimum_overdue_balance.items())
        )
        if minimums:
            lines.append(f"- 逾期金额低于以下数额时不采取任何措施：{minimums}。")
        lines.append("")
    weekdays = "、".join(_WEEKDAYS_ZH[d.value] for d in window.weekdays)
    lines += [
        "## 通知与暂停的时间",
        "",
        f"通知和暂停仅在工作日（{weekdays}）{window.opens} 至 {window.closes} 之间进行，法定节假日除外；"
        "调休上班日视为工作日。若某一阶段在非工作时间到期，则顺延至下一个工作时段。",
        "",
        "休息日与调休上班日：",
        "",
        *_days_off(policy, today, Locale.ZH_CN),
        "",
        "如因系统原因未能按时发送警告，我们会先发送警告，并将暂停日期顺延至警告发出后满所属类别通知期的第一个工作日。",
        "",
        "## 如何恢复服务",
        "",
        "付清逾期款项（或发票被作废、进入争议处理、获批付款承诺）后，暂停会立即解除，不受工作时间限制，"
        "订阅随即通过合作伙伴中心恢复，通常在几分钟内完成。因其他原因（如安全调查）实施的暂停不受影响。",
        "",
        "如需延期付款，请联系我们申请付款承诺：在约定日期之前不会发送新的通知，也不会暂停服务。"
        f"付款承诺最长 {policy.exemptions.promise_to_pay_max_days} 天。",
        "",
        *_credit_zh(policy),
        *_usage_zh(policy),
        "## 付款方式",
        "",
        policy.how_to_pay.zh_cn,
        "",
    ]
    return "\n".join(lines)


def _en(policy: Policy, today: date | None) -> str:
    window = policy.enforcement_window
    lines = [
        "# Collections policy",
        "",
        f"Policy version `{policy.version}`. "
        f"All dates and times are local to the {policy.time_zone} time zone ({_offset(policy.time_zone)}).",
        "Days past due are counted from the due date of the earliest unpaid invoice; disputed or "
        "void invoices are never overdue.",
        "",
    ]
    for title, description, rules in _segments(policy):
        lines += [f"## {'Standard customers' if title is None else 'Customer segment: ' + title.en}", ""]
        if description:
            lines += [description.en, ""]
        for rule in rules.stages:
            lines.append(f"- **{rule.days_past_due}** days past due: {_STAGE_EN[rule.action]}")
        lines.append(
            f"- At least **{rules.min_notice_days}** days pass between the warning reaching you "
            "(accepted by your mail server, or confirmed by your notice endpoint) and a suspension; "
            "there is never a suspension before a warning reached you, and a warning that reaches "
            "you late moves the suspension date."
        )
        minimums = ", ".join(
            f"{currency} {_amount(v, currency)}"
            for currency, v in sorted(rules.minimum_overdue_balance.items())
        )
        if minimums:
            lines.append(f"- Nothing happens while the overdue balance is below {minimums}.")
        lines.append("")
    weekdays = ", ".join(_WEEKDAYS_EN[d.value] for d in window.weekdays)
    lines += [
        "## When notices and suspensions happen",
        "",
        f"Notices and suspensions happen only on working days ({weekdays}) between {window.opens} "
        f"and {window.closes}, never on public holidays; make-up working days count as working days. "
        "A stage that falls due outside these hours waits for the next working hours.",
        "",
        "Days off and make-up working days:",
        "",
        *_days_off(policy, today, Locale.EN),
        "",
        "If a warning could not be sent on time (for example after an outage), the warning is sent "
        "first and the suspension date moves to the first working day at least the notice period "
        "of your segment after it.",
        "",
        "## How access comes back",
        "",
        "As soon as the overdue balance is paid (or the invoice is voided, disputed, or a promise "
        "to pay is agreed), the suspension is lifted at once, at any hour, and your subscriptions are "
        "reactivated through Partner Center right after, usually within minutes. Suspensions for "
        "other reasons (such as a security investigation) are not affected.",
        "",
        "If you need more time, contact us for a promise to pay: until the agreed date you receive "
        "no new notice and your services are not suspended. A promise to pay lasts at most "
        f"{policy.exemptions.promise_to_pay_max_days} days.",
        "",
        *_credit_en(policy),
        *_usage_en(policy),
        "## How to pay",
        "",
        policy.how_to_pay.en,
        "",
    ]
    return "\n".join(lines)


# Watched meters as a Chinese reader names them (others as "受监控的服务").
_METER_ZH = {"gpu": "图形处理器（显卡）虚拟机"}


def _limits(limits: dict[str, Decimal], money: Callable[[str, Decimal], str], sep: str) -> str:
    return sep.join(money(currency, value) for currency, value in sorted(limits.items()))


def _money_en(currency: str, value: Decimal) -> str:
    return f"{currency} {_amount(value, currency)}"


def _credit_segments(policy: Policy) -> list[tuple[Bilingual, dict[str, Decimal] | None, bool]]:
    out = []
    credit = policy.credit
    for name, own in sorted(credit.segments.items()):
        segment = policy.segments.get(name)
        if segment is None:
            continue  # a segment customers are never told of: its credit terms stay internal
        out.append((segment.title, own.limit, credit.holds_at_limit(name)))
    return out


def _credit_zh(policy: Policy) -> list[str]:
    credit = policy.credit
    limits = _limits(credit.default_limit, _money_zh, "或")
    lines = [
        "## 信用额度",
        "",
        "我们按信用额度为每位客户提供信用：与您约定的额度"
        + (f"，未约定时为 {limits}" if limits else "")
        + "。您的信用敞口是您应付而尚未付清的全部金额：未付发票（无论是否到期），减去尚未核销的付款，"
        "加上合作伙伴中心显示的本计费周期内尚未开票的云服务费用（按我们向您收费的价格计算），"
        "再加上自上次开票以来新增、费用尚未出现的许可证席位。",
        "",
        f"- 敞口达到额度的 **{_percent(credit.alert_percent)}%** 时，我们的财务团队会收到提示，"
        "您的服务不受影响。",
    ]
    if credit.hold_at_limit:
        days = credit.hold_after_notice_days
        wait = f"通知送达后满 **{days}** 天，" if days else ""
        lines.append(
            f"- 敞口达到额度时，我们会向您发送信用额度通知；{wait}如敞口仍未降至额度以下，"
            "您的云服务订阅将被暂停，直至敞口降至额度以下。暂停仅在上述工作时间内进行。"
        )
    else:
        lines.append("- 敞口达到额度时，我们会向您发送信用额度通知，服务不会因此暂停。")
    lines.append(
        "- 敞口一旦降至额度以下（付款或提高额度），因信用额度实施的暂停会立即解除，不受工作时间限制。"
    )
    for title, limit, holds in _credit_segments(policy):
        parts = []
        if limit:
            parts.append(f"默认额度为 {_limits(limit, _money_zh, '，')}")
        if holds != credit.hold_at_limit:
            parts.append("达到额度时会暂停服务" if holds else "达到额度时仅发送通知，不暂停服务")
        if parts:
            lines.append(f"- {title.zh_cn}：" + "；".join(parts) + "。")
    return [*lines, ""]


def _credit_en(policy: Policy) -> list[str]:
    credit = policy.credit
    limits = _limits(credit.default_limit, _money_en, " or ")
    lines = [
        "## Credit limit",
        "",
        "We extend credit to each customer up to a credit limit: the one agreed with you"
        + (f", or else {limits}" if limits else "")
        + ". Your exposure is everything you owe us and have not paid yet: your unpaid invoices "
        "(due or not yet due), less any payment not yet applied, plus the cloud charges of the "
        "current billing period that Partner Center shows as not yet invoiced (at the prices we "
        "bill you), plus licence seats added since your last invoice whose charge has not appeared yet.",
        "",
        f"- At **{_percent(credit.alert_percent)}%** of your limit our finance team is told; your "
        "services are not affected.",
    ]
    if credit.hold_at_limit:
        days = credit.hold_after_notice_days
        wait = f" {days} day{'s' if days != 1 else ''} after the notice reached you" if days else ""
        lines.append(
            "- When your exposure reaches the limit we send you a credit-limit notice; if it is "
            f"still at or over the limit{wait}, your cloud subscriptions are suspended until it is "
            "back under the limit. Suspensions happen only in the working hours above."
        )
    else:
        lines.append(
            "- When your exposure reaches the limit we send you a credit-limit notice; your "
            "services are not suspended for it."
        )
    lines.append(
        "- As soon as your exposure is back under the limit (a payment, or a raised limit), a "
        "suspension for the credit limit is lifted at once, at any hour."
    )
    for title, limit, holds in _credit_segments(policy):
        parts = []
        if limit:
            parts.append(f"the default limit is {_limits(limit, _money_en, ', ')}")
        if holds != credit.hold_at_limit:
            parts.append(
                "services are suspended at the limit"
                if holds
                else "at the limit a notice only, no suspension"
            )
        if parts:
            lines.append(f"- {title.en}: " + "; ".join(parts) + ".")
    return [*lines, ""]


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _usage_zh(policy: Policy) -> list[str]:
    rules = policy.usage_anomaly
    if not rules.enabled or not rules.minimum_amount:
        return []
    minimum = _limits(rules.minimum_amount, _money_zh, "或")
    meters = "、".join(dict.fromkeys(_METER_ZH.get(m.lower(), "受监控的服务") for m in rules.watched_meters))
    new_meter = f"首次使用{meters}且当日费用超过上述金额；" if meters else ""
    return [
        "## 异常用量",
        "",
        "为防范账户被盗用等欺诈造成的费用，我们会关注您每日的用量费用。以下情况会提交给我们的风险团队调查："
        f"某日费用达到 {minimum} 以上，且超过过去 {rules.baseline_days} 天日费用中位数的 "
        f"**{_percent(rules.factor)}** 倍；{new_meter}"
        f"一天内新增 {rules.seat_minimum} 个以上许可证席位，"
        f"且达到原有数量的 {_percent(rules.seat_factor)} 倍以上。",
        "",
        f"用量骤增达到日中位数的 **{_percent(rules.critical_factor)}** 倍时，"
        "我们可能在调查期间立即暂停您的云服务订阅，并与您联系；调查确认无误后，暂停即刻解除。",
        "",
    ]


def _usage_en(policy: Policy) -> list[str]:
    rules = policy.usage_anomaly
    if not rules.enabled or not rules.minimum_amount:
        return []
    minimum = _limits(rules.minimum_amount, _money_en, " or ")
    meters = ", ".join(rules.watched_meters)
    new_meter = f" the first use of {meters} services above that amount;" if meters else ""
    return [
        "## Unusual usage",
        "",
        "To protect you and us from fraudulent use (a compromised account running up charges), we "
        "watch your daily usage charges. These go to our risk team for investigation: a day of "
        f"{minimum} or more that is over **{_percent(rules.factor)}** times your median day of the "
        f"past {rules.baseline_days} days;{new_meter} {rules.seat_minimum} or more licence seats "
        f"added in a day, to at least {_percent(rules.seat_factor)} times the count before.",
        "",
        f"A jump of **{_percent(rules.critical_factor)}** times your median day or more may suspend "
        "your cloud subscriptions at once while we investigate; we contact you, and the suspension "
        "is lifted as soon as the case is cleared.",
        "",
    ]
