"""The two channels that deliver a customer notice: e-mail through the partner's SMTP relay and
the customer's signed webhook. Each records on the notice row what its last attempt got."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime

from shared.adapters.customers import NoticeRecord
from shared.adapters.mail import MailStatus, compose
from shared.domain.customer import StoredProfile
from shared.domain.messages import derived_message_id
from shared.domain.notice_text import RenderedNotice, notice_html
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.outbox import NoticeMessage
from shared.telemetry import metric

SIGNATURE_HEADER = "X-CollectionsGuard-Signature"
WEBHOOK_TIMEOUT_SECONDS = 10


def sign(body: bytes, secret: str) -> str:
    """The signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def email_channel(
    deps: CollectionsDeps,
    message: NoticeMessage,
    notice: NoticeRecord,
    recipients: list[str],
    rendered: RenderedNotice,
) -> str | None:
    """The e-mail channel: None when accepted (now or before), else what happened."""
    if notice.email_status == MailStatus.ACCEPTED.value:
        return None
    relay = deps.mail_relay
    if relay is None:
        notice.email_status, notice.email_reply = "skipped", "SMTP_HOST is not set"
        return "skipped: e-mail is not configured (SMTP_HOST)"
    if not recipients:
        notice.email_status, notice.email_reply = "skipped", "the customer has no e-mail contact"
        return "skipped: the customer has no e-mail contact"
    domain = relay.sender.rpartition("@")[2]
    mail = compose(
        sender=relay.sender,
        recipients=recipients,
        subject=rendered.subject,
        text=rendered.body_text,
        html=notice_html(rendered),
        language=rendered.locale.value,
        message_id=f"<{derived_message_id(message.customer_id, notice.notice_id)[:40]}@{domain}>",
    )
    result = relay.send(mail, recipients)
    notice.email_status, notice.email_reply, notice.email_recipients = (
        result.status.value,
        result.reply,
        recipients,
    )
    metric("notices.email", status=result.status.value)
    return None if result.status is MailStatus.ACCEPTED else f"e-mail {result.status.value}: {result.reply}"


def webhook_channel(
    deps: CollectionsDeps,
    message: NoticeMessage,
    notice: NoticeRecord,
    profile: StoredProfile,
    rendered: RenderedNotice,
    now: datetime,
) -> str | None:
    """The webhook channel: None when it answered 2xx (now or before), else what happened."""
    if notice.webhook_delivered:
        return None
    if profile.notice_webhook_url is None:
        notice.webhook_status, notice.webhook_reply = "skipped", "no notice_webhook_url"
        return "skipped: no webhook"
    secret = deps.settings.notice_webhook_secret
    if not secret:
        # Unsigned notices would let anyone forge them at the receiver: refuse and say so.
        notice.webhook_status, notice.webhook_reply = "failed", "NOTICE_WEBHOOK_SECRET is not set"
        return "NOTICE_WEBHOOK_SECRET is not set: webhook notices are not sent unsigned"
    payload = {
        "notice_id": notice.notice_id,
        "customer_id": message.customer_id,
        "stage": notice.stage,
        "locale": profile.locale.value,
        "subject": rendered.subject,
        "body_text": rendered.body_text,
        "amount_overdue": notice.content.amount_overdue.to_text(),
        "suspension_date": notice.content.suspension_date.isoformat()
        if notice.content.suspension_date
        else None,
        "invoices": [i.number for i in notice.content.invoices],
        "sent_at": now.isoformat(),
    }
    if notice.content.credit is not None:  # a credit-limit notice: what it is about
        payload["exposure"] = notice.content.credit.exposure.to_text()
        payload["credit_limit"] = notice.content.credit.credit_limit.to_text()
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(data, secret)}
    url = str(profile.notice_webhook_url)
    if not url.startswith(("https://", "http://")):
        notice.webhook_status, notice.webhook_reply = "failed", "not an http(s) URL"
        return "the webhook URL is not http(s)"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        notice.webhook_status, notice.webhook_reply = "failed", f"HTTP {exc.code}"
        return f"webhook answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        notice.webhook_status, notice.webhook_reply = "failed", type(exc).__name__
        return f"webhook unreachable: {type(exc).__name__}"
    notice.webhook_reply = f"HTTP {status}"
    if status >= 300:
        notice.webhook_status = "failed"
        return f"webhook answered {status}"
    notice.webhook_status, notice.webhook_delivered = "accepted", True
    return None
