"""The console in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright)
against the whole app on free ports with the Partner Center simulator: the issue's scenarios
for the finance clerk, the risk analyst, the approvers and the read-only auditor, both languages,
a screenshot of each main page (into CONSOLE_SCREENSHOTS, else a temporary folder; `python -m
tools.console_screenshots` refreshes docs/console/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.console_app import BATCH, C1, C1_SUBS, C2, C2_SUB, ConsoleApp, console_app, eventually, pages

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WRITE_WORDS = ("button[type=submit]:not(.lang button)",)


@pytest.fixture(scope="module")
def app(azurite: Any) -> Iterator[ConsoleApp]:
    with console_app(azurite.connection_string) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make setup installs Debian's chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path_factory.mktemp("console-shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in(
    browser: Any, app: ConsoleApp, user: str, lang: str = "en", width: int = 1280, height: int = 800
) -> Any:
    """A new browser context signed in through the host's sign-in page as a demo user."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=lang)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.base)
    page = context.new_page()
    page.goto(app.base + "/console/about")
    assert "/.auth/login/aad" in page.url  # not signed in: sent to sign-in
    page.locator(f"button[name=user][value={user}]").click()
    page.wait_for_url("**/console/about")
    return page


def _no_write_action(page: Any) -> list[str]:
    """Submit buttons other than the language switch and the filters' search."""
    found = []
    for form in page.locator("form[method=post]:not(.lang)").all():
        found.append(form.get_attribute("action") or "")
    return found


def test_clerk_posts_the_payment_and_the_subscriptions_come_back(
    browser: Any, app: ConsoleApp, shots: Path
) -> None:
    page = signed_in(browser, app, "clerk")
    page.goto(app.base + "/console/customers")
    page.locator("select[name=hold]").select_option("non_payment")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="上海示例科技有限公司").click()
    assert page.locator("li[data-hold=non_payment]").count() == 1
    assert all(app.status(C1, s) == "suspended" for s in C1_SUBS)
    page.screenshot(path=str(shots / "customer.png"), full_page=True)
    page.get_by_label("Payment id").fill("PAY-CONSOLE-1")
    assert page.get_by_label("Amount").input_value() == "12800.00"
    page.get_by_role("button", name="Post a payment").click()
    page.wait_for_url(f"**/console/customers/{C1}?done=payment")
    assert page.locator("p.done").is_visible()
    assert page.locator("li[data-hold=non_payment]").count() == 0
    eventually(lambda: all(app.status(C1, s) == "active" for s in C1_SUBS), what="C1 active on the simulator")

    def shows_active() -> bool:
        page.reload()
        cells = page.locator("td.pc-status").all_inner_texts()
        return bool(cells) and all(c.strip().lower() == "active" for c in cells)

    eventually(shows_active, what="the customer page shows the subscriptions active")
    page.context.close()


def test_risk_analyst_dismisses_the_case_and_copies_the_draft(
    browser: Any, app: ConsoleApp, shots: Path
) -> None:
    page = signed_in(browser, app, "risk", lang="zh-CN", width=390, height=844)
    page.goto(app.base + "/console")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.screenshot(path=str(shots / "today-390.png"), full_page=True)
    page.get_by_role("link", name=app.case_id).click()  # listed among the open critical cases
    assert page.locator("dd.enforcement").inner_text() == "已暂停"
    assert page.locator("td.pc-status").inner_text().strip().lower() == "suspended"
    page.get_by_role("button", name="生成服务请求草稿").click()
    page.wait_for_url("**?done=escalation")
    page.get_by_role("button", name="复制中文草稿").click()
    eventually(lambda: page.get_by_role("button", name="已复制").count() == 1, what="copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert app.case_id in copied or C2 in copied
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "case-390.png"), full_page=True)
    page.get_by_label("驳回（误报：恢复访问）").check()
    page.get_by_label("说明").fill("误报：客户已确认订单")
    page.get_by_role("button", name="结案").click()
    page.wait_for_url("**?done=resolution")
    assert page.locator("dd.case-status").inner_text() == "已驳回"
    eventually(lambda: app.status(C2, C2_SUB) == "active", what="C2 active on the simulator")
    page.context.close()


