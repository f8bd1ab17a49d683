"""The notice sender: one queue message = deliver one notice row, at most once.

Channels: the customer's webhook (JSON, HMAC-SHA256 of the body in `X-CollectionsGuard-Signature:
sha256=<hex>`, key NOTICE_WEBHOOK_SECRET) and the `noticeoutbox` table an e-mail system reads
(subject and body rendered in the customer's locale). Staff notices (escalation) go to the outbox
table only. Delivery is claimed on the notice row under its ETag before sending, and marked
delivered under the ETag after, in one transaction with its audit entry; a failed delivery is
retried by re-publishing the message with a growing delay, so a slow customer endpoint never
blocks the scan or the queue. A message that finds the notice claimed by another sender looks
again once the claim's lease has run out, so a sender that died mid-way does not lose it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from pydantic import BaseModel

from shared.adapters.audit import AuditEntry
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.customers import NoticeRecord
from shared.adapters.layout import NOTICE_PREFIX, PROFILE_ROW
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.customer import StoredProfile
from shared.domain.identity import Actor
from shared.domain.notice_text import render_notice
from shared.errors import Contended
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.outbox import NoticeMessage
from shared.telemetry import metric

log = logging.getLogger(__name__)

NOTICE_OUTBOX_TABLE = "noticeoutbox"
SIGNATURE_HEADER = "X-CollectionsGuard-Signature"
MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=5)
WEBHOOK_TIMEOUT_SECONDS = 10
ACTOR = Actor.system("notice-sender")


class OutboxMail(BaseModel):
    """A row of the outbox table (PartitionKey = customer id, RowKey = notice id)."""

    customer_id: str
    notice_id: str
    audience: str
    stage: str
    locale: str
    subject: str
    body_text: str
    recipients: list[str]
    created_at: datetime


def sign(body: bytes, secret: str) -> str:
    """The signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def backoff(attempt: int) -> timedelta:
    """30 s, 1 min, 2 min, ... at most 1 hour."""
    return timedelta(seconds=min(30 * 2**attempt, 3600))


def handle_notice(deps: CollectionsDeps, message: NoticeMessage) -> str:
    """Deliver one notice; returns what happened (for logs and tests)."""
    repo = deps.customers
    stored = repo.get_notice(message.customer_id, message.notice_id)
    if stored is None:
        log.warning("notice row missing", extra={"notice": message.notice_id})
        return "missing"
    notice = stored.value
    now = deps.clock.now()
    if notice.delivered:
        return "already delivered"
    if notice.claimed_at is not None and now - notice.claimed_at < CLAIM_LEASE:
        # Another sender holds the claim. If it died, nobody would deliver the notice: look again
        # once its lease has run out (bounded by the attempt count, like any retry).
        if message.attempt < MAX_ATTEMPTS:
            wait = notice.claimed_at + CLAIM_LEASE - now + timedelta(seconds=1)
            later = message.model_copy(update={"attempt": message.attempt + 1})
            _republish(deps, later, f"{notice.notice_id}:wait:{notice.attempts}", wait)
        return "being delivered by another sender"
    notice.claimed_at = now
    notice.attempts += 1
    try:
        etag = repo.update_notice(message.customer_id, notice, stored.etag)
    except ConcurrencyConflict:
        return "claimed by another sender"
    profile_stored = repo.table.get(StoredProfile, message.customer_id, PROFILE_ROW)
    if profile_stored is None:
        return "customer missing"
    profile = profile_stored.value
    try:
        rendered = render_notice(notice.content, profile.locale)
        error = _deliver(deps, message, notice, profile, rendered.subject, rendered.body_text, now)
    except Exception as exc:  # e.g. a storage error writing the outbox row: retry, never lose it
        log.exception("notice delivery failed", extra={"notice": notice.notice_id})
        error = f"delivery failed: {type(exc).__name__}"
    notice.claimed_at = None
    if error is None:
        notice.delivered, notice.delivered_at, notice.last_error = True, now, None
    else:
        notice.last_error = error
    outcome = "delivered" if error is None else "failed"
    _record(deps, message, notice, etag, outcome, error or f"notice {notice.stage} delivered", now)
    if error is not None:
        if notice.attempts < MAX_ATTEMPTS:
            retry = message.model_copy(update={"attempt": message.attempt + 1})
            _republish(deps, retry, f"{notice.notice_id}:{notice.attempts}", backoff(notice.attempts))
            metric("notices.retry_scheduled")
            return "retry scheduled"
        metric("notices.failed")
        log.error("notice gave up", extra={"notice": notice.notice_id, "attempts": notice.attempts})
        return "gave up"
    metric("notices.delivered", stage=notice.stage)
    return outcome


