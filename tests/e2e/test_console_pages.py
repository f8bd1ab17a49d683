"""The console over HTTP (no browser): each page in both languages for each demo user, the
role-aware answers, the security headers, the static files, the same-origin check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from functions.console.web import catalogue
from tests.e2e.callers import sign_in
from tests.e2e.console_app import ConsoleApp, console_app, pages

pytestmark = pytest.mark.slow

NEEDS = {  # page -> the role it needs
    "today": "Collections.Read",
    "customers": "Collections.Read",
    "customer": "Collections.Read",
    "import": "Collections.Write",
    "approvals": "Collections.Read",
    "fraud": "Fraud.Investigate",
    "case": "Fraud.Investigate",
    "reports": "Collections.Read",
    "exposure": "Collections.Read",
    "about": None,
}
USERS = {
    "clerk": {"Collections.Read", "Collections.Write", "Fraud.Report"},
    "risk": {"Collections.Read", "Fraud.Report", "Fraud.Investigate"},
    "approver": {"Collections.Read", "Collections.Approve"},
    "auditor": {"Collections.Read", "Audit.Read"},
}


@pytest.fixture(scope="module")
def app(azurite: Any) -> Iterator[ConsoleApp]:
    with console_app(azurite.connection_string) as running:
        yield running


def english_phrases() -> set[str]:
    """The en texts a zh-CN page must not show (several words: not a code or a name)."""
    en, zh = catalogue("en"), catalogue("zh-CN")
    return {
        re.sub(r"\{\w+\}.*", "", v).strip() for k, v in en.items() if len(v.split()) >= 2 and zh[k] != v
    } - {""}


def visible_text(html: str) -> str:
    body = re.sub(r"<(script|style|pre|code)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.parametrize("user", sorted(USERS))
def test_every_page_in_both_languages_as_each_user(app: ConsoleApp, user: str) -> None:
    session = sign_in(app.base, user)
    phrases = english_phrases()
    for name, path in pages(app).items():
        for lang in ("zh-CN", "en"):
            answer = requests.get(app.base + path, headers={**session, "Accept-Language": lang}, timeout=60)
            role = NEEDS[name]
            if role is not None and role not in USERS[user]:
                assert answer.status_code == 403, (user, name, answer.status_code)
                assert role in answer.text
                continue
            assert answer.status_code == 200, (user, name, lang, answer.text[-2000:])
            assert f'<html lang="{lang}">' in answer.text
            assert "default-src 'self'" in answer.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
            assert answer.headers["x-content-type-options"] == "nosniff"
            if lang == "zh-CN":
                text = visible_text(answer.text)
                left = sorted(p for p in phrases if p in text)
                assert left == [], (user, name, left)


def test_nobody_is_sent_to_sign_in_and_forms_need_the_same_origin(app: ConsoleApp) -> None:
    answer = requests.get(app.base + "/console/customers", allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(
        "/.auth/login/aad?post_login_redirect_uri=%2Fconsole%2Fcustomers"
    )
    clerk = sign_in(app.base, "clerk")
    hold = f"{app.base}/console/customers/{pages(app)['customer'].rsplit('/', 1)[1]}/holds"
    cross = requests.post(
        hold, data={"reason": "x"}, headers={**clerk, "Origin": "https://evil.example"}, timeout=30
    )
    assert cross.status_code == 403
    none = requests.post(hold, data={"reason": "x"}, headers=clerk, timeout=30)
    assert none.status_code == 403


def test_static_files_are_cached_and_confined(app: ConsoleApp) -> None:
    css = requests.get(app.base + "/console/static/console.css", timeout=30)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    js = requests.get(app.base + "/console/static/console.js", timeout=30)
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    for bad in ("..%2Fmessages%2Fen.json", ".hidden.css", "nothing.css", "console.py"):
        assert requests.get(app.base + "/console/static/" + bad, timeout=30).status_code == 404


def test_a_refused_form_keeps_what_was_typed_and_names_the_field(app: ConsoleApp) -> None:
    clerk = sign_in(app.base, "clerk")
    customer = pages(app)["customer"]
    form = {"payment_id": "PAY-TYPED-1", "amount": "-5", "currency": "CNY", "received_at": "not a time"}
    answer = requests.post(
        app.base + customer + "/payments",
        data=form,
        headers={**clerk, "Origin": app.base, "Accept-Language": "en"},
        timeout=30,
    )
    assert answer.status_code == 422, answer.text[-1500:]
    assert 'value="PAY-TYPED-1"' in answer.text and 'value="not a time"' in answer.text
    assert 'class="field-error"' in answer.text


def test_clerk_grants_and_revokes_an_exemption(app: ConsoleApp) -> None:
    from datetime import date, timedelta

    from tests.e2e.console_app import C3

    clerk = {**sign_in(app.base, "clerk"), "Origin": app.base, "Accept-Language": "en"}
    base = f"{app.base}/console/customers/{C3}"
    until = (date.today() + timedelta(days=5)).isoformat()
    form = {"kind": "promise_to_pay", "until": until, "reason": "pays on Friday"}
    granted = requests.post(base + "/exemptions", data=form, headers=clerk, timeout=30)
    assert granted.status_code == 200 and "done" in granted.url, granted.text[-1500:]
    actions = re.findall(r'action="(/console/customers/[^"]+/exemptions/[^"/]+/revoke)"', granted.text)
    assert len(actions) == 1 and "pays on Friday" in granted.text
    revoked = requests.post(app.base + actions[0], data={}, headers=clerk, timeout=30)
    assert revoked.status_code == 200 and "Exemption revoked." in revoked.text
    assert "pays on Friday" not in revoked.text.split('id="h-exemptions"')[1].split("</section>")[0]


C_LIMIT = "0d000000-0000-4000-8000-00000000000d"  # sort before the demo customers: the exposure
C_NEAR = "0e000000-0000-4000-8000-00000000000e"  # refresh applies these two first (and only them)


def _section(page: str, section_id: str) -> str:
    """One section of a page, its entities unescaped (so catalogue texts compare as written)."""
    import html

    return html.unescape(page.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0])


def _seed_credit_customers() -> None:
    """Two customers with a credit limit of their own: one at it, one over the alert threshold;
    the exposure refresh reads the simulator's unbilled charges and applies these two only."""
    from datetime import date, timedelta
    from decimal import Decimal

    from shared import wiring
    from shared.domain.customer import CustomerProfile
    from shared.domain.ledger import InvoiceIn
    from shared.domain.money import Money
    from shared.services.collections import ledger
    from shared.services.exposure.refresh import refresh_exposure
    from tests.actors import TEST_ACTOR

    deps = wiring.collections()
    today = date.today()
    seeds = ((C_LIMIT, "额度已满公司", "6000.00"), (C_NEAR, "额度将满公司", "4500.00"))
    for customer_id, name, amount in seeds:
        profile = CustomerProfile.model_validate(
            {
                "name": name,
                "locale": "zh-CN",
                "credit_limit": "5000.00 CNY",
                "contacts": [{"name": "Billing", "email": f"billing-{customer_id[:8]}@example.cn"}],
            }
        )
        ledger.put_customer(deps, customer_id, profile, actor=TEST_ACTOR, correlation_id="credit-seed")
        body = InvoiceIn.model_validate(
            {
                "invoice_id": f"CW-{customer_id[:2]}",
                "customer_id": customer_id,
                "number": f"INV-CW-{customer_id[:2]}",
                "amount": Money(amount=Decimal(amount)),
                "issued_on": today,
                "due_date": today + timedelta(days=30),
            }
        )
        ledger.post_invoice(deps, body, actor=TEST_ACTOR, correlation_id="credit-seed")
    result = refresh_exposure(wiring.exposure(), max_customers=2)
    assert result.enabled and result.customers_applied == 2, result


