"""Fraud report intake throughput and latency, against its floor, in one run.

Starts a fresh Azurite and the local Functions host with the real app, then measures:
- intake: `--threads` x `--reports` concurrent `POST /api/fraud-reports` over real sockets (each
  a new case or a join, a triage decision, audit entries; critical ones a hold and a message);
- the floor: the same number of plain Table inserts (one small entity each) from one client,
  on the same Azurite, sequentially.
Prints throughput, p50/p99 latency and the ratio intake/floor (per report vs per insert).

    .venv/bin/python -m bench.intake [--threads 8] [--reports 50] [--customers 0] [--critical-percent 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from collections.abc import Sequence

import requests
from azure.data.tables import TableServiceClient

from shared import runtime
from shared.settings import default_app_settings
from tools.azurite import Azurite
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http

KEY = "bench-key"
FUNCTIONS = ["fraud_report_submit"]


def _report(n: int, customers: int, critical_percent: int) -> dict[str, object]:
    customer = uuid.UUID(int=(n % customers if customers else n) + 1, version=4)
    critical = critical_percent > 0 and n % max(1, round(100 / critical_percent)) == 0
    return {
        "customer_id": str(customer),
        "category": "payment_fraud",
        "severity": "critical" if critical else "low",
        "source": "bench",
        "reporter": "bench@example.com",
        "description": f"benchmark report {n}",
        "evidence": [{"kind": "order", "value": f"ORD-{n}"}],
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_intake(
    base_url: str, threads: int, reports: int, customers: int, critical: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        session = requests.Session()
        mine: list[float] = []
        for k in range(reports):
            body = json.dumps(_report(index * reports + k, customers, critical))
            started = time.perf_counter()
            answer = session.post(
                f"{base_url}/api/fraud-reports",
                data=body,
                headers={"x-functions-key": KEY, "content-type": "application/json"},
                timeout=60,
            )
            mine.append(time.perf_counter() - started)
            if answer.status_code != 202:
                with lock:
                    failures.append(answer.status_code)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} reports were not accepted: {sorted(set(failures))}")
    return elapsed, latencies


def run_floor(connection_string: str, count: int) -> float:
    service = TableServiceClient.from_connection_string(connection_string)
    table = service.create_table("floor" + uuid.uuid4().hex[:10])
    started = time.perf_counter()
    for n in range(count):
        table.create_entity({"PartitionKey": str(n % 97), "RowKey": str(n), "value": f"report {n}"})
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--reports", type=int, default=50, help="reports per thread")
    parser.add_argument("--customers", type=int, default=0, help="distinct customers (0: one per report)")
    parser.add_argument("--critical-percent", type=int, default=10)
    args = parser.parse_args(argv)
    total = args.threads * args.reports

    azurite = Azurite.start()
    try:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "QUEUE_TRANSPORT": "storage",
                "ENFORCEMENT_MODE": "enforce",
                "RECONCILE_QUEUE_NAME": "bench-reconcile",
                "TABLE_PREFIX": "bench",
            }
        )
        runtime.reset()
        from function_app import app

        host = DevHost(
            app,
            port=0,
            host_json=with_app_http({"functions": FUNCTIONS}),
            settings_defaults=default_app_settings(),
            function_key=KEY,
        )
        host.start()
        try:
            run_intake(host.base_url, 1, 5, 0, 0)  # warm up: tables, clients, the triage file
            elapsed, latencies = run_intake(
                host.base_url, args.threads, args.reports, args.customers, args.critical_percent
            )
        finally:
            host.stop()
        floor = run_floor(azurite.connection_string, total)
    finally:
        azurite.stop()
        runtime.reset()

    per_report = elapsed / total
    per_insert = floor / total
    print(
        f"intake: {total} reports, {args.threads} threads, {elapsed:.2f} s, {total / elapsed:.1f} reports/s"
    )
    p50, p99 = _percentile(latencies, 0.5) * 1000, _percentile(latencies, 0.99) * 1000
    print(f"  latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, mean {statistics.fmean(latencies) * 1000:.1f} ms")
    print(f"floor: {total} plain Table inserts, 1 client, {floor:.2f} s, {total / floor:.1f} inserts/s")
    print(f"ratio: {per_report / per_insert:.2f} x the time of one plain insert per report (wall clock)")


if __name__ == "__main__":
    main()
