"""The words of an error answer, for a clerk: in the request's language (`Accept-Language`).

English is the default; a caller that prefers Chinese (`Accept-Language: zh-CN`, `zh`,
`zh-Hans`, ...) gets the `detail` and each field error's `message` in zh-CN, and the answer says
`Content-Language`. Every answer also carries both: `localized` (the detail) and, per field
error, `localized` (its message), so a page can show either.

Field errors from the schema are written here from pydantic's error *types* (never its own
"Value error," wording): what was expected, with the format named (dates `YYYY-MM-DD`, date-times
with an offset). Reasons the domain gives (a `ValueError` in a validator) keep their text in
English and take their Chinese from `DOMAIN_ZH` (exact text, or a pattern with its parts).

Pure functions of their input; no pydantic import at module level (cold start).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

EN = "en"
ZH = "zh-CN"
LANGUAGES = (EN, ZH)

DATE_EN = "a date as YYYY-MM-DD (e.g. 2026-12-31)"
DATE_ZH = "日期，格式为 YYYY-MM-DD（例如 2026-12-31）"
DATETIME_EN = "a date and time with its offset, as YYYY-MM-DDThh:mm:ss+08:00 (e.g. 2026-12-31T10:00:00+08:00)"
DATETIME_ZH = "带时区偏移的日期时间，格式为 YYYY-MM-DDThh:mm:ss+08:00（例如 2026-12-31T10:00:00+08:00）"


def preferred_language(accept_language: str | None) -> str:
    """`zh-CN` when the caller ranks a Chinese tag above English (RFC 9110 weights), else `en`."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        parts = [p.strip() for p in item.split(";")]
        tag = parts[0].lower()
        if not tag:
            continue
        weight = 1.0
        for param in parts[1:]:
            if param.startswith("q="):
                try:
                    weight = float(param[2:])
                except ValueError:
                    weight = 0.0
        language = (
            ZH if tag == "zh" or tag.startswith("zh-") else EN if tag.startswith("en") or tag == "*" else None
        )
        if language is None or weight <= 0:
            continue
        key = (weight, -position, language)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best is not None else EN


