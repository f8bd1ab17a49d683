"""Partner Center payloads as pydantic models.

Parsing is case-insensitive (responses are camelCase, documented request bodies PascalCase) and
keeps every unknown field, because a PATCH must send the full resource back. Status values stay
strings: Partner Center returns undocumented ones (`disabled`), which must not crash a reconcile.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class SubscriptionStatus(StrEnum):
    """The documented statuses (subscription-resources.md); others are kept as strings."""

    NONE = "none"
    ACTIVE = "active"
    PENDING = "pending"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    DISABLED = "disabled"
    DELETED = "deleted"


class PartnerCenterModel(BaseModel):
    """Base: camelCase aliases, any key case accepted, unknown fields kept as sent."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _match_keys_case_insensitively(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known: dict[str, str] = {}
        for name, field in cls.model_fields.items():
            alias = field.alias or name
            known[alias.lower()] = alias
            known[name.lower()] = alias
        renamed: dict[str, Any] = {}
        for key, value in data.items():
            target = known.get(str(key).lower(), str(key))
            # A field given twice in different cases: keep the first, as the service would.
            renamed.setdefault(target, value)
        return renamed

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: the fields the read returned (known ones camelCase, unknown ones
        as they came) and those changed since; never a `null` for a field the read did not have."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class ResourceAttributes(PartnerCenterModel):
    etag: str | None = None
    object_type: str | None = None


def bare_etag(value: str | None) -> str | None:
    """An etag as read, in either form (`abc`, `"abc"`, `W/"abc"`), without its quotes."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text or None


def quoted_etag(value: str) -> str:
    """The If-Match value: "ETag values should be included in double quotation marks"."""
    return f'"{bare_etag(value) or ""}"'


class Link(PartnerCenterModel):
    uri: str = ""
    method: str = "GET"
    headers: list[dict[str, Any]] = Field(default_factory=list)

    def header(self, name: str) -> str | None:
        """A header of the link (`[{key, value}]`), matched case-insensitively."""
        for item in self.headers:
            lowered = {str(k).lower(): v for k, v in item.items()}
            if str(lowered.get("key", "")).lower() == name.lower():
                value = lowered.get("value")
                return None if value is None else str(value)
        return None


class Links(PartnerCenterModel):
    next: Link | None = None
    self_: Link | None = Field(default=None, alias="self")


class CompanyProfile(PartnerCenterModel):
    tenant_id: str | None = None
    domain: str | None = None
    company_name: str | None = None


class Customer(PartnerCenterModel):
    id: str
    company_profile: CompanyProfile | None = None
    relationship_to_partner: str | None = None


class Subscription(PartnerCenterModel):
    """A subscription as Partner Center returns it (the full resource: PATCH sends it back)."""

    id: str
    offer_id: str | None = None
    offer_name: str | None = None
    friendly_name: str | None = None
    quantity: int | None = None
    status: str = SubscriptionStatus.NONE.value
    auto_renew_enabled: bool | None = None
    parent_subscription_id: str | None = None
    suspension_reasons: list[str] | None = None
    attributes: ResourceAttributes | None = None

    @property
    def normalised_status(self) -> str:
        return self.status.strip().lower()

    @property
    def is_active(self) -> bool:
        return self.normalised_status == SubscriptionStatus.ACTIVE.value

    @property
    def is_suspended(self) -> bool:
        return self.normalised_status == SubscriptionStatus.SUSPENDED.value

    @property
    def is_add_on(self) -> bool:
        return bool(self.parent_subscription_id)

    @property
    def etag(self) -> str | None:
        """The etag without quotes (legacy subscriptions carry one; new-commerce ones may not)."""
        return bare_etag(self.attributes.etag) if self.attributes else None

    def with_status(self, status: SubscriptionStatus) -> Subscription:
        """A copy with `status` changed and everything else (unknown fields too) kept."""
        return self._changed(status=status.value)

    def with_auto_renew(self, enabled: bool) -> Subscription:
        """A copy with `autoRenewEnabled` changed and everything else kept."""
        return self._changed(auto_renew_enabled=enabled)

    def _changed(self, **update: Any) -> Subscription:
        copy = self.model_copy(update=update)
        copy.__pydantic_fields_set__.update(update)  # sent even when the read had no such field
        return copy


class Collection(PartnerCenterModel):
    total_count: int | None = None
    items: list[dict[str, Any]] = Field(default_factory=list)
    links: Links | None = None
    attributes: ResourceAttributes | None = None
