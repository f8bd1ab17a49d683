"""GET /api/policy through the local Functions host: markdown or JSON, languages, errors, and an
invalid policy file turning both /api/policy and /api/health into 503 with the reason."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared import runtime
from shared.settings import REPO_ROOT, default_app_settings
from tools.azurite import Azurite
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http

KEY = "policy-e2e-key"


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "collections.toml"
    path.write_bytes((REPO_ROOT / "policy" / "collections.toml").read_bytes())
    return path


@pytest.fixture
def base_url(monkeypatch: pytest.MonkeyPatch, azurite: Azurite, policy_file: Path) -> Iterator[str]:
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    monkeypatch.setenv("QUEUE_TRANSPORT", "storage")
    monkeypatch.setenv("POLICY_FILE", str(policy_file))
    runtime.reset()
    import function_app

    host = DevHost(
        function_app.app,
        port=0,
        settings_defaults=default_app_settings(),
        host_json=with_app_http({"functions": ["health", "policy"]}),
        function_key=KEY,
    )
    host.start()
    try:
        yield host.base_url + "/api"
    finally:
        host.stop()
        runtime.reset()


@dataclass
class Reply:
    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.content)


def get(url: str, *, key: str | None = KEY, **headers: str) -> Reply:
    """A GET over a real socket (urllib), errors included; header names lower-cased."""
    if key is not None:
        headers["x-functions-key"] = key
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


def test_default_is_chinese_markdown(base_url: str, policy_file: Path) -> None:
    resp = get(f"{base_url}/policy")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/markdown")
    assert "charset=utf-8" in resp.headers["content-type"]
    text = resp.content.decode("utf-8")
    assert text.startswith("# 催收政策")
    assert "逾期 **20** 天" in text
    version = hashlib.sha256(policy_file.read_bytes()).hexdigest()[:12]
    assert resp.headers["x-policy-version"] == version
    assert f"`{version}`" in text


def test_english_as_json(base_url: str) -> None:
    resp = get(f"{base_url}/policy?lang=en", accept="application/json")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["lang"] == "en" and len(body["version"]) == 12
    assert body["text"].startswith("# Collections policy")


def test_unknown_language_is_a_400_problem(base_url: str) -> None:
    resp = get(f"{base_url}/policy?lang=fr")
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "zh-CN, en" in resp.json()["detail"]


def test_the_policy_is_public(base_url: str) -> None:
    """Customers read it: no sign-in, no key."""
    assert get(f"{base_url}/policy", key=None).status_code == 200


def test_an_edited_policy_is_published_at_once(base_url: str, policy_file: Path) -> None:
    policy_file.write_text(
        policy_file.read_text(encoding="utf-8").replace("days_past_due = 20", "days_past_due = 22")
    )
    text = get(f"{base_url}/policy?lang=en").text
    assert "**22** days past due: Suspension" in text


def test_an_invalid_policy_makes_policy_and_health_503(base_url: str, policy_file: Path) -> None:
    policy_file.write_text(policy_file.read_text(encoding="utf-8") + "\nsurprise = true\n", encoding="utf-8")
    resp = get(f"{base_url}/policy")
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert "surprise: Extra inputs are not permitted" in resp.json()["detail"]
    health = get(f"{base_url}/health", key=None)
    assert health.status_code == 503
    check = health.json()["checks"]["policy"]
    assert check["ok"] is False and "surprise" in check["detail"]


def test_the_policy_is_cacheable_and_revalidates(base_url: str, policy_file: Path) -> None:
    first = get(f"{base_url}/policy", key=None)
    assert first.headers["cache-control"] == "public, max-age=300"
    assert "Accept-Language" in first.headers["vary"] and first.headers["etag"].startswith('"')
    again = get(f"{base_url}/policy", key=None, **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    as_json = get(f"{base_url}/policy", key=None, accept="application/json")
    assert as_json.headers["etag"] != first.headers["etag"]  # another representation
    policy_file.write_text(
        policy_file.read_text(encoding="utf-8").replace("days_past_due = 20", "days_past_due = 21")
    )
    changed = get(f"{base_url}/policy", key=None, **{"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and "**21**" in changed.text  # a new version, a new ETag


def test_the_reader_language_is_followed_when_none_is_asked(base_url: str) -> None:
    english = get(f"{base_url}/policy", key=None, **{"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert english.headers["content-language"] == "en" and english.text.startswith("# Collections policy")
    chinese = get(f"{base_url}/policy", key=None, **{"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"})
    assert chinese.headers["content-language"] == "zh-CN"
    asked = get(f"{base_url}/policy?lang=zh-CN", key=None, **{"Accept-Language": "en"})
    assert asked.headers["content-language"] == "zh-CN"


def test_the_json_lists_the_days_off_of_this_year_and_the_next(base_url: str) -> None:
    body = get(f"{base_url}/policy?lang=en", key=None, accept="application/json").json()
    assert len(body["days_off"]) == 2
    this_year, next_year = sorted(body["days_off"], key=int)
    assert int(next_year) == int(this_year) + 1
    # The days the scan keeps off: the policy's list for a year it lists, else the library's.
    from shared.adapters.holiday_library import with_library_holidays
    from shared.adapters.policy_files import load_policy

    calendar = with_library_holidays(load_policy(REPO_ROOT / "policy" / "collections.toml")).calendar()
    for year in (this_year, next_year):
        expected = sorted(d.isoformat() for d in calendar.holidays if d.year == int(year))
        assert body["days_off"][year] == expected and expected, year
        made_up = sorted(d.isoformat() for d in calendar.make_up_workdays if d.year == int(year))
        assert body["make_up_workdays"][year] == made_up
