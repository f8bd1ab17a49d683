"""The customer as the partner describes it (`PUT /api/customers/{id}`), and its exemptions."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, field_validator

from shared.domain.money import Money
from shared.domain.text import MultiLineText, SingleLineText

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_GUID = re.compile(GUID_PATTERN)


def normalise_customer_id(value: str) -> str:
    """Customer ids are Partner Center customer tenant ids: GUIDs, stored lower-case."""
    if not _GUID.match(value):
        raise ValueError("must be a GUID like 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
    return value.lower()


CustomerId = Annotated[str, AfterValidator(normalise_customer_id)]


class Locale(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SingleLineText = Field(min_length=1, max_length=200)
    email: SingleLineText | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: SingleLineText | None = Field(default=None, max_length=40, pattern=r"^[0-9+()\- ]{3,40}$")
    role: SingleLineText = Field(default="billing", max_length=50)


class CustomerProfile(BaseModel):
    """What the partner tells us about a customer. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    name: SingleLineText = Field(min_length=1, max_length=200)
    segment: str = Field(default="default", min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")
    locale: Locale = Locale.ZH_CN
    time_zone: str = Field(default="Asia/Shanghai", max_length=64)
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    notice_webhook_url: HttpUrl | None = None
    credit_limit: Money | None = None
    protected: bool = False
    customer_since: date | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class StoredProfile(CustomerProfile):
    """The profile row as stored: the request plus bookkeeping."""

    model_config = ConfigDict(extra="ignore")

    customer_id: str
    created_at: datetime
    updated_at: datetime


class ExemptionKind(StrEnum):
    PROMISE_TO_PAY = "promise_to_pay"
    ENFORCEMENT_OFF = "enforcement_off"


class Exemption(BaseModel):
    """A pause of enforcement for one customer until a date (inclusive, partner's time zone)."""

    model_config = ConfigDict(extra="forbid")

    exemption_id: str
    kind: ExemptionKind
    until: date
    reason: MultiLineText = Field(min_length=1, max_length=2000)
    created_at: datetime
    created_by: str = Field(min_length=1, max_length=200)
    created_by_id: str | None = Field(default=None, max_length=200)
    # Four-eyes: the change that asked for it and who approved it (None when one person may).
    change_id: str | None = Field(default=None, max_length=100)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_by_id: str | None = Field(default=None, max_length=200)
