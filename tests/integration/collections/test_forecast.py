"""The forecast: what the policy will do if nothing changes, by the same evaluation, paged over the
due index (never the customers table); the customer view names a warned customer's suspension date."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.errors import BadRequest
from shared.services.collections import customer_view, forecast, ledger
from shared.services.collections import scan as collections
from tests.actors import TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer

DUE = date(2026, 3, 2)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_two_warned_customers_show_their_suspension_eight_days_ahead(env: Env) -> None:
    warned = [new_customer() for _ in range(2)]
    for cid in warned:
        ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    for day in (date(2026, 3, 5), date(2026, 3, 12)):
        env.clock.set(_at(day))
        collections.run_scan(deps())
        env.notices()
    env.clock.set(_at(date(2026, 3, 13)))  # eight working... days before 23 March
    preview_now = deps().schedule.due(env.clock.now())
    assert list(preview_now) == []  # nothing is due this hour: the preview is empty
    page = forecast.forecast_page(deps(), deps().policy(), days=14)
    assert sorted(c.customer_id for c in page.customers) == sorted(warned)
    for item in page.customers:
        assert item.planned_suspension_on == date(2026, 3, 23) and item.stage == "warning"
        assert [a.action for a in item.actions] == ["place_hold:suspension", "send_notice:suspension"]
    view = customer_view.customer_view(deps(), warned[0])
    assert view.planned_suspension_on == date(2026, 3, 23)
    assert view.next_action == "place_hold:suspension" and view.next_action_at == datetime(
        2026, 3, 23, 1, 0, tzinfo=UTC
    )
    # a shorter window does not reach the suspension
    assert forecast.forecast_page(deps(), deps().policy(), days=5).customers == []


def test_the_forecast_is_paged_with_continuation_tokens(env: Env) -> None:
    customers = sorted(new_customer() for _ in range(5))
    for cid in customers:
        ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    env.clock.set(_at(date(2026, 3, 3)))
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = forecast.forecast_page(deps(), deps().policy(), days=30, limit=2, continuation=token)
        pages += 1
        assert page.entries_read <= 2
        seen += [c.customer_id for c in page.customers]
        token = page.continuation
        if token is None:
            break
    assert sorted(seen) == customers and pages == 3
    first = forecast.forecast_page(deps(), deps().policy(), days=30)
    (item,) = [c for c in first.customers if c.customer_id == customers[0]]
    assert [a.action for a in item.actions] == [
        "send_notice:reminder",
        "send_notice:warning",
        "place_hold:suspension",
        "send_notice:suspension",
    ]
    assert item.actions[1].suspension_date == date(2026, 3, 23)
    assert item.actions[0].at == datetime(2026, 3, 5, 1, 0, tzinfo=UTC)  # 09:00 local, the window opens


def test_a_token_the_api_did_not_give_is_refused(env: Env) -> None:
    with pytest.raises(BadRequest):
        forecast.forecast_page(deps(), deps().policy(), days=14, continuation="bm90LWEtdG9rZW4")
