"""Four-eyes: changes one person may not make alone (pure; no I/O).

Which changes need a second person is policy (`[four_eyes]` in the policy file): releasing a
suspension batch held back by the blast-radius cap, marking a customer protected, an
`enforcement_off` exemption, and a `promise_to_pay` longer than the policy's short limit. The
first request creates a pending change; a different person holding `Collections.Approve`
approves or rejects it; a pending change not decided in time expires. Nobody approves their own
change: `check_approver` refuses it with the reason.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.customer import ExemptionKind
from shared.domain.identity import ActorRef
from shared.domain.policy import FourEyes

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHANGE_ID_PATTERN = r"^CH[0-9A-HJKMNP-TV-Z]{20}$"


class ChangeKind(StrEnum):
    RELEASE_CAP_BATCH = "release_cap_batch"
    MARK_PROTECTED = "mark_protected"
    ENFORCEMENT_OFF = "enforcement_off"
    PROMISE_TO_PAY = "promise_to_pay"  # longer than the policy's short limit
    RAISE_CREDIT_LIMIT = "raise_credit_limit"  # above the policy's credit.four_eyes_above


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVING = "approving"  # an approver is applying it (a crash leaves it here: approve again)
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"  # not decided within the policy's pending_days

    @property
    def open(self) -> bool:
        return self in (ChangeStatus.PENDING, ChangeStatus.APPROVING)


class PendingChange(BaseModel):
    """A change waiting for (or decided by) a second person."""

    model_config = ConfigDict(extra="forbid")

    change_id: str
    kind: ChangeKind
    status: ChangeStatus = ChangeStatus.PENDING
    customer_id: str | None = None
    batch_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, str]  # what is asked for, in zh-CN and en
    why: dict[str, str]  # why a second person must approve it, in zh-CN and en
    policy_version: str
    requested_by: ActorRef
    requested_at: datetime
    expires_at: datetime
    decided_by: ActorRef | None = None
    decided_at: datetime | None = None
    decision_note: str | None = Field(default=None, max_length=2000)
    result: str | None = Field(default=None, max_length=2000)


class SelfApproval(ValueError):
    """The approver is the person who asked for the change."""


def new_change_id(at: datetime) -> str:
    """`CH` + 10 characters of milliseconds + 10 random (Crockford base32): sorts by time."""
    millis = int(at.timestamp() * 1000)
    head = ""
    for _ in range(10):
        head = _CROCKFORD[millis % 32] + head
        millis //= 32
    return "CH" + head + "".join(secrets.choice(_CROCKFORD) for _ in range(10))


def exemption_needs_four_eyes(rules: FourEyes, kind: ExemptionKind, until: date, today: date) -> bool:
    """Whether this exemption needs a second person: `enforcement_off` (by default), or a
    promise to pay that lasts longer than the short limit (days from today, inclusive)."""
    if kind is ExemptionKind.ENFORCEMENT_OFF:
        return rules.enforcement_off
    return (until - today).days > rules.promise_to_pay_alone_max_days


def check_approver(change: PendingChange, approver: ActorRef) -> None:
    """SelfApproval when the approver asked for the change (same person or machine)."""
    if change.requested_by.same_as(approver):
        raise SelfApproval(
            f"{approver.name} asked for change {change.change_id}: another person with "
            "Collections.Approve must approve or reject it (four-eyes)"
        )


def expiry(rules: FourEyes, requested_at: datetime) -> datetime:
    return requested_at + timedelta(days=rules.pending_days)


def exemption_texts(
    kind: ExemptionKind, until: date, rules: FourEyes
) -> tuple[dict[str, str], dict[str, str]]:
    """(summary, why) of an exemption request, in both languages."""
    if kind is ExemptionKind.ENFORCEMENT_OFF:
        summary = {
            "zh-CN": f"暂停催收执行（enforcement_off）至 {until.isoformat()}（含）",
            "en": f"Enforcement off until {until.isoformat()} (inclusive)",
        }
        why = {
            "zh-CN": "暂停执行需由第二人批准（政策 four_eyes.enforcement_off）",
            "en": "Turning enforcement off needs a second person (policy four_eyes.enforcement_off)",
        }
        return summary, why
    limit = rules.promise_to_pay_alone_max_days
    summary = {
        "zh-CN": f"付款承诺至 {until.isoformat()}（含）",
        "en": f"Promise to pay until {until.isoformat()} (inclusive)",
    }
    why = {
        "zh-CN": f"超过 {limit} 天的付款承诺需由第二人批准（政策 four_eyes.promise_to_pay_alone_max_days）",
        "en": (
            f"A promise to pay longer than {limit} days needs a second person "
            "(policy four_eyes.promise_to_pay_alone_max_days)"
        ),
    }
    return summary, why


PROTECTED_TEXTS = (
    {
        "zh-CN": "将客户标记为受保护（不会暂停、不会警告）",
        "en": "Mark the customer protected (no suspension, no warning)",
    },
    {
        "zh-CN": "标记受保护客户需由第二人批准（政策 four_eyes.mark_protected）",
        "en": "Marking a customer protected needs a second person (policy four_eyes.mark_protected)",
    },
)


def credit_limit_texts(old: str | None, new: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """What raising a credit limit asks, and why it needs a second person, in both languages."""
    before_zh, before_en = old or "无额度", old or "no limit"
    after_zh, after_en = new or "不设额度（无限信用）", new or "no limit (unlimited credit)"
    return (
        {
            "zh-CN": f"将客户信用额度由 {before_zh} 调整为 {after_zh}",
            "en": f"Raise the customer's credit limit from {before_en} to {after_en}",
        },
        {
            "zh-CN": "信用额度超过政策金额（credit.four_eyes_above）需由第二人批准",
            "en": "A credit limit above the policy's amount (credit.four_eyes_above) needs a second person",
        },
    )


def batch_texts(batch_id: str, members: int) -> tuple[dict[str, str], dict[str, str]]:
    summary = {
        "zh-CN": f"放行因单次暂停上限而暂缓的暂停批次 {batch_id}（{members} 位客户）",
        "en": (
            f"Release suspension batch {batch_id} held back by the blast-radius cap "
            f"({members} customer{'' if members == 1 else 's'})"
        ),
    }
    why = {
        "zh-CN": "放行暂停批次需由第二人批准（政策 four_eyes.release_cap_batch）",
        "en": "Releasing a held-back batch needs a second person (policy four_eyes.release_cap_batch)",
    }
    return summary, why
