"""The simulated partner tenant: customers, subscriptions and fraud events, answering as the
documented service does (developer/subscription-resources.md, suspend-a-subscription.md,
reactivate-a-suspended-a-subscription.md, error-codes.md, get-fraud-events.md,
update-fraud-events-status.md).

Resources are kept as camelCase dicts, exactly as Partner Center returns them, including fields
this app does not know. Legacy subscriptions (an offer id that is a GUID) carry an etag that
changes with every change; new-commerce ones (an offer id `product:sku[:availability]`) carry
none, and suspending one turns its auto-renew off, as documented.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pcsim.errors import SimError, refusal

PARTNER_SUSPENSION_REASON = "PartnerInitiated"
STATUSES = ("none", "active", "pending", "suspended", "expired", "disabled", "deleted")
SETTABLE = ("active", "suspended")
# What a status change of a subscription in another status is answered with (error-codes.md).
_NOT_UPDATABLE = {"deleted": 2011, "expired": 900277, "disabled": 900279, "pending": 800082, "none": 800081}
SEED_CREATED = "2026-01-05T08:00:00Z"
SEED_COMMITMENT_END = "2027-01-04T00:00:00Z"


def lower_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in data.items()}


def bare_etag(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/")
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


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
        return str(value).lower() if value else None

    @property
    def new_commerce(self) -> bool:
        return ":" in str(self.resource.get("offerId", ""))

    @property
    def etag(self) -> str | None:
        attributes = self.resource.get("attributes") or {}
        value = attributes.get("etag")
        return str(value) if value else None


@dataclass
class TenantState:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, StoredSubscription]] = field(default_factory=dict)
    fraud_events: list[dict[str, Any]] = field(default_factory=list)
    # Whether Partner Center brings suspended add-ons back with their base (no source says).
    addons_follow_reactivation: bool = True
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
                stored = StoredSubscription(state._documented(customer_id, copy.deepcopy(sub)))
                subs[stored.id.lower()] = stored
            state.subscriptions[customer_id] = subs
        state.fraud_events = copy.deepcopy(seed.get("fraudEvents", []))
        return state

    def _documented(self, customer_id: str, resource: dict[str, Any]) -> dict[str, Any]:
        """The fields every documented subscription item carries, where the seed left them out."""
        resource.setdefault("status", "active")
        resource.setdefault("creationDate", SEED_CREATED)
        resource.setdefault("effectiveStartDate", SEED_CREATED)
        resource.setdefault("commitmentEndDate", SEED_COMMITMENT_END)
        resource.setdefault("autoRenewEnabled", True)
        resource.setdefault("contractType", "subscription")
        offer = str(resource.get("offerId") or "unknown")
        resource.setdefault(
            "links",
            {
                "offer": {"uri": f"/v1/offers/{offer}", "method": "GET", "headers": []},
                "self": {
                    "uri": f"/v1/customers/{customer_id}/subscriptions/{resource['id']}",
                    "method": "GET",
                    "headers": [],
                },
            },
        )
        stored = StoredSubscription(resource)
        resource["attributes"] = {"objectType": "Subscription"}
        if not stored.new_commerce:
            resource["attributes"]["etag"] = self.new_etag()
        return resource

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
            raise SimError(404, 60003, f"Tenant {customer_id} not found.")
        return subs

    def subscription(self, customer_id: str, subscription_id: str) -> StoredSubscription:
        sub = self.subscriptions_of(customer_id).get(subscription_id.lower())
        if sub is None:
            raise SimError(404, 20003, f"Subscription with ID {subscription_id} not found.")
        return sub

    def add_subscription(self, customer_id: str, resource: dict[str, Any]) -> dict[str, Any]:
        """A new subscription of a known customer (a purchase), with the documented fields."""
        subs = self.subscriptions_of(customer_id)
        if str(resource.get("id", "")).lower() in subs or not resource.get("id"):
            raise ValueError(f"subscription id missing or taken: {resource.get('id')!r}")
        stored = StoredSubscription(self._documented(customer_id.lower(), copy.deepcopy(resource)))
        subs[stored.id.lower()] = stored
        return copy.deepcopy(stored.resource)

    def set_quantity(self, customer_id: str, subscription_id: str, quantity: int) -> None:
        """A seat change made elsewhere (a legacy subscription gets a new etag)."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValueError(f"quantity must be a whole number of seats, not {quantity!r}")
        sub = self.subscription(customer_id, subscription_id)
        sub.resource["quantity"] = quantity
        self._changed(sub)

    def set_status(
        self, sub: StoredSubscription, status: str, reason: str = PARTNER_SUSPENSION_REASON
    ) -> None:
        """Change the status as Partner Center does: reasons, auto-renew off on a new-commerce
        suspension, a new etag on a legacy subscription."""
        sub.resource["status"] = status
        if status == "suspended":
            sub.resource["suspensionReasons"] = [reason]
            if sub.new_commerce:
                sub.resource["autoRenewEnabled"] = False
        else:
            sub.resource.pop("suspensionReasons", None)
        self._changed(sub)

    def _changed(self, sub: StoredSubscription) -> None:
        if sub.etag is not None:
            sub.resource["attributes"] = {"etag": self.new_etag(), "objectType": "Subscription"}

    def patch(
        self, customer_id: str, subscription_id: str, body: Any, if_match: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Apply a PATCH: the documented body (full resource, PascalCase, nulls included) or a
        sparse one; returns (resource, whether anything changed)."""
        sub = self.subscription(customer_id, subscription_id)
        if not isinstance(body, dict):
            raise SimError(400, 800002, "Invalid request input.")
        sent = lower_keys(body)
        if sent.get("id") is not None and str(sent["id"]).lower() != sub.id.lower():
            raise SimError(400, 800002, "Invalid request input: the subscription id does not match.")
        if if_match is not None and sub.etag is not None and bare_etag(if_match) != sub.etag:
            raise SimError(400, 2055, "Etag is no longer valid")
        wanted = str(sent.get("status") or sub.status).lower()
        auto_renew = sent.get("autorenewenabled")
        auto_renew_before = sub.resource.get("autoRenewEnabled")
        if wanted not in STATUSES:
            raise SimError(400, 900126, f"Unable to parse enum: {sent.get('status')}")
        if wanted != sub.status:
            self._check_status_change(customer_id, sub, wanted, sent)
            self.set_status(sub, wanted)
            sub.followed_parent = False  # patched on its own: no longer follows its base
            self._addons_follow(customer_id, sub, wanted)
            changed = True
        else:
            changed = False
        if isinstance(auto_renew, bool) and auto_renew != auto_renew_before:
            if sub.status != "active":
                raise SimError(*refusal(800091))
            sub.resource["autoRenewEnabled"] = auto_renew
            self._changed(sub)
            changed = True
        return copy.deepcopy(sub.resource), changed

    def _check_status_change(
        self, customer_id: str, sub: StoredSubscription, wanted: str, sent: dict[str, Any]
    ) -> None:
        if sub.status not in SETTABLE:
            raise SimError(*refusal(_NOT_UPDATABLE.get(sub.status, 800096)))
        if wanted not in SETTABLE:
            raise SimError(*refusal(800096))
        quantity = sent.get("quantity")
        if quantity is not None and quantity != sub.resource.get("quantity"):
            raise SimError(*refusal(2001))
        if wanted == "active" and sub.parent_id:
            parent = self.subscriptions_of(customer_id).get(sub.parent_id)
            if parent is not None and parent.status != "active":
                raise SimError(*refusal(27009))

    def _addons_follow(self, customer_id: str, base: StoredSubscription, wanted: str) -> None:
        for addon in self.subscriptions_of(customer_id).values():
            if addon.parent_id != base.id.lower():
                continue
            if wanted == "suspended" and addon.status == "active":
                self.set_status(addon, "suspended")
                addon.followed_parent = True
            elif (
                wanted == "active"
                and self.addons_follow_reactivation
                and addon.followed_parent
                and addon.status == "suspended"
            ):
                self.set_status(addon, "active")
                addon.followed_parent = False

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
            return [_wire_event({k: v for k, v in e.items() if k in old_fields}) for e in events]
        if "eventtype" in q:
            events = [e for e in events if str(e.get("eventType", "")).lower() == q["eventtype"].lower()]
        size = int(q.get("pagesize", "0") or 0)
        if size > 0:
            number = max(1, int(q.get("pagenumber", "1") or 1))
            events = events[(number - 1) * size : number * size]
        return [_wire_event(e) for e in events]

    def update_fraud_events(self, subscription_id: str, body: Any) -> list[dict[str, Any]]:
        """Documented: an empty `EventIds` updates every event of the subscription;
        `ResolvedReason` (Fraud | Ignore) is required when resolving."""
        if not isinstance(body, dict):
            raise SimError(400, 800002, "Invalid request input.")
        sent = lower_keys(body)
        ids = {str(i) for i in sent.get("eventids") or []}
        status = str(sent.get("eventstatus") or "")
        reason = sent.get("resolvedreason")
        if status not in ("Resolved", "Investigating"):
            raise SimError(400, 800002, "EventStatus must be Resolved or Investigating.")
        if status == "Resolved" and reason not in ("Fraud", "Ignore"):
            raise SimError(400, 800002, "ResolvedReason (Fraud or Ignore) is required when resolving.")
        changed = []
        for event in self.fraud_events:
            if str(event.get("subscriptionId", "")).lower() != subscription_id.lower():
                continue
            if ids and str(event.get("eventId")) not in ids:
                continue
            event["eventStatus"] = status
            if status == "Resolved":
                event["resolvedReason"] = reason
            changed.append(_wire_event(event))
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


def _wire_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event as the documented answers show it: `hitCount` and `IsTest` as strings."""
    out = copy.deepcopy(event)
    if out.get("hitCount") is not None:
        out["hitCount"] = str(out["hitCount"])
    if "isTest" in out:
        out["IsTest"] = str(bool(out.pop("isTest"))).lower()
    return out


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