def _republish(deps: CollectionsDeps, message: NoticeMessage, message_id: str, delay: timedelta) -> None:
    deps.notice_queue.publish(message, message_id=message_id, delay=delay)


def _deliver(
    deps: CollectionsDeps,
    message: NoticeMessage,
    notice: NoticeRecord,
    profile: StoredProfile,
    subject: str,
    body: str,
    now: datetime,
) -> str | None:
    """Both channels; None when done, else the reason it must be retried."""
    if not notice.outbox_written:
        recipients = [c.email for c in profile.contacts if c.email] if notice.audience == "customer" else []
        mail = OutboxMail(
            customer_id=message.customer_id,
            notice_id=notice.notice_id,
            audience=notice.audience,
            stage=notice.stage,
            locale=profile.locale.value,
            subject=subject,
            body_text=body,
            recipients=recipients,
            created_at=now,
        )
        deps.notice_outbox.upsert(mail, message.customer_id, notice.notice_id)
        notice.outbox_written = True
    if notice.audience != "customer" or profile.notice_webhook_url is None or notice.webhook_delivered:
        return None
    secret = deps.settings.notice_webhook_secret
    if not secret:
        # Unsigned notices would let anyone forge them at the receiver: refuse and say so.
        return "NOTICE_WEBHOOK_SECRET is not set: webhook notices are not sent unsigned"
    payload = {
        "notice_id": notice.notice_id,
        "customer_id": message.customer_id,
        "stage": notice.stage,
        "locale": profile.locale.value,
        "subject": subject,
        "body_text": body,
        "amount_overdue": notice.content.amount_overdue.to_text(),
        "suspension_date": notice.content.suspension_date.isoformat()
        if notice.content.suspension_date
        else None,
        "invoices": [i.number for i in notice.content.invoices],
        "sent_at": now.isoformat(),
    }
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(data, secret)}
    url = str(profile.notice_webhook_url)
    if not url.startswith(("https://", "http://")):
        return "the webhook URL is not http(s)"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return f"webhook answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"webhook unreachable: {type(exc).__name__}"
    if status >= 300:
        return f"webhook answered {status}"
    notice.webhook_delivered = True
    return None


def _record(
    deps: CollectionsDeps,
    message: NoticeMessage,
    notice: NoticeRecord,
    etag: str,
    outcome: str,
    reason: str,
    now: datetime,
) -> None:
    """The notice row's outcome and its audit entry in ONE transaction (the row under the ETag of
    our claim, the audit head under its own), so neither is written without the other."""
    repo = deps.customers
    entry = AuditEntry(
        at=now,
        actor=ACTOR,
        action=f"notice.{outcome}",
        reason=reason,
        correlation_id=message.correlation_id,
        details={"notice_id": notice.notice_id, "attempt": notice.attempts},
    )

    def attempt() -> bool:
        """True when written; False when the row itself changed (not just the audit head)."""
        tx = repo.table.transaction(message.customer_id)
        tx.update(notice, NOTICE_PREFIX + notice.notice_id, etag)
        repo.audit_log.stage(tx, repo.audit_log.read_head(message.customer_id), [entry])
        try:
            tx.submit()
        except ConcurrencyConflict:
            current = repo.get_notice(message.customer_id, notice.notice_id)
            if current is None or current.etag != etag:
                return False
            raise  # the audit head moved: read it again
        return True

    try:
        written = retry_on_conflict(attempt, what=f"notice {notice.notice_id}")
    except Contended:
        written = False
    if not written:
        # Record what happened anyway, on its own.
        log.warning("notice row changed while delivering", extra={"notice": notice.notice_id})
        repo.audit_log.append(message.customer_id, [entry])
