"""Fixtures of the exposure tests: a real Partner Center simulator (the demo tenant and its
unbilled line items), fresh Azurite tables and queues, an injected clock, and the exposure
refresh's dependencies on them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import clock, runtime, wiring
from shared.clock import FixedClock
from shared.domain.customer import CustomerProfile
from shared.services.collections import ledger
from shared.services.exposure.deps import ExposureDeps
from tests.actors import TEST_ACTOR
from tests.conftest import smtp_settings
from tests.integration.collections.conftest import Env
from tools.mailsink import MailSink
from tools.pcsim import DEMO_TENANT, Simulator

# Wednesday 2 December 2026, 10:00 in Shanghai: inside the enforcement window; the demo tenant's
# usage runs from 1 November to 1 December.
START = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
C1 = "11111111-1111-4111-8111-111111111111"
C2 = "22222222-2222-4222-8222-222222222222"
C3 = "33333333-3333-4333-8333-333333333333"
C2_SUB = "b2222222-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    sim = Simulator(random_seed=5).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim(simulator: Simulator) -> Simulator:
    simulator.reset(json.loads(DEMO_TENANT.read_text(encoding="utf-8")))
    simulator.set_rate_limit(100_000)
    return simulator


@dataclass
class ExposureEnv(Env):
    sim: Simulator | None = None

    def deps(self) -> ExposureDeps:
        return wiring.exposure()


@pytest.fixture
def make_env(
    azurite: Any, mail_sink: MailSink, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., ExposureEnv]]:
    """`make_env(**settings)`: settings on a fresh table prefix and queues (the last call wins)."""
    fixed = FixedClock(START)
    saved = clock.set_clock(fixed)

    def make(**overrides: str) -> ExposureEnv:
        suffix = uuid.uuid4().hex[:10]
        values = {
            "AzureWebJobsStorage": azurite.connection_string,
            "QUEUE_TRANSPORT": "storage",
            "TABLE_PREFIX": "x" + suffix,
            "RECONCILE_QUEUE_NAME": f"rec-{suffix}",
            "NOTICE_QUEUE_NAME": f"not-{suffix}",
            "ENFORCEMENT_MODE": "enforce",
            "NOTICE_WEBHOOK_SECRET": "test-secret",
            "PARTNER_CENTER_BASE_URL": sim.base_url,
            "PARTNER_CENTER_AUTH": "none",
            "PARTNER_CENTER_MAX_RPM": "100000",
            "PARTNER_CENTER_TIMEOUT_SECONDS": "5",
            **smtp_settings(mail_sink),
            **overrides,
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        runtime.reset()
        fixed.set(START)
        return ExposureEnv(
            azurite.connection_string, fixed, values["RECONCILE_QUEUE_NAME"], values["NOTICE_QUEUE_NAME"], sim
        )

    try:
        yield make
    finally:
        clock.set_clock(saved)
        runtime.reset()


def customer(customer_id: str, name: str = "Contoso", **extra: Any) -> str:
    extra.setdefault("contacts", [{"name": "Billing", "email": f"billing-{customer_id[:8]}@example.cn"}])
    extra.setdefault("locale", "en")
    profile = CustomerProfile.model_validate({"name": name, **extra})
    ledger.put_customer(wiring.collections(), customer_id, profile, actor=TEST_ACTOR, correlation_id="c1")
    return customer_id
