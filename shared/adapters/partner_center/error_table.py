"""The one classification of Partner Center errors, from Microsoft's documented error-code table
(developer/error-codes.md; suspend/reactivate and throttling pages; see
../shared/design/partner-center.md, "Checked against Microsoft's own sources").

Every failed call is classified here and nowhere else; the executor acts on the class:
- `refused`: Partner Center will not make this change to this subscription (record it, alert
  once, never retry it for the same holds; the other subscriptions carry on);
- `stale_etag`: re-read and retry;
- `try_later`: not now; each row has its own delay and budget (the renewal window: about every
  two minutes for up to 24 hours; 409/900278: after 24 hours);
- `throttled`: 429, wait Retry-After;
- `token_refused`: our token or app is refused (401; 403 about the token, e.g. conditional access);
- `not_found`: no such subscription or customer (404/20003, 404/1000, ...);
- `transient`: 5xx, 408, resets and timeouts;
- `unrecognised`: anything else. It falls to the safe side: no action is repeated blindly, and
  an alert names the status and the code.

`code` may arrive as a number or a string; the body is `{code, description, data, source}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MINUTE = 60.0
HOUR = 3600.0


class ErrorKind(StrEnum):
    REFUSED = "refused"
    STALE_ETAG = "stale_etag"
    TRY_LATER = "try_later"
    THROTTLED = "throttled"
    TOKEN_REFUSED = "token_refused"  # noqa: S105 (a kind of error, not a secret)
    NOT_FOUND = "not_found"
    TRANSIENT = "transient"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True)
class ErrorClass:
    """What a failed call means and what to do: for `try_later`, wait `delay_seconds` between
    tries and stop after `budget_seconds` since the first (then it counts as refused)."""

    kind: ErrorKind
    meaning: str
    delay_seconds: float | None = None
    budget_seconds: float | None = None
    renewal_window: bool = False  # the delay is RECONCILE_CONFLICT_DELAY_SECONDS (a setting)


def _try_later(meaning: str, delay: float, budget: float, *, renewal: bool = False) -> ErrorClass:
    return ErrorClass(ErrorKind.TRY_LATER, meaning, delay, budget, renewal)


RENEWAL_WINDOW = _try_later(
    "conflict: the subscription is in its renewal window; resubmit after about two minutes "
    "(a renewal can take up to 24 hours)",
    2 * MINUTE,
    24 * HOUR,
    renewal=True,
)

# (HTTP status, error code) -> class, as documented.
DOCUMENTED: dict[tuple[int, int], ErrorClass] = {
    # permanent refusals of a status change
    (403, 900115): ErrorClass(
        ErrorKind.REFUSED, "an Azure plan can't be suspended while it has active Azure subscriptions"
    ),
    (400, 800096): ErrorClass(ErrorKind.REFUSED, "can't update the status for this subscription"),
    (400, 900277): ErrorClass(
        ErrorKind.REFUSED, "the subscription is being expired; no further updates are allowed"
    ),
    (400, 900279): ErrorClass(ErrorKind.REFUSED, "update operations are no longer allowed"),
    (400, 900311): ErrorClass(ErrorKind.REFUSED, "the subscription has been updated too many times"),
    (400, 2011): ErrorClass(ErrorKind.REFUSED, "a deleted subscription can't be updated"),
    (400, 800091): ErrorClass(ErrorKind.REFUSED, "can't update a subscription with suspended status"),
    (400, 800081): ErrorClass(ErrorKind.REFUSED, "can't update a subscription before activating it"),
    (400, 2006): ErrorClass(ErrorKind.REFUSED, "updates on subscriptions for this offer aren't allowed"),
    (409, 27009): ErrorClass(
        ErrorKind.REFUSED, "can't enable a child subscription when the parent subscription isn't active"
    ),
    # stale etag
    (400, 2055): ErrorClass(ErrorKind.STALE_ETAG, "the etag is no longer valid"),
    # try later
    (409, 900278): _try_later("a pending operation: try again after 24 hours", 24 * HOUR, 72 * HOUR),
    (409, 800082): _try_later("the subscription is not ready to be updated", 2 * MINUTE, 24 * HOUR),
    (400, 900280): _try_later("update operations are currently not allowed", 1 * HOUR, 72 * HOUR),
    (400, 2001): _try_later(
        "a quantity change while the subscription is being suspended", 2 * MINUTE, 1 * HOUR
    ),
    # our token or app refused
    (401, 800001): ErrorClass(ErrorKind.TOKEN_REFUSED, "the partner token is missing"),
    (401, 400): ErrorClass(ErrorKind.TOKEN_REFUSED, "access denied"),
    (403, 900309): ErrorClass(
        ErrorKind.TOKEN_REFUSED, "access blocked by a conditional access policy (no token issued)"
    ),
    (403, 900308): ErrorClass(ErrorKind.TOKEN_REFUSED, "insufficient privileges"),
    (403, 900329): ErrorClass(ErrorKind.TOKEN_REFUSED, "app-only authentication is not supported here"),
    (403, 900150): ErrorClass(ErrorKind.TOKEN_REFUSED, "the role has no right to this operation"),
    (403, 2032): ErrorClass(ErrorKind.TOKEN_REFUSED, "access denied"),
    # not found
    (404, 20003): ErrorClass(ErrorKind.NOT_FOUND, "subscription not found"),
    (404, 1000): ErrorClass(ErrorKind.NOT_FOUND, "not found"),
    (404, 60003): ErrorClass(ErrorKind.NOT_FOUND, "tenant not found"),
    (403, 20002): ErrorClass(
        ErrorKind.NOT_FOUND, "the partner has no commerce relationship with the customer"
    ),
    # documented server errors
    (500, 800003): ErrorClass(ErrorKind.TRANSIENT, "unexpected service error"),
    (500, 800094): ErrorClass(ErrorKind.TRANSIENT, "update subscription isn't successful"),
    (500, 900192): ErrorClass(ErrorKind.TRANSIENT, "something went wrong; try again after some time"),
}

# Without an error code (or with the HTTP status repeated as the code), the status decides.
BY_STATUS: dict[int, ErrorClass] = {
    401: ErrorClass(ErrorKind.TOKEN_REFUSED, "unauthorised"),
    403: ErrorClass(ErrorKind.TOKEN_REFUSED, "forbidden"),
    404: ErrorClass(ErrorKind.NOT_FOUND, "not found"),
    409: RENEWAL_WINDOW,
    412: ErrorClass(ErrorKind.STALE_ETAG, "precondition failed: the etag is no longer valid"),
}
THROTTLED = ErrorClass(ErrorKind.THROTTLED, "rate limit exceeded: wait Retry-After")
TRANSIENT = ErrorClass(ErrorKind.TRANSIENT, "server error, timeout or no answer")


def normalise_code(code: object) -> int | str | None:
    """The error code as a number when it is one (it arrives as a number or a string)."""
    if code is None or isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    text = str(code).strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def classify(status: int, code: object = None) -> ErrorClass:
    """The class of a failed call: HTTP `status` (0 without a response) and the error `code`."""
    number = normalise_code(code)
    if status == 0 or status == 408 or (status >= 500 and status not in (501, 505)):
        return DOCUMENTED.get((status, number), TRANSIENT) if isinstance(number, int) else TRANSIENT
    if status == 429:
        return THROTTLED
    if status == 401:
        return DOCUMENTED.get((status, number), BY_STATUS[401]) if isinstance(number, int) else BY_STATUS[401]
    if status == 412:
        return BY_STATUS[412]
    if isinstance(number, int) and (status, number) in DOCUMENTED:
        return DOCUMENTED[(status, number)]
    if number is None or number == status:
        found = BY_STATUS.get(status)
        if found is not None:
            return found
    return ErrorClass(
        ErrorKind.UNRECOGNISED, f"status {status} with code {number!r} is not in the documented table"
    )


def default_for(kind: ErrorKind) -> ErrorClass:
    """The class of an error raised without an HTTP answer to classify (a local pace limit, a
    token that could not be had, ...)."""
    return {
        ErrorKind.THROTTLED: THROTTLED,
        ErrorKind.TRANSIENT: TRANSIENT,
        ErrorKind.TRY_LATER: RENEWAL_WINDOW,
        ErrorKind.TOKEN_REFUSED: BY_STATUS[401],
        ErrorKind.NOT_FOUND: BY_STATUS[404],
        ErrorKind.STALE_ETAG: BY_STATUS[412],
    }.get(kind, ErrorClass(kind, kind.value.replace("_", " ")))
