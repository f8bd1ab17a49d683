"""Errors a use case raises for bad input or state; the HTTP layer turns them into
`application/problem+json` (RFC 9457). No azure.functions here."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A failure the caller can act on: carries an HTTP status and a reason."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class BadRequest(AppError):
    pass


class ValidationFailed(AppError):
    status = 422
    title = "Validation failed"
    slug = "validation-failed"


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class NotFound(AppError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(AppError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class UnsupportedMediaType(AppError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service unavailable"
    slug = "service-unavailable"
