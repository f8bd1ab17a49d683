"""The collections data: the ledger summary the evaluation reads, the state row it carries from
one evaluation to the next, and the decision it returns (actions, notices, next review)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.customer import Locale
from shared.domain.money import Money
from shared.domain.policy import Stage


class InvoiceRef(BaseModel):
    """An unpaid invoice as a notice names it."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str
    amount_due: Money
    due_date: date


class LedgerSummary(BaseModel):
    """A customer's balances, computed from invoices and payments by the ledger.

    Unpaid = open invoices (not disputed, not void) with amount_due > 0. Overdue = unpaid with a
    due date before today's local date in the policy's time zone.
    """

    currency: str = "CNY"
    overdue_balance: Money
    open_balance: Money
    credit_balance: Money
    earliest_unpaid_due_date: date | None
    overdue_invoices: list[InvoiceRef] = Field(default_factory=list)
    # The earliest due date of unpaid invoices not yet overdue: when time alone can change things.
    next_due_date: date | None = None


class CollectionsState(BaseModel):
    """The customer's `state` row: the previous state goes in, the new state comes out."""

    stage: Stage = Stage.CURRENT
    episode_id: str | None = None
    episode_started_on: date | None = None
    notices_sent: dict[str, datetime] = Field(default_factory=dict)
    warning_sent_at: datetime | None = None  # when the warning was decided (and queued)
    # When the warning reached the customer (webhook 2xx or accepted by the mail server): fair
    # notice counts from here. Filled from the warning's notice row (`decision.decide`).
    warning_delivered_at: datetime | None = None
    suspension_due_on: date | None = None
    suspended_at: datetime | None = None
    escalated_at: datetime | None = None
    last_evaluated_at: datetime | None = None
    policy_version: str | None = None
    version: int = 0


class ActionKind(StrEnum):
    SEND_NOTICE = "send_notice"
    PLACE_HOLD = "place_hold"  # the non_payment hold
    LIFT_HOLD = "lift_hold"  # the non_payment hold, never another
    NOTIFY_STAFF = "notify_staff"  # escalation: recommend cancellation


class CreditNotice(BaseModel):
    """What a credit-limit notice says: exposure against the limit, and the hold that follows."""

    exposure: Money
    credit_limit: Money
    unbilled: Money
    hold_follows: bool  # the policy places a credit_limit hold unless exposure falls
    hold_after_days: int = 0  # after the notice is delivered


class NoticeContent(BaseModel):
    """Everything a notice says, as language-neutral data; `notice_text.render_notice` words it."""

    stage: Stage
    customer_name: str
    locale: Locale
    amount_overdue: Money
    invoices: list[InvoiceRef]
    earliest_due_date: date | None
    days_past_due: int
    suspension_date: date | None = None
    how_to_pay: str | None = None
    time_zone: str = "Asia/Shanghai"
    credit: CreditNotice | None = None  # a credit-limit notice (stage `current`): see credit.py


class Action(BaseModel):
    kind: ActionKind
    stage: Stage
    notice: NoticeContent | None = None
    reason: str


class Decision(BaseModel):
    stage: Stage
    actions: list[Action]
    new_state: CollectionsState
    next_review_at: datetime | None
    reasons: list[str]
    policy_version: str
    days_past_due: int
