"""Suspension records: what this app did, or tried to do, to each subscription, and what it knows
of whose suspension it is.

One row `sub:{subscription_id}` per subscription in the customer's partition. Before it asks
Partner Center to suspend, the executor writes the record in state `suspending` (an intent, with
the MS-RequestId it is about to use); Partner Center's answer turns it into `suspended_by_us`
(ours), `refused` (why), `waiting` ("try later"), or `unknown` (the answer never came: a read
settles it). Only a subscription whose suspension is known to be ours is ever reactivated; where
the app cannot tell (`undecided`), a person settles it. docs/partner-center-client.md, "Whose
suspension is it", says how each case is decided.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SuspensionState(StrEnum):
    SUSPENDING = "suspending"  # intent written; the PATCH may or may not have gone out
    UNKNOWN = "unknown"  # our PATCH went out and its answer never came: a read settles it
    SUSPENDED_BY_US = "suspended_by_us"  # Partner Center confirmed our suspension
    WAITING = "waiting"  # Partner Center said "try later" to our suspension (nothing applied)
    REFUSED = "refused"  # Partner Center refused our change for good (see `refusal`)
    UNDECIDED = "undecided"  # suspended, and whose suspension it is cannot be told: a person settles
    REACTIVATED = "reactivated"  # this app reactivated it (history; no longer ours)
    # No longer ours and left as Partner Center shows it: someone else's suspension, a subscription
    # gone, or a suspension of ours that never applied (see `released_reason`).
    RELEASED = "released"


class Verb(StrEnum):
    """A change this app asks Partner Center for."""

    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    AUTO_RENEW = "auto_renew"


class PendingCall(BaseModel):
    """A status PATCH of ours whose answer never came (timeouts, a lost reply)."""

    verb: Verb
    request_id: str = Field(max_length=100)
    sent_at: datetime


class Refusal(BaseModel):
    """Why Partner Center will not make a change (recorded once, alerted once, not retried)."""

    verb: Verb
    kind: str = Field(max_length=40)  # refused | unrecognised | gave_up
    http_status: int = 0
    code: str | None = Field(default=None, max_length=40)
    description: str = Field(default="", max_length=1100)
    at: datetime


class Waiting(BaseModel):
    """Partner Center said "try later" (renewal window, a pending operation): since when, how
    long between tries, and how long in all before it counts as refused."""

    verb: Verb
    code: str | None = Field(default=None, max_length=40)
    description: str = Field(default="", max_length=1100)
    since: datetime
    delay_seconds: float
    budget_seconds: float


class OwnershipEvidence(BaseModel):
    """What the app knew when it could not tell whose suspension it is (shown to the person)."""

    why: str = Field(max_length=500)
    intent_at: datetime | None = None
    request_id: str | None = Field(default=None, max_length=100)
    status_before: str = Field(default="", max_length=40)
    status_seen: str = Field(default="", max_length=40)
    suspension_reasons_seen: list[str] | None = None
    seen_at: datetime


class OwnershipDecision(BaseModel):
    """How a person settled an undecided record: `reactivate` (ours) or `leave` (not ours)."""

    outcome: str = Field(max_length=20)
    decided_by: str = Field(max_length=200)  # the signed-in person's name (their label)
    decided_by_id: str | None = Field(default=None, max_length=200)  # their object id
    note: str = Field(max_length=2000)
    at: datetime


class SuspensionRecord(BaseModel):
    """What this app did to one subscription, in row `sub:{subscription_id}`."""

    model_config = ConfigDict(extra="ignore")

    subscription_id: str = Field(min_length=1, max_length=100)
    offer_name: str = Field(default="", max_length=400)
    friendly_name: str = Field(default="", max_length=400)
    parent_subscription_id: str | None = Field(default=None, max_length=100)
    status_before: str = Field(default="active", max_length=40)
    suspended_at: datetime  # when the intent was written
    suspended_under_holds: list[str] = Field(default_factory=list)
    correlation_id: str = Field(min_length=1, max_length=100)
    reactivated_at: datetime | None = None
    state: SuspensionState = SuspensionState.SUSPENDING
    # The MS-RequestId of our suspension PATCH: a retry of the same request reuses it (documented:
    # "if there's a timeout, the retry call should include the same value").
    request_id: str | None = Field(default=None, max_length=100)
    pending: PendingCall | None = None
    # suspensionReasons as Partner Center showed them once our suspension was confirmed: other
    # reasons later mean someone else suspended it too (etags are not kept: the documents say
    # they are temporary and should not be stored).
    reasons_after: list[str] | None = None
    auto_renew_before: bool | None = None  # autoRenewEnabled before our suspension
    auto_renew_restored: bool = False
    auto_renew_problem: str | None = Field(default=None, max_length=600)
    refusal: Refusal | None = None
    waiting: Waiting | None = None
    evidence: OwnershipEvidence | None = None
    decision: OwnershipDecision | None = None
    released_reason: str | None = Field(default=None, max_length=300)
    updated_at: datetime | None = None

    @property
    def is_ours(self) -> bool:
        """True while this app holds the subscription suspended (or is in the act of it)."""
        return self.state in (
            SuspensionState.SUSPENDING,
            SuspensionState.UNKNOWN,
            SuspensionState.SUSPENDED_BY_US,
        )

    @property
    def pending_verb(self) -> Verb | None:
        return self.pending.verb if self.pending else None

    @property
    def is_open(self) -> bool:
        """Not settled yet: ours, unknown, waiting, undecided, or refused while it matters."""
        return self.state not in (SuspensionState.REACTIVATED, SuspensionState.RELEASED)


class SubscriptionView(BaseModel):
    """What the planner needs to know of a subscription as Partner Center shows it."""

    model_config = ConfigDict(frozen=True)

    subscription_id: str
    status: str  # lower-case; other values (e.g. `disabled`) are kept and left alone
    parent_subscription_id: str | None = None
    offer_name: str = ""
    friendly_name: str = ""
    auto_renew_enabled: bool | None = None
    suspension_reasons: tuple[str, ...] | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_suspended(self) -> bool:
        return self.status == "suspended"