def _expected(ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace("'", "")


# pydantic error type -> (en, zh-CN); `{name}` fields come from the error's ctx.
_BY_TYPE: dict[str, tuple[str, str]] = {
    "missing": ("required: this field is missing", "必填：缺少此字段"),
    "extra_forbidden": ("not a field of this request: remove it", "不是此请求的字段：请删除"),
    "string_type": ("must be text (a JSON string)", "应为文本（JSON 字符串）"),
    "string_too_short": ("must have at least {min_length} character(s)", "至少需要 {min_length} 个字符"),
    "string_too_long": ("must have at most {max_length} characters", "最多 {max_length} 个字符"),
    "string_pattern_mismatch": (
        "has characters or a form that are not allowed here",
        "包含不允许的字符或格式",
    ),
    "int_type": ("must be a whole number", "应为整数"),
    "int_parsing": ("must be a whole number", "应为整数"),
    "int_from_float": ("must be a whole number", "应为整数"),
    "bool_type": ("must be true or false", "应为 true 或 false"),
    "bool_parsing": ("must be true or false", "应为 true 或 false"),
    "date_type": ("must be " + DATE_EN, "应为" + DATE_ZH),
    "date_parsing": ("must be " + DATE_EN, "应为" + DATE_ZH),
    "date_from_datetime_parsing": ("must be " + DATE_EN, "应为" + DATE_ZH),
    "date_from_datetime_inexact": (
        "must be " + DATE_EN + ", without a time",
        "应为" + DATE_ZH + "，不带时间",
    ),
    "datetime_type": ("must be " + DATETIME_EN, "应为" + DATETIME_ZH),
    "datetime_parsing": ("must be " + DATETIME_EN, "应为" + DATETIME_ZH),
    "datetime_from_date_parsing": ("must be " + DATETIME_EN, "应为" + DATETIME_ZH),
    "timezone_aware": ("needs its offset: " + DATETIME_EN, "需要时区偏移：" + DATETIME_ZH),
    "greater_than": ("must be greater than {gt}", "应大于 {gt}"),
    "greater_than_equal": ("must be at least {ge}", "应不小于（不早于）{ge}"),
    "less_than": ("must be less than {lt}", "应小于 {lt}"),
    "less_than_equal": ("must be at most {le}", "应不大于（不晚于）{le}"),
    "literal_error": ("must be one of: {expected}", "应为以下之一：{expected}"),
    "enum": ("must be one of: {expected}", "应为以下之一：{expected}"),
    "list_type": ("must be a list (a JSON array)", "应为列表（JSON 数组）"),
    "too_long": ("must have at most {max_length} items", "最多 {max_length} 项"),
    "too_short": ("must have at least {min_length} item(s)", "至少 {min_length} 项"),
    "dict_type": ("must be an object (a JSON object)", "应为对象（JSON 对象）"),
    "model_type": ("must be an object (a JSON object)", "应为对象（JSON 对象）"),
    "model_attributes_type": ("must be an object (a JSON object)", "应为对象（JSON 对象）"),
    "uuid_parsing": (
        "must be a GUID like 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        "应为 GUID，例如 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
    ),
    "decimal_parsing": (
        'must be a decimal amount as text, like "100.00"',
        '应为文本形式的金额，例如 "100.00"',
    ),
    "json_invalid": ("is not valid JSON", "不是有效的 JSON"),
    "url_parsing": ("must be a URL like https://example.cn/hook", "应为网址，例如 https://example.cn/hook"),
}

# The domain's own reasons (validators' ValueError texts, refusals' field messages) in zh-CN.
# Exact texts first; then patterns whose groups are carried over.
DOMAIN_ZH: dict[str, str] = {
    "amount must be greater than zero": "金额必须大于零",
    "amount must be a finite number": "金额必须是有限的数字",
    "due_date is before issued_on": "到期日（due_date）早于开票日（issued_on）",
    'amounts are decimal strings like "100.00" (never floats)': (
        '金额应为文本形式的小数，例如 "100.00"（不能是浮点数）'
    ),
    "amounts must be given as decimal strings, never floats": "金额应为文本形式的小数，不能是浮点数",
    "money text must look like '123.45 CNY'": "金额文本应形如 '123.45 CNY'",
    "must be a GUID like 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9": (
        "应为 GUID，例如 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    ),
    "must be an RFC 3339 date-time with an offset": "应为" + DATETIME_ZH,
    "received_at needs a time zone (e.g. 2026-01-31T10:00:00+08:00)": (
        "received_at 需要时区偏移（例如 2026-01-31T10:00:00+08:00）"
    ),
    "who acted comes from the sign-in, never from the request body: remove this field": (
        "操作人来自登录身份，不能由请求正文指定：请删除此字段"
    ),
    "not a case id (26 characters, Crockford base32)": "不是案件编号（26 个字符，Crockford base32）",
    "kind must be invoice or payment": "kind 应为 invoice 或 payment",
    "an amount like 1000 or 1000.50": "金额，例如 1000 或 1000.50",
    "differs from the stored value": "与已保存的值不同",
    "duplicate key": "重复的键",
    "unknown customer": "未知客户",
    "not a GUID": "不是 GUID",
    "must be manual": "应为 manual",
    "threshold or limit": "应为 threshold 或 limit",
}
_PATTERNS_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^'?(?P<c>[^']*)'? is not an active ISO 4217 currency code$"),
        "{c} 不是有效的 ISO 4217 货币代码",
    ),
    (
        re.compile(
            r"^(?P<c>[A-Z]{3}) has (?P<n>\d+) decimal places \(ISO 4217\); (?P<v>.+) has (?:more|\d+)$"
        ),
        "{c} 的金额最多 {n} 位小数（ISO 4217）；{v} 的小数位过多",
    ),
    (
        re.compile(
            r"^this customer's ledger is in (?P<c>[A-Z]{3}); an? (?P<k>\w+) in (?P<o>[A-Z]{3}) is refused$"
        ),
        "此客户的台账币种为 {c}；不接受 {o} 的{k}",
    ),
    (
        re.compile(r"^received_at must be between (?P<a>\d+) and (?P<b>\d+)$"),
        "received_at 应在 {a} 年至 {b} 年之间",
    ),
    (
        re.compile(r"^holds (?P<r>.+?): control, bidi and zero-width characters are refused(?P<x>.*)$"),
        "含有 {r}：不接受控制字符、双向控制字符和零宽字符",
    ),
)


def domain_zh(text: str) -> str | None:
    """The zh-CN of one of the domain's reasons, or None when it has none."""
    if text in DOMAIN_ZH:
        return DOMAIN_ZH[text]
    for pattern, template in _PATTERNS_ZH:
        match = pattern.match(text)
        if match:
            groups = dict(match.groupdict())
            if "k" in groups:
                groups["k"] = {"invoice": "账单", "payment": "付款"}.get(groups["k"], groups["k"])
            return template.format(**groups)
    return None


def schema_error(err: Mapping[str, Any]) -> dict[str, str]:
    """One pydantic error as {en, zh-CN} words a clerk reads."""
    kind = str(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):
        original = ctx.get("error")
        text = str(original) if original is not None else str(err.get("msg", ""))
        text = re.sub(r"^(Value|Assertion) error, ", "", text)
        return {EN: text, ZH: domain_zh(text) or text}
    if kind in _BY_TYPE:
        values = {k: (_expected(ctx) if k == "expected" else v) for k, v in ctx.items()}
        values.setdefault("expected", _expected(ctx))
        en, zh = _BY_TYPE[kind]
        try:
            return {EN: en.format(**values), ZH: zh.format(**values)}
        except (KeyError, IndexError):
            return {EN: en, ZH: zh}
    text = re.sub(r"^(Value|Assertion) error, ", "", str(err.get("msg", "invalid value")))
    return {EN: text, ZH: domain_zh(text) or "值无效：" + text}


