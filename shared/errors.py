"""Why a use case refuses: typed refusals with a reason, raised by `shared/` and answered by
`functions/` (which alone choose the HTTP status, in `functions/http_support.py`). No HTTP here.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A refusal the caller can act on: a reason (`detail`) and, for bad fields, their paths.

    `localized`: the reason for people, in zh-CN and en (refusals staff read: sign-in, roles,
    four-eyes); `members`: more facts for the caller (`required_role`, `change_id`, ...).
    """

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        localized: dict[str, str] | None = None,
        members: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.localized = localized
        self.members = members


class BadRequest(AppError):
    """The request cannot be read (malformed JSON, an unknown query parameter, a bad header)."""


class ValidationFailed(AppError):
    """The request was read but its content is not acceptable (a field out of range, ...)."""


class Unauthorized(AppError):
    """The caller did not prove who it is (a missing or wrong signature)."""


class Forbidden(AppError):
    """The caller is known but may not do this: a role it does not hold, or a change it may
    not approve (its own)."""


class NotFound(AppError):
    """What the request names does not exist."""


class Conflict(AppError):
    """The request contradicts what is stored (same id, other content; a case already closed)."""


class Contended(AppError):
    """Others kept changing the same records while this request was applied: nothing was
    written, and the same request may simply be sent again after `retry_after_seconds`."""

    def __init__(self, detail: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class PayloadTooLarge(AppError):
    """The request body is larger than the limit."""


class UnsupportedMediaType(AppError):
    """The request body is not in a format this operation reads."""


class ServiceUnavailable(AppError):
    """The app cannot decide right now (an invalid policy or triage file, a store that does
    not answer); nothing was written."""
