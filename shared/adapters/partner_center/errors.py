"""Typed Partner Center errors: what the caller must do differs by kind.

Transient failures were already retried inside the call; throttling and renewal-window conflicts
are handed back so the caller can reschedule (never retried in the call, per Microsoft's
throttling guidance); the rest are permanent for this request.
"""

from __future__ import annotations


class PartnerCenterError(RuntimeError):
    """A Partner Center call failed; `status` is the HTTP status (0 without a response)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        error_code: int | str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.request_id = request_id

    def describe(self) -> dict[str, object]:
        """A small, log- and audit-safe description (no payloads)."""
        return {
            "error": type(self).__name__,
            "status": self.status,
            "error_code": self.error_code,
            "message": str(self)[:300],
        }


class Throttled(PartnerCenterError):
    """429: wait at least `retry_after_seconds` (None when the header was missing)."""

    def __init__(self, message: str, *, retry_after_seconds: float | None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after_seconds = retry_after_seconds

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "retry_after_seconds": self.retry_after_seconds}


class RenewalWindowConflict(PartnerCenterError):
    """409: the subscription is in its renewal window; retry after about two minutes."""


class EtagNoLongerValid(PartnerCenterError):
    """412 or error code 2055: the resource changed since it was read; re-read and retry."""


class PartnerCenterNotFound(PartnerCenterError):
    """404: no such customer or subscription (for this partner)."""


class Unauthorised(PartnerCenterError):
    """401/403: the token was refused or the app lacks the permission."""


class Transient(PartnerCenterError):
    """5xx, connection resets or timeouts that persisted through the in-call retries."""
