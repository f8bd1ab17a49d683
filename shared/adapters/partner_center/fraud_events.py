"""Partner Center fraud events (global cloud; App+User authentication): list and status update.

Built on the shared client's plumbing (`PartnerCenterHttp.send` with an `ApiCall`): pacing,
retries of transient failures, MS-RequestId/MS-CorrelationId and error mapping come from there.
The shared client has no fraud-event calls, so the two requests are written here.

- `GET /v1/fraudEvents?EventStatus=Active` with `X-NewEventsModel: true`, which adds
  `EventType`, `PageSize` and `PageNumber` (paging: ask for the next page number until a page
  comes back short).
- `POST /v1/fraudEvents/subscription/{subscriptionId}/status` with `EventIds`, `EventStatus`
  (`Investigating` | `Resolved`) and `ResolvedReason` (`Fraud` | `Ignore`). It only changes the
  event's status; it stops nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.adapters.partner_center.client import API_PREFIX, PartnerCenterClient
from shared.adapters.partner_center.http import ApiCall
from shared.adapters.partner_center.models import Collection

log = logging.getLogger(__name__)

NEW_EVENTS_MODEL_HEADER = "X-NewEventsModel"
MAX_PAGES = 100


class FraudEventStatus(StrEnum):
    ACTIVE = "Active"
    INVESTIGATING = "Investigating"
    RESOLVED = "Resolved"


class ResolvedReason(StrEnum):
    FRAUD = "Fraud"
    IGNORE = "Ignore"


class FraudEvent(BaseModel):
    """One event as Partner Center returns it (names matched case-insensitively)."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=200)
    event_time: datetime | None = None
    customer_tenant_id: str = ""
    subscription_id: str = ""
    subscription_type: str | None = None
    entity_name: str | None = None
    hit_count: int | None = None
    event_status: str | None = None
    service_name: str | None = None
    resource_name: str | None = None
    resource_group_name: str | None = None
    first_occurrence: datetime | None = None
    last_occurrence: datetime | None = None
    event_type: str | None = None
    severity: str | None = None
    confidence_level: str | None = None
    is_test: bool = False

    @model_validator(mode="before")
    @classmethod
    def _case_insensitive(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        by_plain = {name.replace("_", ""): name for name in cls.model_fields}
        out: dict[str, Any] = {}
        for key, value in data.items():
            name = by_plain.get(str(key).replace("_", "").lower())
            if name is not None and value is not None:
                out[name] = value
        return out


def list_active_events(
    client: PartnerCenterClient, *, page_size: int = 100, correlation_id: str | None = None
) -> Iterator[FraudEvent]:
    """Every active fraud event, page by page (new events model).

    An item that is not an event (no id, a malformed time) is logged and skipped: one bad item
    must not stop every run of the poll.
    """
    for number in range(1, MAX_PAGES + 1):
        call = ApiCall(
            "GET",
            f"{API_PREFIX}/fraudEvents",
            params={
                "EventStatus": FraudEventStatus.ACTIVE.value,
                "PageSize": str(page_size),
                "PageNumber": str(number),
            },
            headers={NEW_EVENTS_MODEL_HEADER: "true"},
            correlation_id=correlation_id,
        )
        items = _items(client.http.send(call).body)
        for item in items:
            try:
                event = FraudEvent.model_validate(item)
            except ValidationError as exc:
                log.warning("fraud event skipped: not a valid event", extra={"errors": exc.error_count()})
                continue
            yield event
        if len(items) < page_size:
            return


def set_event_status(
    client: PartnerCenterClient,
    subscription_id: str,
    event_ids: list[str],
    status: FraudEventStatus,
    *,
    reason: ResolvedReason | None = None,
    correlation_id: str | None = None,
) -> list[FraudEvent]:
    """Mark events of one subscription `Investigating` or `Resolved` (with a reason)."""
    if status is FraudEventStatus.ACTIVE:
        raise ValueError("events can be set to Investigating or Resolved only")
    if status is FraudEventStatus.RESOLVED and reason is None:
        raise ValueError("a resolved event needs a reason (Fraud or Ignore)")
    body: dict[str, Any] = {"EventIds": event_ids, "EventStatus": status.value}
    if reason is not None:
        body["ResolvedReason"] = reason.value
    call = ApiCall(
        "POST",
        f"{API_PREFIX}/fraudEvents/subscription/{subscription_id}/status",
        body=body,
        correlation_id=correlation_id,
    )
    return [FraudEvent.model_validate(item) for item in _items(client.http.send(call).body)]


def _items(body: Any) -> list[Any]:
    """The events in an answer: a collection (`items`) or, tolerated, a bare list."""
    if isinstance(body, list):
        return body
    return Collection.model_validate(body or {}).items
