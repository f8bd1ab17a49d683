"""E-mail through the partner's SMTP relay (stdlib `smtplib`), with the server's own answer.

`SmtpRelay.send(message, recipients)` opens one connection, secures it (STARTTLS, or TLS from
the start on port 465), logs in when a user is set, and sends MAIL / RCPT / DATA itself, so the
result carries the server's reply to DATA (for example `250 2.0.0 Ok: queued as 4Jk9`), or why
it was not taken:
- `accepted`: the server took the message for at least one recipient (the others are named);
- `deferred`: a temporary failure (4xx, no connection, a timeout): worth trying again;
- `refused`: a permanent failure (5xx, every recipient refused, authentication refused).
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from shared.settings import SmtpSecurity


class MailStatus(StrEnum):
    ACCEPTED = "accepted"
    DEFERRED = "deferred"
    REFUSED = "refused"


@dataclass(frozen=True)
class MailResult:
    status: MailStatus
    reply: str  # the server's words (or the connection error), for the notice row and the audit


@dataclass(frozen=True)
class SmtpRelay:
    """One SMTP relay: where it is, how to secure the connection, who we are."""

    host: str
    port: int
    security: SmtpSecurity
    sender: str
    user: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0

    def send(self, message: EmailMessage, recipients: list[str]) -> MailResult:
        """Send `message` to `recipients`; never raises for what the server or network says."""
        try:
            with self._connect() as smtp:
                return self._transaction(smtp, message, recipients)
        except smtplib.SMTPAuthenticationError as exc:
            return MailResult(
                MailStatus.REFUSED, f"authentication refused: {_reply(exc.smtp_code, exc.smtp_error)}"
            )
        except smtplib.SMTPResponseException as exc:
            return MailResult(_status_of(exc.smtp_code), _reply(exc.smtp_code, exc.smtp_error))
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            return MailResult(MailStatus.DEFERRED, f"{type(exc).__name__}: {exc}"[:500])

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security is SmtpSecurity.TLS:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)
        try:
            smtp.ehlo()
            if self.security is SmtpSecurity.STARTTLS:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _transaction(self, smtp: smtplib.SMTP, message: EmailMessage, recipients: list[str]) -> MailResult:
        code, text = smtp.mail(self.sender)
        if code >= 300:
            smtp.rset()
            return MailResult(_status_of(code), _reply(code, text))
        refused: dict[str, str] = {}
        for recipient in recipients:
            code, text = smtp.rcpt(recipient)
            if code >= 300:
                refused[recipient] = _reply(code, text)
        if len(refused) == len(recipients):
            smtp.rset()
            temporary = all(r.startswith("4") for r in refused.values())
            status = MailStatus.DEFERRED if temporary else MailStatus.REFUSED
            return MailResult(status, "; ".join(f"{r}: {why}" for r, why in refused.items()))
        code, text = smtp.data(message.as_bytes(policy=email.policy.SMTP))
        reply = _reply(code, text)
        if refused:
            reply += " (refused: " + "; ".join(f"{r}: {why}" for r, why in refused.items()) + ")"
        return MailResult(MailStatus.ACCEPTED if code < 300 else _status_of(code), reply[:1000])


def _status_of(code: int) -> MailStatus:
    return MailStatus.DEFERRED if 400 <= code < 500 or code < 200 else MailStatus.REFUSED


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"[:500]


def compose(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    language: str,
    message_id: str,
) -> EmailMessage:
    """A multipart/alternative message: the plain text first, then the same text as HTML."""
    from email.utils import formatdate

    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    # base64: any script, and no line over SMTP's 998-character limit.
    message.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    message["Content-Language"] = language  # after the content: setting it clears Content-*
    return message
