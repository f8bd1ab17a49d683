"""A policy that does not list next year's days off, from 1 December: /api/health says degraded
(200, with the reason) and the scan raises an alert naming the year, once a day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import azure.functions as func
import pytest

from shared import runtime, wiring
from shared.services.collections import alerts
from shared.services.collections import scan as collections
from shared.services.health import health_report
from shared.settings import REPO_ROOT
from tests.integration.collections.conftest import Env, deps


def _policy_without_2027(tmp_path: Path) -> Path:
    text = (REPO_ROOT / "policy" / "collections.toml").read_text(encoding="utf-8")
    start = text.index("[enforcement_window.years.2027]")
    end = text.index("# Blast-radius cap")
    path = tmp_path / "collections.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return path


@pytest.fixture
def no_2027(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv("POLICY_FILE", str(_policy_without_2027(tmp_path)))
    runtime.reset()
    return env


def _health() -> tuple[int, dict[str, object]]:
    from functions.health import health

    answer = health(func.HttpRequest(method="GET", url="http://localhost/api/health", body=b""))
    return answer.status_code, json.loads(answer.get_body())


def test_before_december_a_missing_next_year_is_fine(no_2027: Env) -> None:
    no_2027.clock.set(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    assert health_report(wiring.health_probes()).status == "ok"
    collections.run_scan(deps())
    assert alerts.partner_alerts(deps()) == []


def test_from_december_health_is_degraded_and_the_scan_alerts_once_a_day(no_2027: Env) -> None:
    no_2027.clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    status, body = _health()
    assert status == 200 and body["status"] == "degraded"
    check = body["checks"]["calendar"]  # type: ignore[index]
    assert check["degraded"] is True and "2027" in check["detail"]
    collections.run_scan(deps())
    no_2027.clock.advance(timedelta(hours=1))
    collections.run_scan(deps())
    raised = alerts.partner_alerts(deps())
    assert [a["action"] for a in raised] == ["alert.calendar_year_missing"]
    assert "2027" in raised[0]["reason"] and raised[0]["details"]["missing_years"] == [2027]
    no_2027.clock.advance(timedelta(days=1))
    collections.run_scan(deps())
    assert len(alerts.partner_alerts(deps())) == 2  # the next day, once more


def test_the_shipped_policy_is_healthy_on_2_december(env: Env) -> None:
    env.clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    status, body = _health()
    assert status == 200 and body["status"] == "ok"
