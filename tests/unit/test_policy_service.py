"""The published-policy use case and the policy health check, against policy files on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import runtime, wiring
from shared.errors import BadRequest, ServiceUnavailable
from shared.services.collections.published_policy import published_policy
from shared.services.health import CHECKS, check_policy
from shared.settings import REPO_ROOT


@pytest.fixture
def policy_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "collections.toml"
    path.write_bytes((REPO_ROOT / "policy" / "collections.toml").read_bytes())
    monkeypatch.setenv("AzureWebJobsStorage", "UseDevelopmentStorage=true")
    monkeypatch.setenv("POLICY_FILE", str(path))
    runtime.reset()
    yield path
    runtime.reset()


def test_default_language_is_chinese(policy_file: Path) -> None:
    published = published_policy(wiring.policy_files().policy, None)
    assert published.lang == "zh-CN"
    assert published.text.startswith("# 催收政策")
    assert len(published.version) == 12


def test_english(policy_file: Path) -> None:
    assert published_policy(wiring.policy_files().policy, "en").text.startswith("# Collections policy")


def test_unknown_language_names_the_allowed_values(policy_file: Path) -> None:
    with pytest.raises(BadRequest, match="lang must be one of zh-CN, en; got 'fr'"):
        published_policy(wiring.policy_files().policy, "fr")


def test_invalid_policy_is_unavailable_with_the_reason(policy_file: Path) -> None:
    policy_file.write_text(policy_file.read_text().replace("min_notice_days = 7", "min_notice_days = 70"))
    with pytest.raises(
        ServiceUnavailable, match=r"collections\.toml: invalid policy: defaults: .*min_notice_days"
    ):
        published_policy(wiring.policy_files().policy, "en")


def test_health_check_reports_the_policy(policy_file: Path) -> None:
    assert "policy" in CHECKS
    ok = check_policy(wiring.health_probes())
    assert ok.ok and ok.detail.startswith("version ")
    policy_file.write_text(policy_file.read_text() + "\nsurprise = 1\n")
    broken = check_policy(wiring.health_probes())
    assert not broken.ok
    assert "surprise: Extra inputs are not permitted" in broken.detail
