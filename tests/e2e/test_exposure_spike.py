"""End to end through the local host: a usage spike scripted on the Partner Center simulator ->
the exposure refresh (`POST /api/exposure/refresh`, the timer's use case) -> a fraud case with
source `usage_anomaly` -> triage (critical: hold) -> the reconcile queue -> the executor ->
the simulator suspends the customer's subscriptions. Real sockets, real Azurite."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from tests.app_functions import registered
from tests.e2e.fraud_host import fraud_host
from tools.pcsim import DEMO_TENANT, Simulator

pytestmark = pytest.mark.slow

C1 = "11111111-1111-4111-8111-111111111111"
C1_SUBS = ["a1111111-0000-4000-8000-000000000001", "a1111111-0000-4000-8000-000000000003"]
C1_AZURE_PLAN = "a1111111-0000-4000-8000-000000000004"
FAST_QUEUES = {"extensions": {"queues": {"maxPollingInterval": "00:00:00.200", "maxDequeueCount": 3}}}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(random_seed=9).start()
    simulator.set_rate_limit(10_000)
    try:
        yield simulator
    finally:
        simulator.stop()


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_scripted_spike_becomes_a_case_that_suspends(azurite, sim: Simulator) -> None:
    sim.reset(json.loads(DEMO_TENANT.read_text(encoding="utf-8")))
    # Day N of the script: the customer's Azure plan runs GPU machines for 9,000 CNY in a day,
    # against a month of 120-180 CNY days.
    sim.usage_day(C1, C1_AZURE_PLAN, "2026-12-01", "9000.00", meter_sub_category="NC Series GPU", count=4)
    functions = [*registered("health", "exposure", "fraud", "ledger"), "reconcile"]
    with fraud_host(
        azurite.connection_string,
        functions=functions,
        host_json=FAST_QUEUES,
        PARTNER_CENTER_BASE_URL=sim.base_url,
        PARTNER_CENTER_AUTH="none",
        PARTNER_CENTER_MAX_RPM="100000",
        PARTNER_CENTER_TIMEOUT_SECONDS="5",
        EXPOSURE_SCHEDULE="0 0 0 1 1 *",
    ) as api:
        put = api.put(f"/customers/{C1}", {"name": "Shanghai Demo", "locale": "zh-CN"})
        assert put.status_code in (200, 201), put.text
        answer = api.post("/exposure/refresh")
        assert answer.status_code == 200, answer.text
        run = answer.json()["run"]
        assert run["phase"] == "done" and run["anomalies_reported"] >= 1
        cases = api.get("/fraud-reports", {"customer_id": C1}).json()["items"]
        assert len(cases) == 1
        case = api.get(f"/fraud-reports/{cases[0]['case_id']}").json()
        assert case["severity"] == "critical" and case["status"] == "investigating"
        assert "usage_anomaly" in json.dumps(case)
        _eventually(
            lambda: all(str(sim.subscription(C1, s)["status"]).lower() == "suspended" for s in C1_SUBS)
        )
        view = api.get(f"/customers/{C1}").json()
        assert view["exposure"] is not None and view["exposure"]["currency"] == "CNY"
