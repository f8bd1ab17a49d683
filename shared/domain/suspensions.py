"""Suspension records: which subscriptions this app suspended, when, why, and what they were before.

One row `sub:{subscription_id}` per subscription in the customer's partition. The executor writes
the record in state `suspending` (an intent) BEFORE it asks Partner Center to suspend, and turns
it into `suspended_by_us` after; so a crash between the call and the record still leaves proof
that the suspension was ours. Only subscriptions with such a record are ever reactivated: one that
someone else suspended has no record and is never touched (principle 2).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SuspensionState(StrEnum):
    SUSPENDING = "suspending"  # intent written, PATCH to `suspended` may or may not have happened
    SUSPENDED_BY_US = "suspended_by_us"  # Partner Center confirmed the suspension
    REACTIVATED = "reactivated"  # this app reactivated it again (history; no longer ours)


class SuspensionRecord(BaseModel):
    """A subscription this app suspended (or is about to), in row `sub:{subscription_id}`."""

    model_config = ConfigDict(extra="ignore")

    subscription_id: str = Field(min_length=1, max_length=100)
    offer_name: str = Field(default="", max_length=400)
    friendly_name: str = Field(default="", max_length=400)
    parent_subscription_id: str | None = Field(default=None, max_length=100)
    status_before: str = Field(default="active", max_length=40)
    suspended_at: datetime
    suspended_under_holds: list[str] = Field(default_factory=list)
    correlation_id: str = Field(min_length=1, max_length=100)
    reactivated_at: datetime | None = None
    state: SuspensionState = SuspensionState.SUSPENDING

    @property
    def is_ours(self) -> bool:
        """True while this app holds the subscription suspended (or is in the act of it)."""
        return self.state in (SuspensionState.SUSPENDING, SuspensionState.SUSPENDED_BY_US)
