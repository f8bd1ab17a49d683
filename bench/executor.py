"""Reconcile executor throughput against Partner Center's rate limit.

M customers x K active subscriptions on the simulator, whose per-tenant limit is set low enough
to bind (600 requests/minute by default). Every customer gets a hold; N workers drain the
reconcile queue (real Azurite) through the real executor and client. Measured in the same run:
- the baseline: the configured limit (what Partner Center lets through at most);
- PATCHes per minute achieved, and every Partner Center call per minute;
- 429s received and their share of all calls;
- at the end, whether every subscription is in its desired state (suspended).
Target: PATCHes/min >= 0.9 x limit with 429s < 1% of calls. The client paces itself with a
token bucket (PARTNER_CENTER_MAX_RPM, here just under the limit) instead of finding it by 429s.
`--pace 0` turns pacing off (a very high rate) to show the difference.

`--processes 4` runs four executor processes against the one simulator, as four instances of the
app would: each takes its tokens from the fleet's shared budget in Table storage
(PARTNER_CENTER_PACING=shared), so together they stay under the limit; `--pacing process` gives
each process the whole pace instead, to show what the shared budget prevents.

    .venv/bin/python -m bench.executor [--customers 30] [--subscriptions 20] [--limit 600] [--pace 0]
    .venv/bin/python -m bench.executor --processes 4 [--pacing shared|process]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from azure.storage.queue import QueueClient

from shared.adapters.layout import CUSTOMERS_TABLE, PACING_TABLE, hold_row
from shared.adapters.partner_center.auth import config_from_settings
from shared.adapters.partner_center.client import PartnerCenterClient
from shared.adapters.queues import StorageQueuePublisher
from shared.adapters.tables import TableStore
from shared.domain.holds import Hold, HoldReason
from shared.domain.messages import ReconcileRequest
from shared.services.reconcile.common import ReconcileDeps
from shared.services.reconcile.handler import handle_reconcile_message
from shared.settings import load_settings
from tools.azurite import Azurite
from tools.pcsim import Simulator


def tenant(customers: int, subscriptions: int) -> dict[str, Any]:
    data: dict[str, Any] = {"customers": []}
    for c in range(customers):
        subs = [
            {"id": str(uuid.uuid4()), "offerName": "Microsoft 365 E3", "status": "active", "quantity": 10}
            for _ in range(subscriptions)
        ]
        data["customers"].append(
            {"id": str(uuid.uuid4()), "companyProfile": {"companyName": f"C{c}"}, "subscriptions": subs}
        )
    return data


def drain(queue: QueueClient, deps: ReconcileDeps, workers: int, timeout: float) -> int:
    """Workers process the queue like the Functions host until it is empty; returns failures."""
    failures = 0
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def work() -> None:
        nonlocal failures
        while time.monotonic() < deadline:
            messages = list(queue.receive_messages(max_messages=1, visibility_timeout=120))
            if not messages:
                if queue.get_queue_properties().approximate_message_count == 0:
                    return
                time.sleep(0.2)  # rescheduled messages are still invisible: poll again
                continue
            message = messages[0]
            try:
                handle_reconcile_message(deps, base64.b64decode(message.content), message.dequeue_count)
            except Exception:  # noqa: BLE001 - counted; the message becomes visible again
                with lock:
                    failures += 1
                continue
            queue.delete_message(message)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def executor_deps(
    connection_string: str, prefix: str, queue_name: str, sim_url: str, pace: int, pacing: str
) -> tuple[ReconcileDeps, QueueClient, TableStore]:
    """The reconcile dependencies of one executor process (its own clients, as an instance has)."""
    settings = load_settings(
        AzureWebJobsStorage=connection_string,
        PARTNER_CENTER_BASE_URL=sim_url,
        PARTNER_CENTER_AUTH="none",
        PARTNER_CENTER_MAX_RPM=str(pace if pace > 0 else 100_000),
        PARTNER_CENTER_PACING=pacing,
        ENFORCEMENT_MODE="enforce",
        RECONCILE_QUEUE_NAME=queue_name,
        RECONCILE_RETRY_BASE_SECONDS="1",
    )
    store = TableStore.from_connection_string(connection_string, prefix)
    queue = QueueClient.from_connection_string(connection_string, queue_name)
    deps = ReconcileDeps(
        table=store.table(CUSTOMERS_TABLE),
        partner_center=PartnerCenterClient.from_config(
            config_from_settings(settings), pacing_table=store.table(PACING_TABLE)
        ),
        publisher=StorageQueuePublisher(queue),
        settings=settings,
    )
    return deps, queue, store


def seed(deps: ReconcileDeps, queue: QueueClient, tenant_seed: dict[str, Any]) -> None:
    """A hold on every customer and a reconcile message for each."""
    now = datetime.now(UTC)
    for customer in tenant_seed["customers"]:
        hold = Hold(hold_id="non_payment", reason=HoldReason.NON_PAYMENT, placed_at=now, placed_by="bench")
        deps.table.upsert(hold, customer["id"], hold_row("non_payment"))
        request = ReconcileRequest(
            customer_id=customer["id"], reason="bench", correlation_id=str(uuid.uuid4()), requested_at=now
        )
        queue.send_message(base64.b64encode(request.model_dump_json().encode()).decode())


def worker_main(args: argparse.Namespace) -> None:
    """One executor process of the multi-process mode: drain the shared queue, report failures."""
    deps, queue, store = executor_deps(
        args.connection_string, args.prefix, args.queue, args.sim_url, args.pace, args.pacing
    )
    failures = drain(queue, deps, args.workers, timeout=30 * 60)
    store.close()
    print(json.dumps({"failures": failures}))


def run(
    customers: int,
    subscriptions: int,
    limit: int,
    pace: int,
    workers: int,
    processes: int = 1,
    pacing: str = "shared",
) -> dict[str, Any]:
    tenant_seed = tenant(customers, subscriptions)
    with Azurite.start() as azurite, Simulator(tenant_seed, rate_limit=limit) as sim:
        prefix = "b" + uuid.uuid4().hex[:8]
        queue_name = "bench-" + uuid.uuid4().hex[:8]
        # One process: it paces itself. Several: the fleet's shared budget (or, to compare, each
        # process its own whole pace).
        mode = "process" if processes == 1 else pacing
        deps, queue, store = executor_deps(
            azurite.connection_string, prefix, queue_name, sim.base_url, pace, mode
        )
        queue.create_queue()
        seed(deps, queue, tenant_seed)
        started = time.monotonic()
        if processes == 1:
            failures = drain(queue, deps, workers, timeout=30 * 60)
        else:
            command = [
                sys.executable,
                "-m",
                "bench.executor",
                "--worker",
                "--connection-string",
                azurite.connection_string,
                "--prefix",
                prefix,
                "--queue",
                queue_name,
                "--sim-url",
                sim.base_url,
                "--pace",
                str(pace),
                "--pacing",
                mode,
                "--workers",
                str(workers),
            ]
            children = [
                subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(processes)
            ]
            failures = 0
            for child in children:
                out, _ = child.communicate(timeout=30 * 60)
                failures += json.loads(out.strip().splitlines()[-1])["failures"] if out.strip() else 1
        elapsed = time.monotonic() - started
        calls = sim.calls()
        state = sim.state()
        store.close()
    patches = [c for c in calls if c["method"] == "PATCH" and c["applied"]]
    span = (max(c["at"] for c in calls) - min(c["at"] for c in calls)) if calls else 0.0
    throttled = sum(1 for c in calls if c["status"] == 429)
    statuses = [s["status"] for c in state["customers"] for s in c["subscriptions"]]
    return {
        "elapsed": elapsed,
        "span_minutes": span / 60 if span else 0.0,
        "patches": len(patches),
        "calls": len(calls),
        "throttled": throttled,
        "failures": failures,
        "converged": all(s == "suspended" for s in statuses),
        "subscriptions": len(statuses),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=int(os.environ.get("BENCH_CUSTOMERS", 30)))
    parser.add_argument("--subscriptions", type=int, default=20, help="active subscriptions per customer")
    parser.add_argument("--limit", type=int, default=600, help="the simulator's limit, requests/minute")
    parser.add_argument(
        "--pace", type=int, default=None, help="PARTNER_CENTER_MAX_RPM (default 97%% of the limit; 0 = off)"
    )
    parser.add_argument("--workers", type=int, default=8, help="executor threads per process")
    parser.add_argument("--processes", type=int, default=1, help="executor processes (as app instances)")
    parser.add_argument("--pacing", choices=["shared", "process"], default="shared")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--connection-string", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--queue", help=argparse.SUPPRESS)
    parser.add_argument("--sim-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    pace = int(args.limit * 0.97) if args.pace is None else args.pace
    if args.worker:
        args.pace = pace
        worker_main(args)
        return
    how = "" if args.processes == 1 else f", {args.processes} processes, pacing {args.pacing}"
    print(
        f"bench.executor: {args.customers} customers x {args.subscriptions} subscriptions, "
        f"limit {args.limit}/min, client pace {pace or 'off'}/min, {args.workers} workers{how}"
    )
    r = run(args.customers, args.subscriptions, args.limit, pace, args.workers, args.processes, args.pacing)
    per_minute = r["patches"] / r["span_minutes"] if r["span_minutes"] else 0.0
    calls_per_minute = r["calls"] / r["span_minutes"] if r["span_minutes"] else 0.0
    ratio = per_minute / args.limit
    share_429 = r["throttled"] / r["calls"] if r["calls"] else 0.0
    print(
        f"  elapsed                 {r['elapsed']:.1f} s (Partner Center busy {r['span_minutes'] * 60:.1f} s)"
    )
    print(f"  configured limit        {args.limit} requests/min (baseline)")
    print(f"  PATCHes per minute      {per_minute:.1f}  ({r['patches']} PATCHes)")
    print(f"  ratio PATCH/min : limit {ratio:.3f}  (target >= 0.9)")
    call_ratio = calls_per_minute / args.limit
    print(f"  all calls per minute    {calls_per_minute:.1f}  ({r['calls']} calls; ratio {call_ratio:.3f})")
    print(f"  429s received           {r['throttled']}  ({share_429:.2%} of calls; target < 1%)")
    print(f"  executor failures       {r['failures']}")
    print(f"  desired state reached   {r['converged']} ({r['subscriptions']} subscriptions)")
    ok = ratio >= 0.9 and share_429 < 0.01 and r["converged"]
    print("  RESULT                  " + ("meets the target" if ok else "BELOW TARGET"))


if __name__ == "__main__":
    main()
