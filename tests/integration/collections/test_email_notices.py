"""E-mail notices through a real SMTP server on loopback (tools/mailsink): multipart text + HTML
in the customer's language to the profile's contacts, the server's reply on the notice row, and
fair notice that counts from delivery (retried, alerted, the suspension date moved, never skipped)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import runtime
from shared.adapters.customers import CustomerRepository, NoticeRecord
from shared.domain.customer import CustomerProfile
from shared.services.collections import alerts, customer_view, ledger
from shared.services.collections import scan as collections
from shared.services.collections.notices import MAX_ATTEMPTS, handle_notice
from shared.services.collections.outbox import NoticeMessage
from tests.actors import TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer
from tools.mailsink import MailSink

DUE = date(2026, 3, 2)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=UTC)


def _notice(cid: str, stage: str) -> NoticeRecord:
    aggregate = CustomerRepository.of(runtime.table_store()).load(cid)
    (found,) = [n.value for n in aggregate.notices.values() if n.value.stage == stage]
    return found


def _send(messages: list[dict[str, Any]]) -> list[str]:
    return [handle_notice(deps(), NoticeMessage.model_validate(m)) for m in messages]


def _redeliver(message: dict[str, Any], attempt: int) -> str:
    """The retry the sender published (with a delay a test cannot wait for), delivered now."""
    return handle_notice(deps(), NoticeMessage.model_validate({**message, "attempt": attempt}))


def _to_warning(env: Env, cid: str) -> list[dict[str, Any]]:
    ledger.post_invoice(deps(), invoice(cid, "i1", "1000", DUE), actor=TEST_ACTOR, correlation_id="c")
    env.clock.set(_at(date(2026, 3, 5)))
    collections.run_scan(deps())
    env.notices()
    env.clock.set(_at(date(2026, 3, 12)))
    collections.run_scan(deps())
    return env.published_notices()


def test_a_warning_is_mailed_as_text_and_html_in_the_customer_language(env: Env, mail_sink: MailSink) -> None:
    contacts = [{"name": "财务部", "email": f"ap-{n}@example.cn"} for n in range(2)]
    cid = new_customer("上海示例科技有限公司", "zh-CN", contacts=contacts)
    before = len(mail_sink.received)
    assert _send(_to_warning(env, cid)) == ["delivered"]
    (mail,) = mail_sink.received[before + 1 :]  # the reminder came first
    assert sorted(mail.recipients) == sorted(c["email"] for c in contacts)
    message = mail.message
    assert message["Content-Language"] == "zh-CN" and "2026年3月23日" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "尊敬的上海示例科技有限公司" in parts["text/plain"] and '<html lang="zh-CN">' in parts["text/html"]
    assert "INV-i1" in parts["text/plain"] and "INV-i1" in parts["text/html"]
    notice = _notice(cid, "warning")
    assert notice.delivered and notice.email_status == "accepted"
    assert notice.email_reply is not None and notice.email_reply.startswith("250 2.0.0 Ok: queued as sink-")
    delivered = [
        e for e in customer_view.audit_trail(deps(), cid)["entries"] if e["action"] == "notice.delivered"
    ]
    assert delivered[0]["details"]["email_reply"] == notice.email_reply


def test_an_english_customer_gets_english_mail(env: Env, mail_sink: MailSink) -> None:
    cid = new_customer("Contoso Ltd", "en")
    before = len(mail_sink.received)
    _send(_to_warning(env, cid))
    mail = mail_sink.received[-1]
    assert len(mail_sink.received) == before + 2
    assert mail.message["Content-Language"] == "en" and "Monday, 23 March 2026" in mail.message["Subject"]


def test_a_refused_warning_is_not_delivered_retried_and_blocks_the_suspension(env: Env) -> None:
    cid = new_customer(contacts=[{"name": "AP", "email": "refuse-ap@example.cn"}])
    assert _send(_to_warning(env, cid)) == ["retry scheduled"]
    notice = _notice(cid, "warning")
    assert not notice.delivered and notice.email_status == "refused"
    assert notice.email_reply == "refuse-ap@example.cn: 550 5.1.1 mailbox unavailable"
    assert env.waiting(env.notice_queue) == 2  # the reminder's and the warning's retries, delayed
    env.clock.set(_at(date(2026, 3, 23)))
    collections.run_scan(deps())
    view = customer_view.customer_view(deps(), cid)
    assert view.holds == [] and any("has not been delivered" in r for r in view.reasons)


def test_an_unreachable_mail_server_defers_and_an_undelivered_warning_is_alerted_never_dropped(
    env: Env, monkeypatch: Any
) -> None:
    cid = new_customer()
    messages = _to_warning(env, cid)
    monkeypatch.setenv("SMTP_PORT", "9")  # nothing listens on the discard port here
    runtime.reset()
    (message,) = messages
    outcomes = [_redeliver(message, attempt) for attempt in range(MAX_ATTEMPTS)]
    assert outcomes == ["retry scheduled"] * MAX_ATTEMPTS
    assert env.waiting(env.notice_queue) == MAX_ATTEMPTS
    notice = _notice(cid, "warning")
    assert notice.email_status == "deferred" and notice.attempts == MAX_ATTEMPTS and not notice.delivered
    raised = [a for a in alerts.partner_alerts(deps()) if a["action"] == "alert.warning_undelivered"]
    assert len(raised) == 1 and cid in raised[0]["reason"]
    assert _redeliver(message, MAX_ATTEMPTS) == "retry scheduled"  # every 6 hours, never given up
    assert env.waiting(env.notice_queue) == MAX_ATTEMPTS + 1
    again = [a for a in alerts.partner_alerts(deps()) if a["action"] == "alert.warning_undelivered"]
    assert len(again) == 1  # alerted once


def test_a_late_delivery_moves_the_named_date_and_the_suspension(env: Env) -> None:
    cid = new_customer(contacts=[{"name": "AP", "email": "later-ap@example.cn"}])
    (message,) = _to_warning(env, cid)
    assert _send([message]) == ["retry scheduled"]  # 451: deferred on 12 March
    env.clock.set(_at(date(2026, 3, 20)))  # the contacts are fixed a week later
    profile = CustomerProfile.model_validate(
        {"name": "Contoso", "locale": "en", "contacts": [{"name": "AP", "email": "ap@example.cn"}]}
    )
    ledger.put_customer(deps(), cid, profile, actor=TEST_ACTOR, correlation_id="c")
    assert _redeliver(message, 1) == "delivered"
    notice = _notice(cid, "warning")
    assert notice.suspension_date_moved_from == date(2026, 3, 23)
    assert notice.content.suspension_date == date(2026, 3, 27)  # 20 March + 7 days
    env.clock.set(_at(date(2026, 3, 23)))
    collections.run_scan(deps())
    view = customer_view.customer_view(deps(), cid)
    assert view.holds == [] and view.planned_suspension_on == date(2026, 3, 27)
    env.clock.set(_at(date(2026, 3, 27)) + timedelta(minutes=1))
    collections.run_scan(deps())
    assert [h.hold_id for h in customer_view.customer_view(deps(), cid).holds] == ["non_payment"]
