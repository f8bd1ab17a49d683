"""End to end, the whole path: report -> fraud hold -> reconcile queue -> the executor (queue
trigger on the local host) -> the Partner Center simulator suspends; dismissal -> reactivated.
Also the fraud events timer against the simulator's seeded events. Real sockets, real Azurite."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.fraud_host import FRAUD_FUNCTIONS, fraud_host, report
from tools.pcsim import DEMO_TENANT, Simulator

pytestmark = pytest.mark.slow

C1 = "11111111-1111-4111-8111-111111111111"
C1_SUBS = ["a1111111-0000-4000-8000-000000000001", "a1111111-0000-4000-8000-000000000003"]
C2 = "22222222-2222-4222-8222-222222222222"
C2_SUB = "b2222222-0000-4000-8000-000000000001"
C3 = "33333333-3333-4333-8333-333333333333"
FAST_QUEUES = {"extensions": {"queues": {"maxPollingInterval": "00:00:00.200", "maxDequeueCount": 3}}}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(random_seed=5).start()
    simulator.set_rate_limit(10_000)
    try:
        yield simulator
    finally:
        simulator.stop()


def _start(azurite, sim: Simulator, **env: str):
    sim.reset(json.loads(DEMO_TENANT.read_text(encoding="utf-8")))
    return fraud_host(
        azurite.connection_string,
        functions=[*FRAUD_FUNCTIONS, "reconcile", "fraud_events_poll"],
        host_json=FAST_QUEUES,
        PARTNER_CENTER_BASE_URL=sim.base_url,
        PARTNER_CENTER_AUTH="none",
        PARTNER_CENTER_MAX_RPM="100000",
        PARTNER_CENTER_TIMEOUT_SECONDS="5",
        FRAUD_EVENTS_SCHEDULE="0 0 0 1 1 *",
        **env,
    )


def _eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _status(sim: Simulator, customer: str, subscription: str) -> str:
    return str(sim.subscription(customer, subscription)["status"]).lower()


def test_critical_report_suspends_and_dismissal_reactivates(azurite, sim: Simulator) -> None:
    with _start(azurite, sim) as api:
        case_id = api.post("/fraud-reports", report(C1)).json()["case_id"]
        _eventually(lambda: all(_status(sim, C1, s) == "suspended" for s in C1_SUBS))
        # hold_active is what Partner Center confirmed: true once the executor's read showed it
        _eventually(lambda: api.get(f"/fraud-reports/{case_id}").json()["hold_active"] is True)
        case = api.get(f"/fraud-reports/{case_id}").json()
        assert case["enforcement"]["status"] == "enforced"
        assert {s["subscription_id"] for s in case["enforcement"]["subscriptions"]} >= set(C1_SUBS)
        answer = api.post(
            f"/fraud-reports/{case_id}/resolution", {"outcome": "dismissed", "note": "false alarm"}
        )
        assert answer.status_code == 200, answer.text
        _eventually(lambda: all(_status(sim, C1, s) == "active" for s in C1_SUBS))


def test_dismissal_leaves_the_customer_suspended_while_another_hold_remains(azurite, sim: Simulator) -> None:
    with _start(azurite, sim) as api:
        fraud = api.post("/fraud-reports", report(C1)).json()["case_id"]
        other = api.post("/fraud-reports", report(C1, category="crypto_mining")).json()["case_id"]
        _eventually(lambda: all(_status(sim, C1, s) == "suspended" for s in C1_SUBS))
        _eventually(lambda: api.queued() == 0)  # both holds' reconciles are done
        sim.clear_calls()
        api.post(f"/fraud-reports/{fraud}/resolution", {"outcome": "dismissed", "note": "false alarm"})
        holds = [r["RowKey"] for r in api.rows("customers", C1) if r["RowKey"].startswith("hold:")]
        assert holds == [f"hold:fraud-{other}"]

        def executor_read_the_customer() -> bool:
            return any(c["method"] == "GET" and C1 in c["path"] and c["status"] == 200 for c in sim.calls())

        _eventually(executor_read_the_customer)  # the reconcile after the dismissal ran
        _eventually(lambda: api.queued() == 0)  # ... and finished
        assert all(_status(sim, C1, s) == "suspended" for s in C1_SUBS)
        assert not [c for c in sim.calls() if c["method"] == "PATCH"]


def test_fraud_events_open_cases_and_resolution_updates_the_event(azurite, sim: Simulator) -> None:
    with _start(azurite, sim, FRAUD_EVENTS_ENABLED="true") as api:
        api.host.invoke("fraud_events_poll")
        events = {e["eventId"]: e for e in sim.state()["fraudEvents"]}
        assert events["fe-0001"]["eventStatus"] == "Investigating"
        assert events["fe-0002"]["eventStatus"] == "Investigating"
        c2_cases = [r for r in api.rows("cases", C2) if ":" not in r["RowKey"]]
        assert len(c2_cases) == 1 and c2_cases[0]["category"] == "crypto_mining"
        assert json.loads(c2_cases[0]["sources"]) == ["partner_center"]
        # crypto mining at high severity: hold (rule high-crypto-mining) -> the executor suspends
        _eventually(lambda: _status(sim, C2, C2_SUB) == "suspended")
        c3_case = next(r["RowKey"] for r in api.rows("cases", C3) if ":" not in r["RowKey"])
        assert api.post(f"/fraud-reports/{c3_case}/resolution", {"outcome": "dismissed", "note": "ok"}).ok
        c2_case = c2_cases[0]["RowKey"]
        assert api.post(f"/fraud-reports/{c2_case}/resolution", {"outcome": "confirmed", "note": "mining"}).ok
        api.host.invoke("fraud_events_poll")
        events = {e["eventId"]: e for e in sim.state()["fraudEvents"]}
        assert (events["fe-0002"]["eventStatus"], events["fe-0002"]["resolvedReason"]) == (
            "Resolved",
            "Ignore",
        )
        assert (events["fe-0001"]["eventStatus"], events["fe-0001"]["resolvedReason"]) == (
            "Resolved",
            "Fraud",
        )
        assert api.rows("cases", "_pcevents") == []


def test_fraud_events_poll_does_nothing_while_off(azurite, sim: Simulator) -> None:
    with _start(azurite, sim) as api:
        sim.clear_calls()
        rows = api.table_rows()
        api.host.invoke("fraud_events_poll")
        assert sim.calls() == []
        assert api.table_rows() == rows


def test_one_refused_subscription_makes_the_case_partial_not_held(azurite, sim: Simulator) -> None:
    with _start(azurite, sim) as api:
        sim.refuse(C1_SUBS[-1], code=900115)
        case_id = api.post("/fraud-reports", report(C1)).json()["case_id"]
        _eventually(lambda: api.get(f"/fraud-reports/{case_id}").json()["enforcement"]["status"] == "partial")
        case = api.get(f"/fraud-reports/{case_id}").json()
        assert case["hold_active"] is False
        states = {s["subscription_id"]: s for s in case["enforcement"]["subscriptions"]}
        assert states[C1_SUBS[-1]]["state"] == "refused" and states[C1_SUBS[-1]]["code"] == "900115"


def test_a_tenant_partner_center_does_not_know_gives_the_case_a_clear_status(azurite, sim: Simulator) -> None:
    stranger = "e0000000-0000-4000-8000-00000000abcd"
    with _start(azurite, sim) as api:
        case_id = api.post("/fraud-reports", report(stranger)).json()["case_id"]
        _eventually(
            lambda: api.get(f"/fraud-reports/{case_id}").json()["enforcement"]["status"] == "customer_unknown"
        )
        _eventually(lambda: api.queued() == 0)  # no redelivery, no poison queue
        assert api.get(f"/fraud-reports/{case_id}").json()["hold_active"] is False
        alerts = [
            r
            for r in api.rows("customers", stranger)
            if r.get("action") == "alert.customer_unknown_at_partner_center"
        ]
        assert len(alerts) == 1