# Fixed details of functions/ and of the most common refusals, in zh-CN.
DETAIL_ZH: dict[str, str] = {
    "the body does not match the schema": "请求正文不符合要求：请看各字段的说明",
    "the request does not match the schema": "请求不符合要求：请看各字段的说明",
    "the request body is empty; a JSON object is expected": "请求正文为空；需要一个 JSON 对象",
    "the body is nested too deeply": "请求正文嵌套层数过多",
    "an unexpected error occurred; it was logged": "发生意外错误，已记录日志",
    "the query parameters are not valid": "查询参数无效：请看各参数的说明",
    "customer_id must be a GUID": "customer_id 应为 GUID",
    "level must be threshold or limit": "level 应为 threshold（接近额度）或 limit（已达额度）",
    "reason must be non_payment, fraud, manual or credit_limit": (
        "reason 应为 non_payment、fraud、manual 或 credit_limit"
    ),
    "only manual holds are placed here (non_payment comes from the policy, fraud from a case)": (
        "这里只能设置人工冻结（manual）：non_payment 由催收政策设置，fraud 由欺诈案件设置"
    ),
    "the records changed while this request was applied; send it again": (
        "处理期间记录被他人修改；请重新发送此请求"
    ),
}
_DETAIL_PATTERNS_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^the body is larger than (?P<n>\d+) bytes$"), "请求正文超过 {n} 字节"),
    (re.compile(r"^send application/json, not (?P<t>.+)$"), "请发送 application/json，而不是 {t}"),
    (re.compile(r"^the body is not valid JSON: (?P<e>.+)$"), "请求正文不是有效的 JSON：{e}"),
    (
        re.compile(r"^the body names '(?P<k>.+)' twice in one object; send each key once$"),
        "请求正文在同一个对象中两次使用了 '{k}'；每个键只能出现一次",
    ),
    (re.compile(r"^customer (?P<c>\S+) not found$"), "找不到客户 {c}"),
    (re.compile(r"^invoice (?P<c>\S+) not found$"), "找不到账单 {c}"),
    (
        re.compile(r"^customer (?P<c>\S+) is unknown: PUT (?P<p>\S+) first$"),
        "未知客户 {c}：请先 PUT {p} 建立客户资料",
    ),
    (re.compile(r"^customer (?P<c>\S+) is unknown$"), "未知客户 {c}"),
    (re.compile(r"^customer (?P<c>\S+) has no invoice (?P<i>\S+)$"), "客户 {c} 没有账单 {i}"),
    (re.compile(r"^customer (?P<c>\S+) has no exemption (?P<i>\S+)$"), "客户 {c} 没有豁免 {i}"),
    (re.compile(r"^send (?P<a>\S+), not (?P<b>.+)$"), "请发送 {a}，而不是 {b}"),
    (re.compile(r"^no suspension batch '(?P<b>[^']*)'$"), "没有暂停批次 '{b}'"),
    (re.compile(r"^no fraud case '(?P<b>[^']*)'$"), "没有欺诈案件 '{b}'"),
    (re.compile(r"^no alert '(?P<b>[^']*)'$"), "没有提醒 '{b}'"),
    (re.compile(r"^change (?P<c>\S+) is (?P<s>\w+)$"), "变更 {c} 的状态为 {s}，不能再处理"),
    (re.compile(r"^case (?P<c>\S+) is already (?P<s>\w+)$"), "案件 {c} 已经是 {s} 状态"),
    (
        re.compile(r"^no record of subscription (?P<s>\S+) for customer (?P<c>\S+)$"),
        "客户 {c} 没有订阅 {s} 的记录",
    ),
    (
        re.compile(
            r"^an? (?P<k>\w+) exemption lasts at most (?P<n>\d+) days under the collections policy: "
            r"until must be (?P<d>\S+) or earlier$"
        ),
        "按催收政策，{k} 豁免最长 {n} 天：until 不能晚于 {d}",
    ),
)


def detail_zh(detail: str) -> str | None:
    """The zh-CN of a fixed detail, or None."""
    if detail in DETAIL_ZH:
        return DETAIL_ZH[detail]
    for pattern, template in _DETAIL_PATTERNS_ZH:
        match = pattern.match(detail)
        if match:
            return template.format(**match.groupdict())
    return domain_zh(detail)


def localize_errors(errors: list[dict[str, Any]] | None, language: str) -> list[dict[str, Any]] | None:
    """Field errors with `message` in `language` and `localized` in both."""
    if not errors:
        return errors
    out = []
    for item in errors:
        localized = dict(item.get("localized") or {})
        message = str(item.get("message", ""))
        localized.setdefault(EN, message)
        localized.setdefault(ZH, detail_zh(message) or message)
        out.append({**item, "message": localized[language], "localized": localized})
    return out
