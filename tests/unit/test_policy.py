"""The policy file: loading, versioning, and every validation rule (nothing half-applies)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.policy_files import load_policy
from shared.domain.policy import Policy, PolicyError, Stage, parse_policy
from shared.settings import REPO_ROOT
from tests.unit.collections_builders import policy_data

SHIPPED = REPO_ROOT / "policy" / "collections.toml"


def _toml(data: dict[str, Any]) -> bytes:
    """A tiny TOML writer for the policy's shapes (tables, arrays of tables, scalars, dates)."""
    lines: list[str] = []

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, list):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f'"{k}" = {scalar(v)}' for k, v in value.items()) + "}"
        return str(value) if not hasattr(value, "isoformat") else value.isoformat()

    def table(prefix: str, body: dict[str, Any]) -> None:
        simple = {k: v for k, v in body.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"[{prefix}]")
        for key, value in simple.items():
            lines.append(f'"{key}" = {scalar(value)}')
        for key, value in body.items():
            if isinstance(value, dict):
                table(f'{prefix}."{key}"' if prefix else f'"{key}"', value)

    table("", data)
    return "\n".join(lines).encode()


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "collections.toml"
    path.write_bytes(_toml(data))
    return path


def load_error(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, data))
    return str(info.value)


def test_the_shipped_policy_loads_and_is_versioned_by_its_content() -> None:
    policy = load_policy(SHIPPED)
    assert policy.time_zone == "Asia/Shanghai"
    assert policy.version == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()[:12]
    assert [s.action for s in policy.defaults.stages] == [
        Stage.REMINDER,
        Stage.WARNING,
        Stage.SUSPENSION,
        Stage.ESCALATION,
    ]
    assert str(policy.defaults.minimum_for("CNY")) == "100.00"
    assert str(policy.defaults.minimum_for("USD")) == "15.00"
    assert policy.blast_radius.max_suspensions_per_scan > 0


def test_the_round_trip_writer_gives_a_valid_policy(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, policy_data()))
    assert policy.rules_for("enterprise").min_notice_days == 14


def test_a_change_in_content_changes_the_version() -> None:
    content = SHIPPED.read_bytes()
    assert parse_policy(content).version != parse_policy(content + b"\n# edited\n").version


def test_segment_overrides_merge_with_the_defaults() -> None:
    policy = load_policy(SHIPPED)
    enterprise = policy.rules_for("enterprise")
    assert enterprise.day_of(Stage.SUSPENSION) == 45
    assert str(enterprise.minimum_for("CNY")) == "1000.00"
    assert str(enterprise.minimum_for("USD")) == "15.00"  # inherited
    assert policy.rules_for("unknown") == policy.defaults


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"defaults__grace": 3}, "defaults.grace: Extra inputs are not permitted"),
        ({"time_zone": "Mars/Olympus"}, "time_zone: unknown IANA time zone 'Mars/Olympus'"),
        ({"defaults__minimum_overdue_balance": {"cny": "1"}}, "not an ISO 4217 currency code"),
        ({"defaults__minimum_overdue_balance": {"CNY": 100.5}}, "amounts are strings"),
        ({"defaults__minimum_overdue_balance": {"CNY": "-1"}}, "amount must be a finite number >= 0"),
        ({"defaults__min_notice_days": 0}, "defaults.min_notice_days"),
        ({"blast_radius__max_suspension_percent": 101}, "blast_radius.max_suspension_percent"),
        ({"blast_radius__max_suspension_percent": 2.5}, "give the percent as an integer or a string"),
        ({"blast_radius__max_suspensions_per_scan": -1}, "blast_radius.max_suspensions_per_scan"),
        ({"enforcement_window__opens": "25:00"}, "enforcement_window.opens: '25:00' is not a time"),
        ({"enforcement_window__opens": "18:00"}, "opens (18:00) must be before closes (17:00)"),
        ({"enforcement_window__weekdays": ["mon", "funday"]}, "enforcement_window.weekdays[1]"),
        ({"enforcement_window__weekdays": []}, "enforcement_window.weekdays"),
        ({"protected_customers": ["not-a-guid"]}, "protected_customers[0]: Value error, must be a GUID"),
        ({"how_to_pay": {"en": "x"}}, "how_to_pay.zh-CN: Field required"),
        ({"segments": {"Big Co": {"title": {"zh-CN": "大", "en": "Big"}}}}, "segment name 'Big Co'"),
        ({"segments": {"big": {}}}, "segments.big.title: Field required"),
    ],
)
def test_invalid_values_are_refused_with_the_field_path(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    message = load_error(tmp_path, policy_data(**changes))
    assert str(tmp_path / "collections.toml") in message
    assert expected.replace("Value error, ", "") in message


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        (
            [{"action": "reminder", "days_past_due": 5}, {"action": "warning", "days_past_due": 5}],
            "days_past_due must strictly increase",
        ),
        (
            [{"action": "suspension", "days_past_due": 20}, {"action": "warning", "days_past_due": 25}],
            "stages must be listed in the order",
        ),
        (
            [{"action": "reminder", "days_past_due": 3}, {"action": "reminder", "days_past_due": 5}],
            "each at most once (reminder after reminder)",
        ),
        (
            [{"action": "suspension", "days_past_due": 20}],
            "a warning stage and a suspension stage go together",
        ),
        (
            [{"action": "warning", "days_past_due": 10}, {"action": "suspension", "days_past_due": 15}],
            "suspension (15 days) minus warning (10 days) must be at least min_notice_days (7)",
        ),
        ([{"action": "current", "days_past_due": 1}], "'current' is not an action"),
        ([{"action": "reminder", "days_past_due": 0}], "defaults.stages[0].days_past_due"),
        ([], "defaults.stages"),
    ],
)
def test_stage_rules(tmp_path: Path, stages: list[dict[str, Any]], expected: str) -> None:
    assert expected in load_error(tmp_path, policy_data(defaults__stages=stages))


