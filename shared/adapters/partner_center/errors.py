"""Typed Partner Center errors: one exception type per kind of what the caller must do.

The kind comes from one classification of the documented error codes (`error_table.py`):
a permanent refusal, a stale etag, "try later" (with its own delay and budget), throttling, our
token refused, not found, transient, or a code this app does not recognise. Transient failures
were already retried inside the call; throttling and "try later" are handed back so the caller
can reschedule (never retried in the call, per Microsoft's throttling guidance).
"""

from __future__ import annotations

from shared.adapters.partner_center.error_table import ErrorClass, ErrorKind, classify, default_for


class PartnerCenterError(RuntimeError):
    """A Partner Center call failed; `status` is the HTTP status (0 without a response)."""

    kind: ErrorKind = ErrorKind.UNRECOGNISED

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        error_code: int | str | None = None,
        request_id: str | None = None,
        description: str = "",
        classification: ErrorClass | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.request_id = request_id
        self.description = description
        if classification is None:
            classification = classify(status, error_code)
            if classification.kind is not self.kind and type(self) is not PartnerCenterError:
                classification = default_for(self.kind)  # e.g. a local pace limit: no HTTP answer
        self.classification = classification

    def describe(self) -> dict[str, object]:
        """A small, audit-safe description (no payloads). Its keys never collide with the
        attributes of a `logging.LogRecord`; log it through `shared.telemetry.log_fields`."""
        return {
            "error": type(self).__name__,
            "error_kind": self.classification.kind.value,
            "http_status": self.status,
            "error_code": self.error_code,
            "error_description": (self.description or str(self))[:300],
        }


class Refused(PartnerCenterError):
    """Partner Center refused this change of this subscription for good (e.g. 403/900115)."""

    kind = ErrorKind.REFUSED


class TryLater(PartnerCenterError):
    """Not now: the renewal window, a pending operation (409/900278), ... Wait
    `classification.delay_seconds`; give up after `classification.budget_seconds` in all."""

    kind = ErrorKind.TRY_LATER


class Throttled(PartnerCenterError):
    """429: wait at least `retry_after_seconds` (None when the header was missing)."""

    kind = ErrorKind.THROTTLED

    def __init__(self, message: str, *, retry_after_seconds: float | None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after_seconds = retry_after_seconds

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "retry_after_seconds": self.retry_after_seconds}


class EtagNoLongerValid(PartnerCenterError):
    """400/2055 or 412: the resource changed since it was read; re-read and retry."""

    kind = ErrorKind.STALE_ETAG


class PartnerCenterNotFound(PartnerCenterError):
    """404 (20003, 1000, 60003) or 403/20002: no such customer or subscription for this partner."""

    kind = ErrorKind.NOT_FOUND


class Unauthorised(PartnerCenterError):
    """Our token was refused (401; 403 about the token or the app, e.g. conditional access)."""

    kind = ErrorKind.TOKEN_REFUSED


class Transient(PartnerCenterError):
    """5xx, 408, connection resets or timeouts that persisted through the in-call retries."""

    kind = ErrorKind.TRANSIENT


class Unrecognised(PartnerCenterError):
    """A status and code this app does not know: nothing is repeated blindly; alert with it."""

    kind = ErrorKind.UNRECOGNISED


ERROR_TYPES: dict[ErrorKind, type[PartnerCenterError]] = {
    cls.kind: cls
    for cls in (
        Refused,
        TryLater,
        Throttled,
        EtagNoLongerValid,
        PartnerCenterNotFound,
        Unauthorised,
        Transient,
        Unrecognised,
    )
}


def is_request_refused(exc: PartnerCenterError) -> bool:
    """Partner Center refused the request itself (a 4xx other than a token or throttling
    answer): asking again the same way will not help."""
    if isinstance(exc, (Throttled, Unauthorised)):
        return False
    return 400 <= exc.status < 500
