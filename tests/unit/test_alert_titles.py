"""Every alert the app can raise has a title staff read in zh-CN and in en."""

from __future__ import annotations

import re

from shared.adapters.alerts import ALERTING_ACTIONS, TITLES, alert_kind
from tools.azurite import REPO_ROOT


def raised_kinds() -> set[str]:
    kinds = set(ALERTING_ACTIONS.values()) | {"poison_message"}  # named in the entry's details
    for path in (REPO_ROOT / "shared").rglob("*.py"):
        for action in re.findall(r'"(alert\.[a-z_]+)"', path.read_text(encoding="utf-8")):
            kinds.add(alert_kind(action) or action)
    return kinds


def test_every_alert_kind_has_a_title_in_both_languages() -> None:
    kinds = raised_kinds()
    assert {"reconcile_failed", "payments_feed_quiet", "ownership_undecided"} <= kinds  # the scan works
    missing = sorted(k for k in kinds if not (TITLES.get(k, {}).get("zh-CN") and TITLES.get(k, {}).get("en")))
    assert missing == []
    for titles in TITLES.values():
        assert re.search(r"[\u4e00-\u9fff]", titles["zh-CN"]) and not re.search(r"[A-Za-z]", titles["zh-CN"])