def test_a_segment_that_breaks_the_rules_fails_the_whole_load(tmp_path: Path) -> None:
    message = load_error(tmp_path, policy_data(segments__enterprise__min_notice_days=30))
    assert "segment 'enterprise' with the defaults gives invalid rules" in message
    assert "min_notice_days (30)" in message


def test_a_date_cannot_be_both_holiday_and_make_up_day(tmp_path: Path) -> None:
    data = policy_data()
    data["enforcement_window"]["make_up_workdays"].append(data["enforcement_window"]["holidays"][0])
    assert "both a holiday and a make-up working day: 2026-02-16" in load_error(tmp_path, data)


def test_the_four_eyes_limit_of_a_promise_cannot_exceed_the_maximum(tmp_path: Path) -> None:
    message = load_error(tmp_path, policy_data(four_eyes={"promise_to_pay_alone_max_days": 61}))
    assert "promise_to_pay_alone_max_days (61) cannot exceed" in message and "(60)" in message
    allowed = load_policy(write(tmp_path, policy_data(four_eyes={"promise_to_pay_alone_max_days": 60})))
    assert allowed.four_eyes.promise_to_pay_alone_max_days == 60


def test_the_version_key_is_refused(tmp_path: Path) -> None:
    assert "version: computed from the file content" in load_error(tmp_path, policy_data(version="v9"))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("time_zone = \n")
    with pytest.raises(PolicyError, match=r"bad\.toml: not valid TOML"):
        load_policy(bad)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(binary)


def test_the_policy_model_is_frozen() -> None:
    policy = load_policy(SHIPPED)
    with pytest.raises(ValueError, match="frozen"):
        policy.time_zone = "UTC"  # type: ignore[misc]
    assert isinstance(policy, Policy)


@pytest.mark.parametrize(
    ("population", "allowed"),
    [(0, 0), (1, 1), (20, 1), (21, 2), (399, 20), (400, 20), (100_000, 20)],
)
def test_blast_radius_allows_the_lower_of_count_and_percent(population: int, allowed: int) -> None:
    policy = load_policy(SHIPPED)  # 20 per scan, 5 percent
    assert policy.blast_radius.allowed_suspensions(population) == allowed


def test_protected_customers_match_whatever_the_case(tmp_path: Path) -> None:
    guid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    policy = load_policy(write(tmp_path, policy_data(protected_customers=[guid.upper()])))
    assert policy.protected_customers == [guid]
    assert policy.is_protected(guid) and policy.is_protected(guid.upper())
    assert not policy.is_protected(None) and not policy.is_protected("11111111-1111-4111-8111-111111111111")
