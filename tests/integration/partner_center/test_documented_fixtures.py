"""The documented sample requests and responses (tests/fixtures/partner_center/) against the
client's parsing and against the simulator: what Microsoft documents, both sides take."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.adapters.partner_center import ErrorKind, SubscriptionStatus
from shared.adapters.partner_center.fraud_events import (
    FraudEvent,
    FraudEventStatus,
    ResolvedReason,
    list_active_events,
    set_event_status,
)
from shared.adapters.partner_center.http import error_for
from shared.adapters.partner_center.models import Subscription
from tests.integration.partner_center.conftest import make_client
from tools.pcsim import Simulator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "partner_center"
CUSTOMER = "c6e0f2a1-1b2c-4d5e-8f90-a1b2c3d4e5f6"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def documented(sim: Simulator) -> Simulator:
    """A tenant holding the documented subscriptions (a legacy one, a new-commerce one) and the
    documented fraud event."""
    legacy = fixture("subscription_legacy.json")
    new = fixture("subscription_new_commerce.json")
    event = {k: v for k, v in fixture("fraud_events.json")[0].items() if k != "IsTest"}
    event["isTest"] = False
    sim.reset(
        {
            "customers": [
                {"id": CUSTOMER, "companyProfile": {"companyName": "Fixture"}, "subscriptions": [legacy, new]}
            ],
            "fraudEvents": [event],
        }
    )
    return sim


def test_the_client_parses_the_documented_subscriptions() -> None:
    legacy = Subscription.model_validate(fixture("subscription_legacy.json"))
    assert legacy.is_active and legacy.etag and legacy.auto_renew_enabled is False
    new = Subscription.model_validate(fixture("subscription_new_commerce.json"))
    assert new.etag is None and new.auto_renew_enabled is True  # new commerce: no etag
    assert new.model_extra and new.model_extra["creationDate"] == "2026-03-01T08:00:00Z"
    answer = Subscription.model_validate(fixture("suspend_response.json"))  # PascalCase
    assert answer.is_suspended and answer.etag and answer.id == legacy.id
    assert answer.parent_subscription_id is None


def test_the_client_parses_the_documented_fraud_events_and_error_bodies() -> None:
    (event,) = [FraudEvent.model_validate(e) for e in fixture("fraud_events.json")]
    assert event.hit_count == 10 and event.is_test is False  # both arrive as strings
    assert event.event_type == "NetworkConnectionsToCryptoMiningPools"
    expected = {
        "azure_plan_active": ErrorKind.REFUSED,
        "status_not_updatable": ErrorKind.REFUSED,
        "stale_etag": ErrorKind.STALE_ETAG,
        "pending_operation": ErrorKind.TRY_LATER,
        "child_parent_inactive": ErrorKind.REFUSED,
        "subscription_not_found": ErrorKind.NOT_FOUND,
        "partner_token_missing": ErrorKind.TOKEN_REFUSED,
        "conditional_access": ErrorKind.TOKEN_REFUSED,
        "throttled": ErrorKind.THROTTLED,
    }
    for name, sample in fixture("errors.json").items():
        error = error_for(sample["status"], sample.get("headers", {}), sample["body"], "rid")
        assert error.classification.kind is expected[name], name
        if "code" in sample["body"]:
            assert str(error.error_code) == str(sample["body"]["code"])
            assert error.description == sample["body"]["description"]


def test_the_simulator_takes_the_documented_suspend_and_reactivate_bodies(documented: Simulator) -> None:
    sub_id = fixture("subscription_legacy.json")["id"]
    url = f"{documented.base_url}/v1/customers/{CUSTOMER}/subscriptions/{sub_id}"
    etag = documented.subscription(CUSTOMER, sub_id)["attributes"]["etag"]
    body = fixture("suspend_request.json")
    body["Attributes"]["Etag"] = etag
    headers = {"If-Match": f'"{etag}"', "MS-RequestId": "ca7c39f7-0000-4000-8000-000000000001"}
    answer = requests.patch(url, json=body, headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "suspended" and answer.json()["links"]["self"]
    assert answer.headers["MS-RequestId"] == headers["MS-RequestId"]
    assert answer.headers["MS-CorrelationId"]
    # the documented response shape parses, and the old etag is stale now (documented: 400/2055)
    assert Subscription.model_validate(answer.json()).is_suspended
    back = fixture("reactivate_request.json")
    stale = requests.patch(url, json=back, headers={"If-Match": f'"{etag}"'}, timeout=5)
    assert stale.status_code == 400 and stale.json()["code"] == "2055"
    fresh = documented.subscription(CUSTOMER, sub_id)["attributes"]["etag"]
    again = requests.patch(url, json=back, headers={"If-Match": fresh}, timeout=5)  # unquoted too
    assert again.status_code == 200 and again.json()["status"] == "active"


def test_the_client_suspends_the_documented_subscriptions_on_the_simulator(documented: Simulator) -> None:
    client = make_client(documented)
    legacy, new = client.list_subscriptions(CUSTOMER)
    assert legacy.etag and new.etag is None
    assert client.set_status(CUSTOMER, legacy, SubscriptionStatus.SUSPENDED).is_suspended
    suspended = client.set_status(CUSTOMER, new, SubscriptionStatus.SUSPENDED)
    assert suspended.is_suspended and suspended.auto_renew_enabled is False  # documented for new commerce
    assert documented.subscription(CUSTOMER, legacy.id)["autoRenewEnabled"] is False  # as it was
    patches = [c for c in documented.calls() if c["method"] == "PATCH"]
    assert patches[0]["extra"]["if-match"] == f'"{legacy.etag}"' and "if-match" not in patches[1]["extra"]


def test_fraud_events_come_as_a_bare_array_and_an_empty_event_list_updates_all(documented: Simulator) -> None:
    raw = requests.get(
        f"{documented.base_url}/v1/fraudEvents",
        params={"EventStatus": "Active"},
        headers={"X-NewEventsModel": "true"},
        timeout=5,
    )
    assert (
        isinstance(raw.json(), list)
        and raw.json()[0]["hitCount"] == "10"
        and raw.json()[0]["IsTest"] == "false"
    )
    client = make_client(documented)
    (event,) = list(list_active_events(client))
    assert event.hit_count == 10
    body = fixture("fraud_events_update.json")
    url = f"{documented.base_url}/v1/fraudEvents/subscription/{event.subscription_id}/status"
    assert requests.post(url, json={**body, "ResolvedReason": None}, timeout=5).status_code == 400  # required
    updated = set_event_status(
        client, event.subscription_id, [], FraudEventStatus.RESOLVED, reason=ResolvedReason.FRAUD
    )
    assert [e.event_id for e in updated] == [event.event_id]  # empty EventIds: every event of it
    assert list(list_active_events(client)) == []
