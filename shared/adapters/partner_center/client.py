"""The Partner Center operations this app uses: customers, subscriptions, suspend/reactivate."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from shared.adapters.partner_center.auth import PartnerCenterConfig, config_from_settings
from shared.adapters.partner_center.http import ApiCall, PartnerCenterHttp
from shared.adapters.partner_center.models import (
    Collection,
    Customer,
    Subscription,
    SubscriptionStatus,
    quoted_etag,
)
from shared.adapters.tables import Table
from shared.settings import AppSettings

API_PREFIX = "/v1"
CONTINUATION_HEADER = "MS-ContinuationToken"


def _next_page(collection: Collection) -> tuple[str, dict[str, str], str] | None:
    """(path, query, continuation token) of the next page, or None on the last page."""
    link = collection.links.next if collection.links else None
    if link is None or not link.uri:
        return None
    token = link.header(CONTINUATION_HEADER)
    if not token:
        return None
    parts = urlsplit(link.uri)
    path = parts.path if parts.path.startswith(API_PREFIX + "/") else API_PREFIX + parts.path
    return path, dict(parse_qsl(parts.query)), token


class PartnerCenterClient:
    """Typed calls; every method takes the correlation id of the chain it belongs to."""

    def __init__(self, http: PartnerCenterHttp) -> None:
        self.http = http

    @classmethod
    def from_config(
        cls, config: PartnerCenterConfig, credential: Any | None = None, pacing_table: Table | None = None
    ) -> PartnerCenterClient:
        return cls(PartnerCenterHttp(config, credential, pacing_table))

    def list_customers(
        self, *, correlation_id: str | None = None, page_size: int = 100
    ) -> Iterator[Customer]:
        """Every customer of the partner, page by page (`seekOperation=Next` + continuation)."""
        call = ApiCall(
            "GET", f"{API_PREFIX}/customers", params={"size": str(page_size)}, correlation_id=correlation_id
        )
        while True:
            result = self.http.send(call)
            page = Collection.model_validate(result.body or {})
            for item in page.items:
                yield Customer.model_validate(item)
            following = _next_page(page)
            if following is None:
                return
            path, params, token = following
            params.setdefault("seekOperation", "Next")
            call = ApiCall(
                "GET",
                path,
                params=params,
                headers={CONTINUATION_HEADER: token},
                correlation_id=correlation_id,
            )

    def list_subscriptions(
        self, customer_id: str, *, correlation_id: str | None = None
    ) -> list[Subscription]:
        """Every subscription of one customer (no paging is documented for this call)."""
        call = ApiCall(
            "GET", f"{API_PREFIX}/customers/{customer_id}/subscriptions", correlation_id=correlation_id
        )
        page = Collection.model_validate(self.http.send(call).body or {})
        return [Subscription.model_validate(item) for item in page.items]

    def get_subscription(
        self, customer_id: str, subscription_id: str, *, correlation_id: str | None = None
    ) -> Subscription:
        call = ApiCall(
            "GET",
            f"{API_PREFIX}/customers/{customer_id}/subscriptions/{subscription_id}",
            correlation_id=correlation_id,
        )
        return Subscription.model_validate(self.http.send(call).body or {})

    def update_subscription(
        self,
        customer_id: str,
        subscription: Subscription,
        *,
        correlation_id: str | None = None,
        request_id: str | None = None,
    ) -> Subscription:
        """PATCH the full resource as read, guarded by its etag (If-Match, in double quotes as
        documented) when it has one; new-commerce subscriptions may carry none."""
        headers = {"If-Match": quoted_etag(subscription.etag)} if subscription.etag else {}
        call = ApiCall(
            "PATCH",
            f"{API_PREFIX}/customers/{customer_id}/subscriptions/{subscription.id}",
            headers=headers,
            body=subscription.to_wire(),
            correlation_id=correlation_id,
            request_id=request_id or str(uuid.uuid4()),
        )
        return Subscription.model_validate(self.http.send(call).body or {})

    def set_status(
        self,
        customer_id: str,
        subscription: Subscription,
        status: SubscriptionStatus,
        *,
        correlation_id: str | None = None,
        request_id: str | None = None,
    ) -> Subscription:
        """Suspend or reactivate: the resource as read (full, with its etag), status changed."""
        return self.update_subscription(
            customer_id,
            subscription.with_status(status),
            correlation_id=correlation_id,
            request_id=request_id,
        )

    def set_auto_renew(
        self,
        customer_id: str,
        subscription: Subscription,
        enabled: bool,
        *,
        correlation_id: str | None = None,
        request_id: str | None = None,
    ) -> Subscription:
        """Turn auto-renew on or off: the resource as read, `autoRenewEnabled` changed. (Suspending
        a new-commerce subscription turns it off; "partners that remove a suspension should be
        sure to turn auto-renew back on".)"""
        return self.update_subscription(
            customer_id,
            subscription.with_auto_renew(enabled),
            correlation_id=correlation_id,
            request_id=request_id,
        )


_clients: dict[tuple[PartnerCenterConfig, str | None], PartnerCenterClient] = {}
_clients_lock = threading.Lock()


def client_for(settings: AppSettings, pacing_table: Table | None = None) -> PartnerCenterClient:
    """The process-wide client for these settings (created once, reused by every invocation);
    with `pacing_table`, its calls take their tokens from the fleet's shared budget there."""
    config = config_from_settings(settings)
    key = (config, pacing_table.name if pacing_table is not None else None)
    with _clients_lock:
        existing = _clients.get(key)
        if existing is None:
            existing = PartnerCenterClient.from_config(config, pacing_table=pacing_table)
            _clients[key] = existing
        return existing
