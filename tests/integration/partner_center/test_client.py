"""The Partner Center client against the simulator over real HTTP."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from shared.adapters.partner_center import (
    EtagNoLongerValid,
    PartnerCenterError,
    PartnerCenterNotFound,
    SubscriptionStatus,
    Throttled,
    Transient,
    TryLater,
    Unauthorised,
)
from shared.adapters.partner_center.auth import config_from_settings
from shared.adapters.partner_center.client import PartnerCenterClient
from shared.adapters.partner_center.http import correlation_guid
from tests.integration.partner_center.conftest import (
    C1,
    C1_ADDON,
    C1_BASE,
    C2,
    C2_SUB,
    make_client,
    make_settings,
)
from tools.pcsim import DEMO_TENANT, Simulator


def demo() -> dict[str, Any]:
    return json.loads(DEMO_TENANT.read_text(encoding="utf-8"))


def test_customers_are_paged_with_the_continuation_token(sim: Simulator) -> None:
    client = make_client(sim)
    ids = [c.id for c in client.list_customers(page_size=1)]
    assert ids == [c["id"] for c in demo()["customers"]]
    calls = [c for c in sim.calls() if c["path"] == "/v1/customers"]
    assert len(calls) == 3
    assert "ms-continuationtoken" not in calls[0]["extra"]
    assert all(c["extra"].get("ms-continuationtoken") for c in calls[1:])
    assert {c["status"] for c in calls} == {200}


def test_headers_on_every_call(sim: Simulator) -> None:
    client = make_client(sim)
    client.list_subscriptions(C1, correlation_id="scan-2026-11-25")
    (call,) = sim.calls()
    assert call["extra"]["ms-contract-version"] == "v1"
    assert call["extra"]["accept"] == "application/json"
    assert uuid.UUID(call["request_id"])
    assert call["correlation_id"] == correlation_guid("scan-2026-11-25")  # a GUID, stable per chain
    assert call["extra"]["authorization"] is None  # PARTNER_CENTER_AUTH=none (simulator)


def test_bearer_token_from_the_credential_for_the_configured_scope(sim: Simulator) -> None:
    scopes: list[tuple[str, ...]] = []

    class FakeCredential:
        def get_token(self, *requested: str, **_: Any) -> AccessToken:
            scopes.append(requested)
            return AccessToken("token-123", 2_000_000_000)

    settings = make_settings(
        sim,
        "UseDevelopmentStorage=true",
        PARTNER_CENTER_AUTH="client_secret",
        PARTNER_CENTER_TENANT_ID="t",
        PARTNER_CENTER_CLIENT_ID="c",
        PARTNER_CENTER_CLIENT_SECRET="s",
    )
    config = config_from_settings(settings)
    client = PartnerCenterClient.from_config(config, FakeCredential())
    client.list_subscriptions(C1)
    assert scopes == [("https://graph.chinacloudapi.cn/.default",)]  # the 21Vianet app-only default
    assert sim.calls()[0]["extra"]["authorization"] == "Bearer"


def test_a_refused_token_is_unauthorised_not_transient(sim: Simulator) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    class RefusingCredential:
        def get_token(self, *requested: str, **_: Any) -> AccessToken:
            raise ClientAuthenticationError("AADSTS7000215: Invalid client secret provided.")

    settings = make_settings(
        sim,
        "UseDevelopmentStorage=true",
        PARTNER_CENTER_AUTH="client_secret",
        PARTNER_CENTER_TENANT_ID="t",
        PARTNER_CENTER_CLIENT_ID="c",
        PARTNER_CENTER_CLIENT_SECRET="s",
    )
    client = PartnerCenterClient.from_config(config_from_settings(settings), RefusingCredential())
    with pytest.raises(Unauthorised, match="token"):
        client.list_subscriptions(C1)
    assert sim.calls() == []  # nothing reached Partner Center


def test_pascal_case_responses_parse(sim: Simulator) -> None:
    sim.set_response_case("pascal")
    subs = {s.id: s for s in make_client(sim).list_subscriptions(C1)}
    addon = subs[C1_ADDON]
    assert addon.parent_subscription_id == C1_BASE
    assert addon.offer_name == "Microsoft Defender for Office 365 (Plan 1)"
    assert addon.is_active and addon.etag is None  # new commerce: no etag
    legacy = make_client(sim).get_subscription(C2, C2_SUB)
    assert legacy.etag and sim.calls()[-1]["status"] == 200


def test_the_patch_sends_the_resource_as_read_with_no_null_added(sim: Simulator) -> None:
    client = make_client(sim)
    sub = client.get_subscription(C1, C1_BASE)
    assert sub.model_extra and sub.model_extra["refundableQuantity"] == {"totalQuantity": 0, "details": []}
    read = sim.subscription(C1, C1_BASE)
    result = client.set_status(C1, sub, SubscriptionStatus.SUSPENDED)
    assert result.is_suspended
    sent = sim.calls()[-1]["body"]
    assert sent == {**read, "status": "suspended"}  # every field as read, nothing added
    assert "suspensionReasons" not in sent and "entitlementId" not in sent  # not in the read: not sent
    assert "if-match" not in sim.calls()[-1]["extra"]  # new commerce: no etag, no If-Match


def test_if_match_goes_out_in_double_quotes_and_etags_read_back_in_either_form(sim: Simulator) -> None:
    client = make_client(sim)
    sub = client.get_subscription(C2, C2_SUB)
    etag = sim.subscription(C2, C2_SUB)["attributes"]["etag"]
    assert sub.etag == etag
    client.set_status(C2, sub, SubscriptionStatus.SUSPENDED)
    assert sim.calls()[-1]["extra"]["if-match"] == f'"{etag}"'
    assert sim.subscription(C2, C2_SUB)["status"] == "suspended"
    quoted = sub.model_copy(update={"attributes": sub.attributes.model_copy(update={"etag": f'"{etag}"'})})  # type: ignore[union-attr]
    assert quoted.etag == etag


def test_unknown_status_is_parsed_and_a_patch_on_it_is_a_typed_error(sim: Simulator) -> None:
    seed = demo()
    seed["customers"][0]["subscriptions"][0]["status"] = "disabled"
    sim.reset(seed)
    client = make_client(sim)
    sub = client.get_subscription(C1, C1_BASE)
    assert sub.status == "disabled" and not sub.is_active and not sub.is_suspended
    with pytest.raises(PartnerCenterError) as err:
        client.set_status(C1, sub, SubscriptionStatus.SUSPENDED)
    assert err.value.status == 400 and err.value.error_code == 900279  # documented for `disabled`
    assert err.value.classification.kind.value == "refused"


def test_stale_etag_is_a_typed_error(sim: Simulator) -> None:
    client = make_client(sim)
    sub = client.get_subscription(C2, C2_SUB)
    client.set_status(C2, sub, SubscriptionStatus.SUSPENDED)
    with pytest.raises(EtagNoLongerValid) as err:
        client.set_status(C2, sub, SubscriptionStatus.ACTIVE)  # the etag read before the change
    assert err.value.status == 400 and err.value.error_code == 2055  # documented: 400/2055


def test_not_found_unauthorised_and_renewal_window(sim: Simulator) -> None:
    client = make_client(sim)
    with pytest.raises(PartnerCenterNotFound):
        client.list_subscriptions(str(uuid.uuid4()))
    sub = client.get_subscription(C1, C1_BASE)
    sim.renewal_window(C1_BASE)
    with pytest.raises(TryLater) as later:
        client.set_status(C1, sub, SubscriptionStatus.SUSPENDED)
    assert later.value.classification.renewal_window
    sim.add_fault("status", status=401, code=900)
    with pytest.raises(Unauthorised):
        client.get_subscription(C1, C1_BASE)
    patches = [c for c in sim.calls() if c["method"] == "PATCH"]
    assert len(patches) == 1  # a 409 is handed back, not retried


def test_throttled_carries_retry_after_and_is_not_retried(sim: Simulator) -> None:
    client = make_client(sim)
    sim.add_fault("throttle", seconds=42, times=1)
    with pytest.raises(Throttled) as err:
        client.list_subscriptions(C1)
    assert err.value.retry_after_seconds == 42 and err.value.status == 429
    assert len(sim.calls()) == 1


def test_rate_limit_of_the_simulator_gives_throttled(sim: Simulator) -> None:
    sim.set_rate_limit(2)
    client = make_client(sim)
    client.list_subscriptions(C1)
    client.list_subscriptions(C1)
    with pytest.raises(Throttled) as err:
        client.list_subscriptions(C1)
    assert err.value.retry_after_seconds is not None and 0 < err.value.retry_after_seconds <= 60


def test_transient_errors_are_retried_with_the_same_request_id(sim: Simulator) -> None:
    client = make_client(sim)
    sim.add_fault("status", status=503, times=1)
    sim.add_fault("drop", times=1)
    assert len(client.list_subscriptions(C1)) == 3
    calls = sim.calls()
    assert len(calls) == 3 and len({c["request_id"] for c in calls}) == 1
    assert [c["fault"] for c in calls] == ["status", "drop", None]


def test_lost_patch_response_is_retried_and_replayed_not_applied_twice(sim: Simulator) -> None:
    client = make_client(sim)
    sub = client.get_subscription(C1, C1_BASE)
    sim.add_fault("lose_response", method="PATCH", times=1)
    assert client.set_status(C1, sub, SubscriptionStatus.SUSPENDED).is_suspended
    patches = [c for c in sim.calls() if c["method"] == "PATCH"]
    assert len(patches) == 2 and patches[0]["request_id"] == patches[1]["request_id"]
    assert [p["applied"] for p in patches] == [True, False] and patches[1]["replayed"]


def test_persistent_failures_and_timeouts_become_transient(sim: Simulator) -> None:
    client = make_client(sim, PARTNER_CENTER_TIMEOUT_SECONDS="0.5", PARTNER_CENTER_RETRIES="1")
    sim.add_fault("status", status=500)
    with pytest.raises(Transient):
        client.list_subscriptions(C1)
    assert len(sim.calls()) == 2  # the call and one retry
    sim.clear_faults()
    sim.add_fault("latency", seconds=1.0, times=2)
    with pytest.raises(Transient):
        client.list_subscriptions(C1)


def test_clouds_and_base_url_override() -> None:
    from shared.settings import load_settings

    base = {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "PARTNER_CENTER_TENANT_ID": "t",
        "PARTNER_CENTER_CLIENT_ID": "c",
        "PARTNER_CENTER_CLIENT_SECRET": "s",
    }
    china = config_from_settings(load_settings(**base))
    assert china.base_url == "https://partner.partnercenterapi.microsoftonline.cn"
    assert china.authority == "https://login.chinacloudapi.cn"
    assert china.scope == "https://graph.chinacloudapi.cn/.default"
    moved = config_from_settings(
        load_settings(**base, PARTNER_CENTER_AUTHORITY="https://login.partner.microsoftonline.cn/")
    )
    assert moved.authority == "https://login.partner.microsoftonline.cn"  # still a setting
    world = config_from_settings(
        load_settings(**base, PARTNER_CENTER_CLOUD="global", PARTNER_CENTER_SCOPE="x/.default")
    )
    assert world.base_url == "https://api.partnercenter.microsoft.com"
    assert world.authority == "https://login.microsoftonline.com" and world.scope == "x/.default"
    local = config_from_settings(
        load_settings(**copy.deepcopy(base), PARTNER_CENTER_BASE_URL="http://127.0.0.1:7081/")
    )
    assert local.base_url == "http://127.0.0.1:7081"
