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


def test_patch_needs_the_full_resource_and_a_current_etag(sim: Simulator) -> None:
    partial = requests.patch(sub_url(sim, C2, C2_SUB), json={"id": C2_SUB, "status": "suspended"}, timeout=5)
    assert partial.status_code == 400 and "full resource" in partial.json()["description"]
    resource = requests.get(sub_url(sim, C2, C2_SUB), timeout=5).json()
    etag = resource["attributes"]["etag"]
    first = patch(sim, C2, C2_SUB, "suspended", **{"If-Match": etag})
    assert first.status_code == 200 and first.json()["attributes"]["etag"] != etag
    stale = patch(sim, C2, C2_SUB, "active", **{"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["code"] == 2055
    assert patch(sim, C2, C2_SUB, "active").status_code == 200  # If-Match is checked only when sent


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
    assert old["totalCount"] == 2 and "eventType" not in old["items"][0]
    new_model = {"X-NewEventsModel": "true"}
    typed = requests.get(
        url, params={"EventType": "NetworkConnectionsToCryptoMiningPools"}, headers=new_model, timeout=5
    ).json()
    assert [e["eventId"] for e in typed["items"]] == ["fe-0001"]
    page = requests.get(url, params={"PageSize": "1", "PageNumber": "2"}, headers=new_model, timeout=5).json()
    assert [e["eventId"] for e in page["items"]] == ["fe-0002"]
    body = {"EventIds": ["fe-0001"], "EventStatus": "Resolved", "ResolvedReason": "Fraud"}
    changed = requests.post(
        f"{sim.base_url}/v1/fraudEvents/subscription/{C2_SUB}/status", json=body, timeout=5
    )
    assert changed.status_code == 200 and changed.json()["items"][0]["eventStatus"] == "Resolved"
    active = requests.get(url, params={"EventStatus": "Active"}, timeout=5).json()
    assert [e["eventId"] for e in active["items"]] == ["fe-0002"]


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
