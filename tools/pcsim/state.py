"""The simulated partner tenant: customers, subscriptions (with etags) and fraud events.

Resources are kept as camelCase dicts, exactly as Partner Center returns them, including fields
this app does not know (so tests can check that a PATCH sends them back).
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARTNER_SUSPENSION_REASON = "PartnerInitiated"
SUBSCRIPTION_STATUSES = ("active", "suspended")


class SimError(Exception):
    """A Partner Center error response: HTTP status, error code and description."""

    def __init__(self, status: int, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description, "data": [], "source": "PartnerFD"}


def lower_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in data.items()}


@dataclass
class StoredSubscription:
    resource: dict[str, Any]
    # True when Partner Center suspended this add-on because its base was suspended.
    followed_parent: bool = False

    @property
    def id(self) -> str:
        return str(self.resource["id"])

    @property
    def status(self) -> str:
        return str(self.resource.get("status", "none")).lower()

    @property
    def parent_id(self) -> str | None:
        value = self.resource.get("parentSubscriptionId")
        return str(value) if value else None


@dataclass
class TenantState:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, StoredSubscription]] = field(default_factory=dict)
    fraud_events: list[dict[str, Any]] = field(default_factory=list)
    _etags: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    # --- seeding ---
    @classmethod
    def from_seed(cls, seed: dict[str, Any]) -> TenantState:
        state = cls()
        for raw in seed.get("customers", []):
            customer = {k: v for k, v in raw.items() if k != "subscriptions"}
            customer_id = str(customer["id"]).lower()
            customer["id"] = customer_id
            customer.setdefault("attributes", {"objectType": "Customer"})
            state.customers[customer_id] = customer
            subs: dict[str, StoredSubscription] = {}
            for sub in raw.get("subscriptions", []):
                resource = copy.deepcopy(sub)
                resource.setdefault("status", "active")
                resource["attributes"] = {"etag": state.new_etag(), "objectType": "Subscription"}
                subs[str(resource["id"]).lower()] = StoredSubscription(resource)
            state.subscriptions[customer_id] = subs
        state.fraud_events = copy.deepcopy(seed.get("fraudEvents", []))
        return state

    @staticmethod
    def load_seed(path: str | Path) -> dict[str, Any]:
        return dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def new_etag(self) -> str:
        return f"etag-{next(self._etags):08d}"

    # --- customers and subscriptions ---
    def customer_list(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(c) for c in self.customers.values()]

    def subscriptions_of(self, customer_id: str) -> dict[str, StoredSubscription]:
        subs = self.subscriptions.get(customer_id.lower())
        if subs is None:
            raise SimError(404, 600039, f"Customer {customer_id} was not found.")
        return subs

    def subscription(self, customer_id: str, subscription_id: str) -> StoredSubscription:
        sub = self.subscriptions_of(customer_id).get(subscription_id.lower())
        if sub is None:
            raise SimError(404, 800001, f"Subscription {subscription_id} was not found.")
        return sub

    def _set_status(self, sub: StoredSubscription, status: str) -> None:
        sub.resource["status"] = status
        if status == "suspended":
            sub.resource["suspensionReasons"] = [PARTNER_SUSPENSION_REASON]
            sub.resource["autoRenewEnabled"] = False
        else:
            sub.resource.pop("suspensionReasons", None)
        sub.resource["attributes"] = {"etag": self.new_etag(), "objectType": "Subscription"}

    def patch(
        self, customer_id: str, subscription_id: str, body: Any, if_match: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Apply a full-resource PATCH; returns (resource, whether anything changed)."""
        sub = self.subscription(customer_id, subscription_id)
        if not isinstance(body, dict):
            raise SimError(400, 400, "The request body must be a subscription resource.")
        sent = lower_keys(body)
        if str(sent.get("id", "")).lower() != sub.id.lower():
            raise SimError(400, 400, "The subscription id in the body does not match the path.")
        missing = [k for k in sub.resource if k.lower() not in sent and k != "attributes"]
        if missing:
            raise SimError(400, 400, f"A PATCH must send the full resource; missing: {', '.join(missing)}")
        if if_match is not None and if_match != sub.resource["attributes"]["etag"]:
            raise SimError(412, 2055, "Etag is no longer valid")
        wanted = str(sent.get("status", "")).lower()
        if wanted not in SUBSCRIPTION_STATUSES:
            raise SimError(400, 400, f"Unsupported status {sent.get('status')!r}.")
        if sub.status not in SUBSCRIPTION_STATUSES:
            raise SimError(400, 800091, f"Can't update a subscription with {sub.status} status.")
        if wanted == sub.status:
            return copy.deepcopy(sub.resource), False
        self._set_status(sub, wanted)
        sub.followed_parent = False  # patched on its own: no longer follows its base
        for addon in self.subscriptions_of(customer_id).values():
            if addon.parent_id is None or addon.parent_id.lower() != sub.id.lower():
                continue
            if wanted == "suspended" and addon.status == "active":
                self._set_status(addon, "suspended")
                addon.followed_parent = True
            elif wanted == "active" and addon.followed_parent and addon.status == "suspended":
                self._set_status(addon, "active")
                addon.followed_parent = False
        return copy.deepcopy(sub.resource), True

    # --- fraud events ---
    def list_fraud_events(self, query: dict[str, str], new_model: bool) -> list[dict[str, Any]]:
        q = lower_keys(query)
        events = self.fraud_events
        if "eventstatus" in q:
            events = [e for e in events if str(e.get("eventStatus", "")).lower() == q["eventstatus"].lower()]
        if "subscriptionid" in q:
            events = [
                e for e in events if str(e.get("subscriptionId", "")).lower() == q["subscriptionid"].lower()
            ]
        if not new_model:
            old_fields = set(_OLD_EVENT_FIELDS)
            return [{k: v for k, v in e.items() if k in old_fields} for e in events]
        if "eventtype" in q:
            events = [e for e in events if str(e.get("eventType", "")).lower() == q["eventtype"].lower()]
        size = int(q.get("pagesize", "0") or 0)
        if size > 0:
            number = max(1, int(q.get("pagenumber", "1") or 1))
            events = events[(number - 1) * size : number * size]
        return copy.deepcopy(events)

    def update_fraud_events(self, subscription_id: str, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            raise SimError(400, 400, "The request body must be an object.")
        sent = lower_keys(body)
        ids = {str(i) for i in sent.get("eventids") or []}
        status = str(sent.get("eventstatus", ""))
        if not ids or status not in ("Resolved", "Investigating"):
            raise SimError(400, 400, "EventIds and EventStatus (Resolved|Investigating) are required.")
        changed = []
        for event in self.fraud_events:
            if str(event.get("subscriptionId", "")).lower() != subscription_id.lower():
                continue
            if str(event.get("eventId")) not in ids:
                continue
            event["eventStatus"] = status
            if status == "Resolved":
                event["resolvedReason"] = sent.get("resolvedreason")
            changed.append(copy.deepcopy(event))
        return changed

    # --- control view ---
    def snapshot(self) -> dict[str, Any]:
        return {
            "customers": [
                {
                    **copy.deepcopy(customer),
                    "subscriptions": [copy.deepcopy(s.resource) for s in self.subscriptions[cid].values()],
                }
                for cid, customer in self.customers.items()
            ],
            "fraudEvents": copy.deepcopy(self.fraud_events),
        }


_OLD_EVENT_FIELDS = (
    "eventId",
    "eventTime",
    "customerTenantId",
    "subscriptionId",
    "subscriptionType",
    "entityName",
    "hitCount",
    "eventStatus",
    "serviceName",
    "resourceName",
    "resourceGroupName",
    "firstOccurrence",
    "lastOccurrence",
    "resolvedReason",
    "resolvedOn",
    "resolvedBy",
)
