"""Report to suspension: how long from the POST of a critical fraud report until Partner Center
shows the customer's subscriptions suspended, beside its floor, measured in the same run.

Starts a fresh Azurite, the Partner Center simulator and the local Functions host with the real
app (fraud intake and the reconcile executor on the Storage queue, with host.json's polling),
then, one report at a time, for `--reports` customers (each with `--subscriptions`
subscriptions on the simulator):
- the path: `POST /api/fraud-reports` (critical: triage places the hold and asks for a
  reconcile) until every subscription of the customer shows `suspended` on the simulator;
- the floor: one Table insert and one PATCH round trip to the simulator, the least any
  suspension costs.
Prints p50/p99 of both, the ratios to the floor, and the product's promise (within a minute).

    .venv/bin/python -m bench.suspension [--reports 30] [--subscriptions 2] [--poll 00:00:02]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

import requests
from azure.data.tables import TableServiceClient

from shared import runtime
from shared.settings import default_app_settings
from tools.azurite import Azurite
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http
from tools.pcsim import Simulator

KEY = "bench-key"
PROMISE_SECONDS = 60.0


def tenant(customers: int, subscriptions: int) -> dict[str, Any]:
    data: dict[str, Any] = {"customers": []}
    for c in range(customers):
        subs = [
            {
                "id": str(uuid.uuid4()),
                "offerId": "CFQ7TTC0LF8S:0001",
                "offerName": "Microsoft 365 E3",
                "quantity": 5,
            }
            for _ in range(subscriptions)
        ]
        data["customers"].append(
            {"id": str(uuid.uuid4()), "companyProfile": {"companyName": f"C{c}"}, "subscriptions": subs}
        )
    return data


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report_body(customer_id: str) -> str:
    return json.dumps(
        {
            "customer_id": customer_id,
            "category": "payment_fraud",
            "severity": "critical",
            "source": "bench",
            "reporter": "bench@example.com",
            "description": "three chargebacks in one hour",
            "evidence": [{"kind": "order", "value": "ORD-1"}],
        }
    )


def suspended(sim: Simulator, customer: dict[str, Any]) -> bool:
    return all(
        sim.subscription(customer["id"], s["id"])["status"] == "suspended" for s in customer["subscriptions"]
    )


def measure_path(
    base_url: str, sim: Simulator, customers: list[dict[str, Any]], timeout: float
) -> list[float]:
    session = requests.Session()
    latencies = []
    for customer in customers:
        started = time.perf_counter()
        answer = session.post(
            f"{base_url}/api/fraud-reports",
            data=report_body(customer["id"]),
            headers={"x-functions-key": KEY, "content-type": "application/json"},
            timeout=60,
        )
        if answer.status_code != 202:
            raise SystemExit(f"report refused: {answer.status_code} {answer.text[:200]}")
        while not suspended(sim, customer):
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"customer {customer['id']} not suspended after {timeout} s")
            time.sleep(0.005)
        latencies.append(time.perf_counter() - started)
    return latencies


def measure_floor(connection_string: str, sim: Simulator, customers: list[dict[str, Any]]) -> list[float]:
    """One Table insert and one PATCH round trip, per sample (the same Azurite, the same simulator)."""
    table = TableServiceClient.from_connection_string(connection_string).create_table(
        "floor" + uuid.uuid4().hex[:8]
    )
    session = requests.Session()
    floors = []
    for n, customer in enumerate(customers):
        sub = customer["subscriptions"][0]
        url = f"{sim.base_url}/v1/customers/{customer['id']}/subscriptions/{sub['id']}"
        started = time.perf_counter()
        table.create_entity({"PartitionKey": customer["id"], "RowKey": f"hold:{n}", "reason": "fraud"})
        answer = session.patch(url, json={"status": "active" if n % 2 else "suspended"}, timeout=30)
        floors.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"floor PATCH answered {answer.status_code}")
    return floors


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=30, help="critical reports, one customer each")
    parser.add_argument("--subscriptions", type=int, default=2, help="subscriptions per customer")
    parser.add_argument("--poll", default=None, help="queue maxPollingInterval (default: host.json's)")
    args = parser.parse_args(argv)
    seed = tenant(args.reports + 1, args.subscriptions)
    azurite = Azurite.start()
    try:
        with Simulator(seed, rate_limit=100_000) as sim:
            os.environ.update(
                {
                    "AzureWebJobsStorage": azurite.connection_string,
                    "QUEUE_TRANSPORT": "storage",
                    "ENFORCEMENT_MODE": "enforce",
                    "RECONCILE_QUEUE_NAME": "bench-reconcile",
                    "TABLE_PREFIX": "bench",
                    "PARTNER_CENTER_BASE_URL": sim.base_url,
                    "PARTNER_CENTER_AUTH": "none",
                    "PARTNER_CENTER_PACING": "shared",
                }
            )
            runtime.reset()
            from function_app import app

            host_json: dict[str, Any] = {"functions": ["fraud_report_submit", "reconcile"]}
            if args.poll:
                host_json["extensions"] = {"queues": {"maxPollingInterval": args.poll}}
            host = DevHost(
                app,
                port=0,
                host_json=with_app_http(host_json),
                settings_defaults=default_app_settings(),
                function_key=KEY,
            )
            host.start()
            try:
                measure_path(host.base_url, sim, seed["customers"][-1:], PROMISE_SECONDS * 5)  # warm up
                path = measure_path(host.base_url, sim, seed["customers"][:-1], PROMISE_SECONDS * 5)
            finally:
                host.stop()
            floor = measure_floor(azurite.connection_string, sim, seed["customers"][:-1])
    finally:
        azurite.stop()
        runtime.reset()
    p50, p99 = percentile(path, 0.5), percentile(path, 0.99)
    f50, f99 = percentile(floor, 0.5), percentile(floor, 0.99)
    print(
        f"bench.suspension: {args.reports} critical reports, {args.subscriptions} subscriptions each, "
        f"queue polling {args.poll or 'as in host.json'}"
    )
    worst = max(path) * 1000
    print(f"  report -> suspended   p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {worst:.0f} ms")
    print(f"  floor (insert + PATCH) p50 {f50 * 1000:.1f} ms, p99 {f99 * 1000:.1f} ms")
    print(f"  ratio to the floor     p50 {p50 / f50:.1f} x, p99 {p99 / f99:.1f} x")
    within = sum(1 for t in path if t <= PROMISE_SECONDS)
    print(f"  promise: suspended within {PROMISE_SECONDS:.0f} s: {within} of {len(path)} reports")


if __name__ == "__main__":
    main()
