"""The notice sender: one queue message = deliver one notice row, by every channel it has.

Channels of a customer notice: e-mail through the partner's SMTP relay (multipart text + HTML in
the customer's language, to the profile's contacts; `shared/adapters/mail.py`) and the
customer's webhook (JSON, HMAC-SHA256 of the body in `X-CollectionsGuard-Signature:
sha256=<hex>`, key NOTICE_WEBHOOK_SECRET). Every notice is also written to the `noticeoutbox`
table (a record for other systems; that is not delivery). Staff notices (escalation) go to the
outbox table only.

A notice is DELIVERED once the mail server accepted it or the webhook answered 2xx: that moment
(`delivered_at`) is when fair notice starts to count (`decision.decide` reads it for the
warning). A channel that did not take it is retried with a growing delay; an undelivered WARNING
is never given up: after MAX_ATTEMPTS it raises an alert and is retried every
UNDELIVERED_WARNING_RETRY, and each attempt of a warning that is late moves the date it names
(at least `min_notice_days` from now, on a working day), so the suspension moves with it.

Delivery is claimed on the notice row under its ETag before sending, and the outcome is written
under the ETag after, in one transaction with its audit entry. A message that finds the notice
claimed by another sender looks again once the claim's lease has run out.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pydantic import BaseModel

from shared.adapters.audit import AuditEntry
from shared.adapters.conflicts import retry_on_conflict
from shared.adapters.customers import NoticeRecord
from shared.adapters.layout import NOTICE_PREFIX, PROFILE_ROW
from shared.adapters.mail import MailStatus
from shared.adapters.tables import ConcurrencyConflict
from shared.domain.customer import StoredProfile
from shared.domain.identity import Actor
from shared.domain.notice_text import RenderedNotice, render_notice
from shared.domain.policy import PolicyError, Stage
from shared.errors import Contended
from shared.services.collections import alerts
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.notice_channels import SIGNATURE_HEADER, email_channel, sign, webhook_channel
from shared.services.collections.outbox import NoticeMessage
from shared.telemetry import metric

log = logging.getLogger(__name__)

NOTICE_OUTBOX_TABLE = "noticeoutbox"
MAX_ATTEMPTS = 8
UNDELIVERED_WARNING_RETRY = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=5)
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
    if notice.delivered and (notice.complete or notice.attempts >= MAX_ATTEMPTS):
        return "already delivered"
    if notice.claimed_at is not None and now - notice.claimed_at < CLAIM_LEASE:
        # Another sender holds the claim. If it died, nobody would deliver the notice: look again
        # once its lease has run out (bounded by the attempt count, like any retry).
        if message.attempt < MAX_ATTEMPTS:
            wait = notice.claimed_at + CLAIM_LEASE - now + timedelta(seconds=1)
            later = message.model_copy(update={"attempt": message.attempt + 1})
            _republish(deps, later, f"{notice.notice_id}:wait:{notice.attempts}", wait)
        return "being delivered by another sender"
    profile_stored = repo.table.get(StoredProfile, message.customer_id, PROFILE_ROW)
    if profile_stored is None:
        return "customer missing"
    profile = profile_stored.value
    if notice.audience == "customer" and notice.stage == Stage.WARNING.value and not notice.delivered:
        _move_named_date(deps, notice, profile, now)
    notice.claimed_at = now
    notice.attempts += 1
    try:
        etag = repo.update_notice(message.customer_id, notice, stored.etag)
    except ConcurrencyConflict:
        return "claimed by another sender"
    was_delivered = notice.delivered
    try:
        rendered = render_notice(notice.content, profile.locale)
        error = _deliver(deps, message, notice, profile, rendered, now)
    except Exception as exc:  # e.g. a storage error writing the outbox row: retry, never lose it
        log.exception("notice delivery failed", extra={"notice": notice.notice_id})
        error = f"delivery failed: {type(exc).__name__}"
    notice.claimed_at = None
    notice.last_error = error
    outcome = (
        "delivered"
        if notice.delivered and not was_delivered
        else "failed"
        if not notice.delivered
        else "retried"
    )
    _record(deps, message, notice, etag, outcome, _summary(notice, error), now)
    if notice.delivered and not was_delivered:
        metric("notices.delivered", stage=notice.stage)
    if error is None:
        return "delivered" if not was_delivered else "complete"
    return _retry(deps, message, notice, now)


def _retry(deps: CollectionsDeps, message: NoticeMessage, notice: NoticeRecord, now: datetime) -> str:
    retry = message.model_copy(update={"attempt": message.attempt + 1})
    if notice.attempts < MAX_ATTEMPTS:
        _republish(deps, retry, f"{notice.notice_id}:{notice.attempts}", backoff(notice.attempts))
        metric("notices.retry_scheduled")
        return "retry scheduled"
    undelivered_warning = (
        not notice.delivered and notice.audience == "customer" and notice.stage == Stage.WARNING.value
    )
    if notice.attempts == MAX_ATTEMPTS:
        metric("notices.failed")
        log.error("notice not delivered", extra={"notice": notice.notice_id, "attempts": notice.attempts})
        if undelivered_warning:
            policy_today = now.date()
            alerts.raise_alert(
                deps,
                key=f"notice-{message.customer_id}-{notice.notice_id}",
                action="alert.warning_undelivered",
                reason=(
                    f"the warning {notice.notice_id} to customer {message.customer_id} was not "
                    f"delivered after {notice.attempts} attempts ({notice.last_error}); no suspension "
                    "until it is: fix the customer's e-mail contacts or webhook"
                ),
                today=policy_today,
                now=now,
                correlation_id=message.correlation_id,
                customer_id=message.customer_id,
            )
    if undelivered_warning:
        # Never skipped: keep trying (the contacts may be fixed meanwhile), less often.
        _republish(deps, retry, f"{notice.notice_id}:{notice.attempts}", UNDELIVERED_WARNING_RETRY)
        return "retry scheduled"
    return "gave up"


def _republish(deps: CollectionsDeps, message: NoticeMessage, message_id: str, delay: timedelta) -> None:
    deps.notice_queue.publish(message, message_id=message_id, delay=delay)


def _move_named_date(
    deps: CollectionsDeps, notice: NoticeRecord, profile: StoredProfile, now: datetime
) -> None:
    """A warning going out late names a date at least min_notice_days from now (a working day)."""
    named = notice.content.suspension_date
    if named is None:
        return
    try:
        policy = deps.policy()
    except PolicyError:
        return  # the date it names stays; the scan stops anyway until the policy is fixed
    calendar = policy.calendar()
    notice_days = policy.rules_for(profile.segment).min_notice_days
    earliest = calendar.working_day_on_or_after(calendar.local_date(now) + timedelta(days=notice_days))
    if earliest > named:
        notice.suspension_date_moved_from = notice.suspension_date_moved_from or named
        notice.content = notice.content.model_copy(update={"suspension_date": earliest})


def _deliver(
    deps: CollectionsDeps,
    message: NoticeMessage,
    notice: NoticeRecord,
    profile: StoredProfile,
    rendered: RenderedNotice,
    now: datetime,
) -> str | None:
    """Every channel once; None when nothing is left to retry, else why it must be retried."""
    recipients = [c.email for c in profile.contacts if c.email] if notice.audience == "customer" else []
    if not notice.outbox_written:
        mail = OutboxMail(
            customer_id=message.customer_id,
            notice_id=notice.notice_id,
            audience=notice.audience,
            stage=notice.stage,
            locale=profile.locale.value,
            subject=rendered.subject,
            body_text=rendered.body_text,
            recipients=recipients,
            created_at=now,
        )
        deps.notice_outbox.upsert(mail, message.customer_id, notice.notice_id)
        notice.outbox_written = True
    if notice.audience != "customer":
        notice.delivered, notice.complete = True, True  # staff read the outbox table
        notice.delivered_at = notice.delivered_at or now
        return None
    problems = [
        p
        for p in (
            email_channel(deps, message, notice, recipients, rendered),
            webhook_channel(deps, message, notice, profile, rendered, now),
        )
        if p
    ]
    if (
        notice.email_status == MailStatus.ACCEPTED.value or notice.webhook_delivered
    ) and not notice.delivered:
        notice.delivered, notice.delivered_at = True, now
    nothing_left = all(p.startswith("skipped") for p in problems)
    notice.complete = notice.delivered and nothing_left
    if notice.complete:
        return None
    if not notice.delivered and nothing_left:
        return "no channel reaches this customer: " + "; ".join(problems)
    return "; ".join(p for p in problems if not p.startswith("skipped")) or None


def _summary(notice: NoticeRecord, error: str | None) -> str:
    channels = f"e-mail {notice.email_status or '-'}, webhook {notice.webhook_status or '-'}"
    if notice.delivered and error is None:
        return f"notice {notice.stage} delivered ({channels})"
    return f"notice {notice.stage}: {error} ({channels})"


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
        details={
            "notice_id": notice.notice_id,
            "attempt": notice.attempts,
            "email": notice.email_status,
            "email_reply": notice.email_reply,
            "webhook": notice.webhook_status,
            "webhook_reply": notice.webhook_reply,
        },
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


__all__ = ["SIGNATURE_HEADER", "OutboxMail", "backoff", "handle_notice", "sign"]
