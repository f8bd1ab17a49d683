"""The Partner Center simulator itself, over HTTP: the behaviours the other tests rely on."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest
import requests

from tests.burst import simultaneous_requests
from tests.integration.partner_center.conftest import C1, C1_ADDON, C1_BASE, C2, C2_SUB
from tools.pcsim import DEMO_TENANT, Simulator
from tools.pcsim.faults import FaultInjector, FaultKind, FaultRule


def sub_url(sim: Simulator, customer: str, sub: str) -> str:
    return f"{sim.base_url}/v1/customers/{customer}/subscriptions/{sub}"


def patch(sim: Simulator, customer: str, sub: str, status: str, **headers: str) -> requests.Response:
    resource = requests.get(sub_url(sim, customer, sub), timeout=5).json()
    resource["status"] = status
    return requests.patch(sub_url(sim, customer, sub), json=resource, headers=headers, timeout=5)


def test_rate_limit_answers_429_with_retry_after_and_the_documented_message(sim: Simulator) -> None:
    sim.set_rate_limit(3)
    answers = [requests.get(f"{sim.base_url}/v1/customers", timeout=5) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    retry_after = int(answers[-1].headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert answers[-1].json()["message"] == f"Rate limit is exceeded. Try again in {retry_after} seconds."


def test_rate_limit_window_slides(sim: Simulator) -> None:
    sim.set_rate_limit(1, window_seconds=0.3)
    assert requests.get(f"{sim.base_url}/v1/customers", timeout=5).status_code == 200
    assert requests.get(f"{sim.base_url}/v1/customers", timeout=5).status_code == 429
    time.sleep(0.35)
    assert requests.get(f"{sim.base_url}/v1/customers", timeout=5).status_code == 200


def test_patch_takes_a_sparse_or_full_body_and_checks_a_quoted_or_bare_etag(sim: Simulator) -> None:
    resource = requests.get(sub_url(sim, C2, C2_SUB), timeout=5).json()
    etag = resource["attributes"]["etag"]
    sparse = requests.patch(
        sub_url(sim, C2, C2_SUB), json={"Status": "suspended"}, headers={"If-Match": f'"{etag}"'}, timeout=5
    )
    assert sparse.status_code == 200 and sparse.json()["attributes"]["etag"] != etag
    stale = patch(sim, C2, C2_SUB, "active", **{"If-Match": f'"{etag}"'})
    assert stale.status_code == 400 and stale.json()["code"] == "2055"  # documented: 400/2055
    assert stale.json()["description"] == "Etag is no longer valid"
    assert patch(sim, C2, C2_SUB, "active").status_code == 200  # If-Match is checked only when sent


def test_unknown_subscription_and_tenant_answer_the_documented_codes(sim: Simulator) -> None:
    missing = requests.get(sub_url(sim, C1, str(uuid.uuid4())), timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == "20003"
    tenant = requests.get(f"{sim.base_url}/v1/customers/{uuid.uuid4()}/subscriptions", timeout=5)
    assert tenant.status_code == 404 and tenant.json()["code"] == "60003"
    assert set(tenant.json()) == {"code", "description", "data", "source"}


def test_items_carry_the_documented_fields_legacy_with_etags_new_commerce_without(sim: Simulator) -> None:
    items = requests.get(f"{sim.base_url}/v1/customers/{C1}/subscriptions", timeout=5).json()["items"]
    for item in items:
        assert {"creationDate", "effectiveStartDate", "commitmentEndDate", "links"} <= set(item)
        assert item["attributes"]["objectType"] == "Subscription"
        assert "etag" not in item["attributes"]  # C1's offers are new commerce
    legacy = requests.get(sub_url(sim, C2, C2_SUB), timeout=5).json()
    assert legacy["attributes"]["etag"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("deleted", "2011"),
        ("expired", "900277"),
        ("disabled", "900279"),
        ("pending", "800082"),
        ("none", "800081"),
    ],
)
def test_every_documented_status_is_known_and_refuses_a_status_change(
    sim: Simulator, status: str, code: str
) -> None:
    seed = json.loads(DEMO_TENANT.read_text(encoding="utf-8"))
    seed["customers"][1]["subscriptions"][0]["status"] = status
    sim.reset(seed)
    answer = patch(sim, C2, C2_SUB, "suspended")
    assert answer.json()["code"] == code and answer.status_code in (400, 409)


def test_a_new_commerce_suspension_turns_auto_renew_off_and_a_reactivation_leaves_it_off(
    sim: Simulator,
) -> None:
    assert sim.subscription(C1, C1_BASE)["autoRenewEnabled"] is True
    patch(sim, C1, C1_BASE, "suspended")
    assert sim.subscription(C1, C1_BASE)["autoRenewEnabled"] is False
    assert sim.subscription(C1, C1_ADDON)["autoRenewEnabled"] is False  # the add-on followed
    patch(sim, C1, C1_BASE, "active")
    assert sim.subscription(C1, C1_BASE)["autoRenewEnabled"] is False  # "turn auto-renew back on"
    on = requests.get(sub_url(sim, C1, C1_BASE), timeout=5).json()
    on["autoRenewEnabled"] = True
    assert requests.patch(sub_url(sim, C1, C1_BASE), json=on, timeout=5).json()["autoRenewEnabled"] is True
    patch(sim, C2, C2_SUB, "suspended")
    assert sim.subscription(C2, C2_SUB)["autoRenewEnabled"] is True  # legacy: as it was


def test_whether_add_ons_come_back_with_their_base_is_a_switch(sim: Simulator) -> None:
    sim.set_addons_follow_reactivation(False)
    patch(sim, C1, C1_BASE, "suspended")
    patch(sim, C1, C1_BASE, "active")
    assert sim.subscription(C1, C1_ADDON)["status"] == "suspended"
    parent_down = patch(sim, C1, C1_BASE, "suspended")
    assert parent_down.status_code == 200
    child = patch(sim, C1, C1_ADDON, "active")
    assert child.status_code == 409 and child.json()["code"] == "27009"  # the parent isn't active


@pytest.mark.parametrize(
    ("code", "status"), [(900115, 403), (800096, 400), (900278, 409), (27009, 409), (900311, 400)]
)
def test_any_documented_refusal_is_injectable_per_subscription(
    sim: Simulator, code: int, status: int
) -> None:
    sim.refuse(C1_BASE, code=code)
    refused = patch(sim, C1, C1_BASE, "suspended")
    assert refused.status_code == status and refused.json()["code"] == str(code)
    assert refused.json()["description"] and "Injected" not in refused.json()["description"]
    assert patch(sim, C2, C2_SUB, "suspended").status_code == 200  # another subscription: not refused


def test_a_deferred_patch_answers_nothing_and_applies_when_told(sim: Simulator) -> None:
    resource = requests.get(sub_url(sim, C2, C2_SUB), timeout=5).json()
    resource["status"] = "suspended"
    sim.add_fault("defer", method="PATCH", times=2)
    for _ in range(2):  # the call and its retry with the same MS-RequestId
        with pytest.raises(requests.ConnectionError):
            requests.patch(
                sub_url(sim, C2, C2_SUB), json=resource, headers={"MS-RequestId": "r-1"}, timeout=5
            )
    assert sim.subscription(C2, C2_SUB)["status"] == "active"
    assert sim.apply_deferred() == 1  # applied once; the repeat of the request id is a replay
    assert sim.subscription(C2, C2_SUB)["status"] == "suspended"
    patches = [(c["fault"], c["applied"], c["replayed"]) for c in sim.calls() if c["method"] == "PATCH"]
    assert patches == [("defer", True, False), ("defer", False, True)]


def test_add_ons_follow_their_base(sim: Simulator) -> None:
    assert patch(sim, C1, C1_BASE, "suspended").status_code == 200
    addon = sim.subscription(C1, C1_ADDON)
    assert addon["status"] == "suspended" and addon["suspensionReasons"] == ["PartnerInitiated"]
    assert patch(sim, C1, C1_BASE, "active").status_code == 200
    assert sim.subscription(C1, C1_ADDON)["status"] == "active"


def test_an_add_on_suspended_on_its_own_stays_suspended_when_the_base_comes_back(sim: Simulator) -> None:
    sim.set_subscription_status(C1, C1_ADDON, "suspended", "CustomerCancellation")
    patch(sim, C1, C1_BASE, "suspended")
    patch(sim, C1, C1_BASE, "active")
    assert sim.subscription(C1, C1_ADDON)["status"] == "suspended"


def test_replayed_patch_returns_the_first_result_and_changes_nothing(sim: Simulator) -> None:
    request_id = str(uuid.uuid4())
    first = patch(sim, C2, C2_SUB, "suspended", **{"MS-RequestId": request_id})
    sim.set_subscription_status(C2, C2_SUB, "active", "")  # changed since by someone else
    again = patch(sim, C2, C2_SUB, "suspended", **{"MS-RequestId": request_id})
    assert again.json() == first.json()
    assert sim.subscription(C2, C2_SUB)["status"] == "active"
    patches = [c for c in sim.calls() if c["method"] == "PATCH"]
    assert [(c["applied"], c["replayed"]) for c in patches] == [(True, False), (False, True)]


def test_fraud_events_list_filters_and_status_update(sim: Simulator) -> None:
    url = f"{sim.base_url}/v1/fraudEvents"
    old = requests.get(url, params={"EventStatus": "Active"}, timeout=5).json()
    assert isinstance(old, list) and len(old) == 2 and "eventType" not in old[0]  # a bare array
    assert old[0]["hitCount"] == "14"  # a string, as documented
    new_model = {"X-NewEventsModel": "true"}
    typed = requests.get(
        url, params={"EventType": "NetworkConnectionsToCryptoMiningPools"}, headers=new_model, timeout=5
    ).json()
    assert [e["eventId"] for e in typed] == ["fe-0001"] and typed[0]["IsTest"] == "false"
    page = requests.get(url, params={"PageSize": "1", "PageNumber": "2"}, headers=new_model, timeout=5).json()
    assert [e["eventId"] for e in page] == ["fe-0002"]
    body = {"EventIds": ["fe-0001"], "EventStatus": "Resolved", "ResolvedReason": "Fraud"}
    changed = requests.post(
        f"{sim.base_url}/v1/fraudEvents/subscription/{C2_SUB}/status", json=body, timeout=5
    )
    assert changed.status_code == 200 and changed.json()[0]["eventStatus"] == "Resolved"
    active = requests.get(url, params={"EventStatus": "Active"}, timeout=5).json()
    assert [e["eventId"] for e in active] == ["fe-0002"]


def test_control_endpoints(sim: Simulator) -> None:
    control = f"{sim.base_url}/_sim"
    rule = requests.post(f"{control}/faults", json={"kind": "status", "status": 502, "times": 1}, timeout=5)
    assert rule.status_code == 200
    assert requests.get(f"{sim.base_url}/v1/customers", timeout=5).status_code == 502
    assert requests.get(f"{sim.base_url}/v1/customers", timeout=5).status_code == 200
    calls = requests.get(f"{control}/calls", timeout=5).json()["calls"]
    assert [c["status"] for c in calls] == [502, 200]
    state = requests.get(f"{control}/state", timeout=5).json()
    assert {c["id"] for c in state["customers"]} >= {C1, C2}
    assert requests.post(f"{control}/ratelimit", json={"limit": 1}, timeout=5).json()["limit"] == 1
    seed: dict[str, Any] = {"customers": [{"id": C2, "subscriptions": []}]}
    assert requests.post(f"{control}/seed", json=seed, timeout=5).status_code == 200
    assert [c["id"] for c in requests.get(f"{control}/state", timeout=5).json()["customers"]] == [C2]
    assert requests.post(f"{control}/faults", json={"kind": "nonsense"}, timeout=5).status_code == 400


def test_drop_closes_the_connection_before_the_call_and_lose_response_after_it(sim: Simulator) -> None:
    resource = requests.get(sub_url(sim, C2, C2_SUB), timeout=5).json()
    resource["status"] = "suspended"
    sim.add_fault("drop", method="PATCH", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.patch(sub_url(sim, C2, C2_SUB), json=resource, timeout=5)
    assert sim.subscription(C2, C2_SUB)["status"] == "active"
    sim.add_fault("lose_response", method="PATCH", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.patch(sub_url(sim, C2, C2_SUB), json=resource, timeout=5)
    assert sim.subscription(C2, C2_SUB)["status"] == "suspended"
    patches = [(c["fault"], c["applied"]) for c in sim.calls() if c["method"] == "PATCH"]
    assert patches == [("drop", False), ("lose_response", True)]


@pytest.mark.parametrize("new_fault", [True, False], ids=["new-one-shot-throttle", "no-new-fault"])
def test_a_request_held_across_a_reset_leaves_the_new_generation_alone(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, new_fault: bool
) -> None:
    """A test's request still waiting in a latency fault when the next test resets the simulator
    must not, when it wakes, fire the next test's faults or change its state and call log."""
    held, release = threading.Event(), threading.Event()

    def hold(seconds: float) -> None:
        held.set()
        assert release.wait(10)

    monkeypatch.setattr(sim.core, "sleep", hold)
    resource = requests.get(sub_url(sim, C2, C2_SUB), timeout=5).json()
    resource["status"] = "suspended"
    sim.add_fault("latency", method="PATCH", seconds=2.5, times=1)
    outcome: list[int | str] = []

    def old_patch() -> None:
        try:
            outcome.append(requests.patch(sub_url(sim, C2, C2_SUB), json=resource, timeout=10).status_code)
        except requests.ConnectionError:
            outcome.append("dropped")

    old = threading.Thread(target=old_patch)
    old.start()
    assert held.wait(5)  # the PATCH is in its latency fault
    sim.reset(json.loads(DEMO_TENANT.read_text(encoding="utf-8")))
    throttle = sim.add_fault("throttle", seconds=7, times=1) if new_fault else None
    release.set()
    old.join(10)
    assert outcome == ["dropped"]
    assert throttle is None or throttle.fired == 0
    assert sim.calls() == []
    assert sim.subscription(C2, C2_SUB)["status"] == "active"
    expected = 429 if new_fault else 200  # the new generation's first call meets its own fault
    assert requests.get(f"{sim.base_url}/v1/customers", timeout=5).status_code == expected


def test_a_burst_of_simultaneous_clients_is_answered(sim: Simulator) -> None:
    """More clients at once than a small listen backlog holds: none is reset, refused or kept
    waiting for the kernel to retry its connection."""
    port = int(sim.base_url.rsplit(":", 1)[1])
    for _ in range(2):  # a small backlog drops some connections in every burst, but how many varies
        outcomes = simultaneous_requests(port, "/v1/customers", clients=64)
        assert len(outcomes) == 64 and [o for o in outcomes if o != 200] == []


def test_fault_randomness_is_seeded() -> None:
    def fired(seed: int) -> list[bool]:
        injector = FaultInjector(seed)
        injector.add(FaultRule(kind=FaultKind.STATUS, rate=0.3))
        return [bool(injector.pick("GET", "/v1/x", (FaultKind.STATUS,))) for _ in range(50)]

    assert fired(3) == fired(3)
    assert 5 < sum(fired(3)) < 30


def test_standalone_command_serves_the_demo_tenant() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tools.pcsim", "--port", str(port)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                state = requests.get(f"http://127.0.0.1:{port}/_sim/state", timeout=2).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert len(state["customers"]) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=10)
