"""What a person reads: the customer view shows each subscription as Partner Center last
confirmed it (suspended by us, refused and why, left alone), from the executor's snapshot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared import runtime, wiring
from shared.domain.customer import CustomerProfile
from shared.services.collections import ledger
from shared.services.collections.customer_view import customer_view
from tests.actors import TEST_ACTOR
from tests.integration.partner_center.conftest import (
    C1_ADDON,
    C1_BASE,
    C1_OTHER,
    C3,
    C3_ACTIVE,
    C3_SUSPENDED_ELSEWHERE,
    Env,
)


@pytest.fixture
def collections(env: Env, storage_connection_string: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The collections use cases on the same tables as the executor of `env`."""
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("TABLE_PREFIX", env.table.name.removesuffix("customers"))
    monkeypatch.setenv("QUEUE_TRANSPORT", "storage")
    runtime.reset()
    yield
    runtime.reset()


def test_the_customer_view_shows_each_subscription_state(env: Env, collections: None) -> None:
    from tests.integration.partner_center.conftest import C1

    ledger.put_customer(
        wiring.collections(), C1, CustomerProfile(name="上海示例"), actor=TEST_ACTOR, correlation_id="c"
    )
    env.place_hold(C1)
    env.sim.refuse(C1_OTHER, code=900115)
    env.reconcile(C1)
    view = customer_view(wiring.collections(), C1)
    states = {s.subscription_id: s for s in view.subscriptions}
    assert states[C1_BASE].state.value == states[C1_ADDON].state.value == "suspended_by_us"
    assert states[C1_OTHER].state.value == "refused" and states[C1_OTHER].code == "900115"
    assert "refused" in states[C1_OTHER].detail and view.subscriptions_checked_at is not None


def test_someone_elses_suspension_shows_as_left_alone(env: Env, collections: None) -> None:
    ledger.put_customer(
        wiring.collections(), C3, CustomerProfile(name="北京示范"), actor=TEST_ACTOR, correlation_id="c"
    )
    env.place_hold(C3)
    env.reconcile(C3)
    states = {s.subscription_id: s.state.value for s in customer_view(wiring.collections(), C3).subscriptions}
    assert states == {C3_SUSPENDED_ELSEWHERE: "left_alone", C3_ACTIVE: "suspended_by_us"}
