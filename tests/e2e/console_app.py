"""The whole app for the console's tests: Azurite, the Partner Center simulator with the demo
tenant, every function of `function_app.py` on the local host (Easy Auth emulated), the demo
ledger replayed (so the first demo customer is suspended on the simulator), a critical fraud
case on the second and a batch held back for the third."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.app_functions import registered
from tests.e2e.fraud_host import FraudHost, fraud_host, report
from tools.pcsim import DEMO_TENANT, Simulator

C1 = "11111111-1111-4111-8111-111111111111"  # 25 days overdue: suspended by the demo replay
C1_SUBS = ["a1111111-0000-4000-8000-000000000001", "a1111111-0000-4000-8000-000000000003"]
C2 = "22222222-2222-4222-8222-222222222222"  # paid: the fraud case's customer
C2_SUB = "b2222222-0000-4000-8000-000000000001"
C3 = "33333333-3333-4333-8333-333333333333"  # held back in a batch
BATCH = "b-console"
FAST_QUEUES = {"extensions": {"queues": {"maxPollingInterval": "00:00:00.200", "maxDequeueCount": 3}}}


def eventually(check: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll for an asynchronous effect with a generous deadline (never a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not met within {timeout} s")


@dataclass
class ConsoleApp:
    api: FraudHost
    sim: Simulator
    case_id: str

    @property
    def base(self) -> str:
        return self.api.host.base_url

    def status(self, customer: str, subscription: str) -> str:
        return str(self.sim.subscription(customer, subscription)["status"]).lower()


@contextmanager
def console_app(connection_string: str, **env: str) -> Iterator[ConsoleApp]:
    from shared import wiring
    from shared.services.collections.approvals import add_to_batch
    from tools import demo_ledger
    from tools.mailsink import MailSink

    sink = MailSink().start()  # e-mail notices are delivered: the notice period then runs
    sim = Simulator(random_seed=5).start()
    sim.set_rate_limit(10_000)
    sim.reset(json.loads(DEMO_TENANT.read_text(encoding="utf-8")))
    try:
        with fraud_host(
            connection_string,
            functions=[
                n
                for n in registered()
                if n not in ("collections_scan", "drift_sweep", "fraud_events_poll", "notice_sender")
            ],
            host_json=FAST_QUEUES,
            PARTNER_CENTER_BASE_URL=sim.base_url,
            PARTNER_CENTER_AUTH="none",
            PARTNER_CENTER_MAX_RPM="100000",
            PARTNER_CENTER_TIMEOUT_SECONDS="5",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(sink.port),
            SMTP_SECURITY="none",
            SMTP_FROM="collections@example.cn",
            NOTICE_QUEUE_NAME="cn-" + uuid.uuid4().hex[:12],
            **env,
        ) as api:
            demo_ledger.seed_with_history()
            eventually(lambda: all(_status(sim, C1, s) == "suspended" for s in C1_SUBS), what="C1 suspended")
            answer = api.post("/fraud-reports", report(C2, subscription_ids=[C2_SUB]))
            assert answer.status_code == 202, answer.text
            case_id = answer.json()["case_id"]
            eventually(lambda: _status(sim, C2, C2_SUB) == "suspended", what="C2 suspended")
            deps = wiring.collections()
            add_to_batch(deps, BATCH, C3, deps.policy(), datetime.now(UTC))
            yield ConsoleApp(api, sim, case_id)
    finally:
        sim.stop()
        sink.stop()


def _status(sim: Simulator, customer: str, subscription: str) -> str:
    return str(sim.subscription(customer, subscription)["status"]).lower()


def pages(app: ConsoleApp) -> dict[str, str]:
    """Every main page (name -> path), as the screenshots name them."""
    return {
        "today": "/console",
        "customers": "/console/customers",
        "customer": f"/console/customers/{C1}",
        "import": "/console/import",
        "approvals": "/console/approvals",
        "fraud": "/console/fraud",
        "case": f"/console/fraud/{app.case_id}",
        "reports": "/console/reports",
        "exposure": "/console/exposure",
        "about": "/console/about",
    }


def summary(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:400]