def test_exposure_sections_empty_then_a_customer_at_and_one_over_the_threshold(app: ConsoleApp) -> None:
    from tests.e2e.console_app import C1

    phrases = english_phrases()
    # Before any exposure refresh: the empty states, and the credit watch page for every user.
    for user in sorted(USERS):
        session = sign_in(app.base, user)
        for lang in ("zh-CN", "en"):
            listed = requests.get(
                app.base + "/console/exposure", headers={**session, "Accept-Language": lang}, timeout=60
            )
            assert listed.status_code == 200, (user, lang, listed.text[-1500:])
            assert catalogue(lang)["exposure.none"] in listed.text
            if lang == "zh-CN":
                assert sorted(p for p in phrases if p in visible_text(listed.text)) == [], user
    clerk = sign_in(app.base, "clerk")

    def get(path: str, lang: str) -> str:
        answer = requests.get(app.base + path, headers={**clerk, "Accept-Language": lang}, timeout=60)
        assert answer.status_code == 200, (path, lang, answer.text[-1500:])
        if lang == "zh-CN":
            assert sorted(p for p in phrases if p in visible_text(answer.text)) == [], path
        return answer.text

    for lang in ("zh-CN", "en"):
        texts = catalogue(lang)
        assert texts["today.no_watch"] in _section(get("/console", lang), "exposure")
        assert texts["exposure.not_read"] in _section(get(f"/console/customers/{C1}", lang), "exposure")

    _seed_credit_customers()
    for lang in ("zh-CN", "en"):
        texts = catalogue(lang)
        near = _section(get(f"/console/customers/{C_NEAR}", lang), "exposure")
        assert texts["exposure.not_read"] not in near
        assert 'data-level="threshold"' in near and texts["level.threshold"] in near
        assert "5,000.00 CNY" in near and texts["limitsource.profile"] in near  # the limit, its source
        assert "4,500.00 CNY" in near and "90.0%" in near  # not yet due; the share used
        assert '<meter id="credit-meter"' in near and 'value="90.00"' in near
        for part in ("overdue", "not_yet_due", "credit", "unbilled", "unbilled_cost", "seats_added", "total"):
            assert texts[f"exposure.{part}"] in near, part
        assert texts["exposure.no_offers"] in near and texts["exposure.no_seats"] in near
        assert texts["exposure.not_held"] in near
        at_limit = _section(get(f"/console/customers/{C_LIMIT}", lang), "exposure")
        assert texts["level.limit"] in at_limit and "120.0%" in at_limit and 'value="100"' in at_limit

        today = _section(get("/console", lang), "exposure")
        assert texts["today.no_watch"] not in today
        rows = re.findall(r'<tr data-customer="([^"]+)" data-level="([^"]+)">', today)
        assert rows == [(C_LIMIT, "limit"), (C_NEAR, "threshold")]  # at the limit first
        assert f'href="/console/customers/{C_NEAR}#exposure"' in today and "额度将满公司" in today
        assert "4,500.00 CNY" in today and "5,000.00 CNY" in today and "90.0%" in today
        assert 'href="/console/exposure"' not in today  # everything fits: no link to the rest

        for level, expected in (("limit", [C_LIMIT]), ("threshold", [C_NEAR]), ("", [C_LIMIT, C_NEAR])):
            page = get(f"/console/exposure?level={level}", lang)
            assert re.findall(r'<tr data-customer="([^"]+)"', page) == expected, level
            assert texts["exposure.none"] not in page
