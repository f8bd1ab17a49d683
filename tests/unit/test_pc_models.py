"""Partner Center payload models: case-insensitive, unknown fields and statuses kept."""

from __future__ import annotations

import pytest

from shared.adapters.partner_center.errors import (
    EtagNoLongerValid,
    PartnerCenterNotFound,
    Refused,
    Throttled,
    Transient,
    TryLater,
    Unauthorised,
    Unrecognised,
)
from shared.adapters.partner_center.http import correlation_guid, error_for
from shared.adapters.partner_center.models import Collection, Subscription, SubscriptionStatus


def test_pascal_and_camel_case_parse_the_same() -> None:
    camel = {
        "id": "s1",
        "offerName": "E3",
        "status": "active",
        "parentSubscriptionId": "p",
        "attributes": {"etag": "e"},
    }
    pascal = {
        "Id": "s1",
        "OfferName": "E3",
        "Status": "active",
        "ParentSubscriptionId": "p",
        "Attributes": {"Etag": "e"},
    }
    assert Subscription.model_validate(camel).to_wire() == Subscription.model_validate(pascal).to_wire()
    assert Subscription.model_validate(pascal).etag == "e"


def test_unknown_fields_round_trip_and_status_change_keeps_them() -> None:
    sub = Subscription.model_validate(
        {"id": "s1", "status": "active", "refundableQuantity": {"totalQuantity": 1}, "NewThing": [1]}
    )
    wire = sub.with_status(SubscriptionStatus.SUSPENDED).to_wire()
    assert wire["status"] == "suspended"
    assert wire["refundableQuantity"] == {"totalQuantity": 1} and wire["NewThing"] == [1]
    assert sub.status == "active"  # the original is unchanged


def test_unknown_status_values_do_not_crash() -> None:
    sub = Subscription.model_validate({"id": "s", "status": "Disabled"})
    assert sub.normalised_status == "disabled" and not sub.is_active and not sub.is_suspended
    assert Subscription.model_validate({"id": "s", "status": "SomethingNew"}).status == "SomethingNew"


def test_collection_with_next_link() -> None:
    page = Collection.model_validate(
        {
            "TotalCount": 1,
            "Items": [{"id": "c"}],
            "Links": {
                "Next": {
                    "Uri": "/customers?size=1&seekOperation=Next",
                    "Headers": [{"Key": "MS-ContinuationToken", "Value": "abc"}],
                }
            },
        }
    )
    assert page.links and page.links.next and page.links.next.header("ms-continuationtoken") == "abc"


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (
            429,
            {"message": "Rate limit is exceeded. Try again in 57 seconds."},
            {"retry-after": "57"},
            Throttled,
        ),
        (409, {"code": 409}, {}, TryLater),
        (412, {}, {}, EtagNoLongerValid),
        (400, {"code": 2055, "description": "Etag is no longer valid"}, {}, EtagNoLongerValid),
        (404, {}, {}, PartnerCenterNotFound),
        (401, {}, {}, Unauthorised),
        (403, {}, {}, Unauthorised),
        (503, {}, {}, Transient),
        (403, {"code": "900115", "description": "Azure plan has active subscriptions"}, {}, Refused),
        (400, {"code": "123456", "description": "something new"}, {}, Unrecognised),
    ],
)
def test_error_mapping(status: int, body: dict, headers: dict, kind: type) -> None:  # type: ignore[type-arg]
    error = error_for(status, headers, body, "rid")
    assert type(error) is kind and error.status == status
    if kind is Throttled:
        assert error.retry_after_seconds == 57  # type: ignore[attr-defined]
    if kind is Refused:
        assert error.error_code == 900115 and error.description == "Azure plan has active subscriptions"


def test_correlation_guid() -> None:
    guid = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    assert correlation_guid(guid) == guid.lower()
    assert correlation_guid("scan-1") == correlation_guid("scan-1") != correlation_guid("scan-2")


def test_a_5xx_retry_after_is_capped_inside_the_call() -> None:
    from types import SimpleNamespace

    from shared.adapters.partner_center.http import TransientOnlyRetryPolicy

    policy = TransientOnlyRetryPolicy(retry_total=2, retry_backoff_factor=0.2, retry_backoff_max=2)
    long_wait = SimpleNamespace(http_response=SimpleNamespace(headers={"Retry-After": "300"}))
    short_wait = SimpleNamespace(http_response=SimpleNamespace(headers={"Retry-After": "1"}))
    none = SimpleNamespace(http_response=SimpleNamespace(headers={}))
    assert policy.get_retry_after(long_wait) == 2  # type: ignore[arg-type]
    assert policy.get_retry_after(short_wait) == 1  # type: ignore[arg-type]
    assert policy.get_retry_after(none) is None  # type: ignore[arg-type]