def test_approvers_release_the_batch_and_the_clerk_is_refused(
    browser: Any, app: ConsoleApp, shots: Path
) -> None:
    clerk = signed_in(browser, app, "clerk")
    clerk.goto(app.base + "/console/approvals")
    assert clerk.locator(f"article[data-batch={BATCH}]").count() == 1
    assert clerk.locator(f"form[action='/console/approvals/batches/{BATCH}']").count() == 0  # not offered
    refused = clerk.request.post(
        app.base + f"/console/approvals/batches/{BATCH}", headers={"Origin": app.base}, form={}
    )
    assert refused.status == 403 and "Collections.Approve" in refused.text()
    clerk.context.close()
    approver = signed_in(browser, app, "approver")
    approver.goto(app.base + "/console/approvals")
    approver.screenshot(path=str(shots / "approvals-batch.png"), full_page=True)
    approver.locator(f"article[data-batch={BATCH}] button").click()
    approver.wait_for_url("**?done=release")
    change = approver.locator("article.change").first.get_attribute("data-change")
    own = approver.locator(f"article[data-change='{change}'] button", has_text="Approve")
    own.click()  # the same person may not approve what they asked for: refused beside the form
    assert approver.locator("p.problem").is_visible()
    approver.context.close()
    second = signed_in(browser, app, "approver2")
    second.goto(app.base + "/console/approvals")
    # A release places suspensions: only inside the policy's enforcement window. The app's
    # clock (in this process) is set to the window's next opening, so the test runs any hour.
    from shared import clock, wiring
    from shared.clock import FixedClock

    opening = wiring.collections().policy().calendar().next_open(datetime.now(UTC)) + timedelta(minutes=5)
    previous = clock.set_clock(FixedClock(opening))
    try:
        second.locator(f"article[data-change='{change}'] button", has_text="Approve").click()
        second.wait_for_load_state()
        assert second.locator("p.problem").count() == 0, second.locator("p.problem").all_inner_texts()
        second.wait_for_url("**?done=approval")
    finally:
        clock.set_clock(previous)
    assert second.locator(f"article[data-batch={BATCH}]").count() == 0  # released: no longer waiting
    second.context.close()


def test_read_only_auditor_is_offered_no_write_action(browser: Any, app: ConsoleApp) -> None:
    page = signed_in(browser, app, "auditor")
    for name, path in pages(app).items():
        answer = page.goto(app.base + path)
        assert answer is not None
        if name in ("import", "fraud", "case"):
            assert answer.status == 403
            continue
        assert answer.status == 200, name
        assert _no_write_action(page) == [], name
    page.context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_renders_in_both_languages_with_screenshots(
    browser: Any, app: ConsoleApp, shots: Path, lang: str
) -> None:
    from tests.e2e.test_console_pages import english_phrases

    page = signed_in(browser, app, "clerk", lang=lang)
    # The header switch sets the language whatever the browser says.
    page.get_by_role("button", name="中文" if lang == "zh-CN" else "English").click()
    phrases = english_phrases()
    for name, path in pages(app).items():
        if name in ("fraud", "case"):
            continue  # the risk analyst's pages: rendered in test_console_pages and above
        page.goto(app.base + path)
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").inner_text().strip()
        if lang == "zh-CN":
            text = page.locator("body").inner_text()
            code = " ".join(page.locator("code, pre").all_inner_texts())
            left = [p for p in phrases if p in text and p not in code]
            assert left == [], (name, left)
        if lang == "en" or name == "today":
            page.screenshot(path=str(shots / f"{name}{'' if lang == 'en' else '-zh-CN'}.png"), full_page=True)
    page.context.close()
