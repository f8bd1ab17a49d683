"""Holds: the desired state. A customer's subscriptions should be suspended exactly while the
customer has at least one hold. Each hold carries a reason; a payment lifts only `non_payment`
(and `credit_limit`, when it brings exposure under the limit: `shared/domain/credit.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class HoldReason(StrEnum):
    NON_PAYMENT = "non_payment"
    FRAUD = "fraud"
    MANUAL = "manual"
    CREDIT_LIMIT = "credit_limit"  # exposure at the credit limit (credit control, docs/exposure.md)


NON_PAYMENT_HOLD_ID = "non_payment"
CREDIT_LIMIT_HOLD_ID = "credit_limit"


def fraud_hold_id(case_id: str) -> str:
    """The hold a fraud case places: one per case, so dismissing one case lifts only its own."""
    return f"fraud-{case_id}"


class Hold(BaseModel):
    """An active hold on a customer (a row `hold:{hold_id}`; lifting it deletes the row)."""

    model_config = ConfigDict(extra="forbid")

    hold_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    reason: HoldReason
    placed_at: datetime
    placed_by: str = Field(min_length=1, max_length=200)
    placed_by_id: str | None = Field(default=None, max_length=200)  # who that is (see identity)
    note: str = Field(default="", max_length=2000)
    source_ref: str | None = Field(default=None, max_length=200)
    correlation_id: str | None = Field(default=None, max_length=100)


def should_be_suspended(holds: Iterable[Hold]) -> bool:
    """Principle 1: suspended exactly when at least one hold is active."""
    return any(True for _ in holds)


def holds_after_payment(holds: Iterable[Hold]) -> list[Hold]:
    """The holds that remain when the overdue balance is cleared: all but `non_payment`."""
    return [hold for hold in holds if hold.reason is not HoldReason.NON_PAYMENT]
