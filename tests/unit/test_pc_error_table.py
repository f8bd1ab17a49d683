"""The one classification of Partner Center errors, row by row against Microsoft's documented
error-code table (developer/error-codes.md) and the suspend/reactivate and throttling pages.

The expectations here are written out on their own (not read from the table under test), so a
row changed or lost in `error_table.py` fails here."""

from __future__ import annotations

import pytest

from shared.adapters.partner_center.error_table import HOUR, MINUTE, ErrorKind, classify
from shared.adapters.partner_center.errors import ERROR_TYPES
from shared.adapters.partner_center.http import error_for

K = ErrorKind

# (HTTP status, error code as the service may send it, expected kind, what it documents)
DOCUMENTED_ROWS = [
    (403, 900115, K.REFUSED, "Azure plan with active Azure subscriptions can't be suspended"),
    (400, 800096, K.REFUSED, "can't update the status for this subscription"),
    (400, 900277, K.REFUSED, "being expired: no further updates"),
    (400, 900279, K.REFUSED, "update operations no longer allowed"),
    (400, 900311, K.REFUSED, "updated too many times"),
    (400, 2011, K.REFUSED, "a deleted subscription can't be updated"),
    (400, 800091, K.REFUSED, "can't update a subscription with suspended status"),
    (400, 800081, K.REFUSED, "can't update before activating it"),
    (400, 2006, K.REFUSED, "updates for this offer aren't allowed"),
    (409, 27009, K.REFUSED, "child can't be enabled while the parent isn't active: not a timing problem"),
    (400, 2055, K.STALE_ETAG, "etag no longer valid"),
    (412, None, K.STALE_ETAG, "precondition failed"),
    (412, 2055, K.STALE_ETAG, "precondition failed with the etag code"),
    (409, None, K.TRY_LATER, "the renewal window (no documented code)"),
    (409, 409, K.TRY_LATER, "the renewal window, status repeated as the code"),
    (409, 900278, K.TRY_LATER, "pending operation: try again after 24 hours"),
    (409, 800082, K.TRY_LATER, "not ready to be updated: try again after some time"),
    (400, 900280, K.TRY_LATER, "update operations currently not allowed"),
    (400, 2001, K.TRY_LATER, "quantity change while being suspended"),
    (429, None, K.THROTTLED, "rate limit exceeded"),
    (429, 429, K.THROTTLED, "rate limit exceeded"),
    (401, None, K.TOKEN_REFUSED, "unauthorised"),
    (401, 800001, K.TOKEN_REFUSED, "partner token missing (not a missing subscription)"),
    (401, 400, K.TOKEN_REFUSED, "access denied"),
    (401, 123, K.TOKEN_REFUSED, "any 401"),
    (403, 900309, K.TOKEN_REFUSED, "conditional access blocked the token"),
    (403, 900308, K.TOKEN_REFUSED, "insufficient privileges"),
    (403, 900329, K.TOKEN_REFUSED, "app-only authentication not supported"),
    (403, 2032, K.TOKEN_REFUSED, "access denied"),
    (403, None, K.TOKEN_REFUSED, "forbidden without a code"),
    (404, 20003, K.NOT_FOUND, "subscription not found"),
    (404, 1000, K.NOT_FOUND, "not found"),
    (404, 60003, K.NOT_FOUND, "tenant not found"),
    (404, None, K.NOT_FOUND, "not found without a code"),
    (403, 20002, K.NOT_FOUND, "no commerce relationship with the customer"),
    (500, 800003, K.TRANSIENT, "unexpected service error"),
    (500, 800094, K.TRANSIENT, "update subscription isn't successful"),
    (500, 900192, K.TRANSIENT, "something went wrong"),
    (500, None, K.TRANSIENT, "server error"),
    (502, None, K.TRANSIENT, "bad gateway"),
    (503, None, K.TRANSIENT, "service unavailable"),
    (504, None, K.TRANSIENT, "gateway timeout"),
    (408, None, K.TRANSIENT, "request timeout"),
    (0, None, K.TRANSIENT, "no answer at all (reset, timeout)"),
    (400, None, K.UNRECOGNISED, "a bad request without a code"),
    (400, 999999, K.UNRECOGNISED, "a code not in the table"),
    (403, 999999, K.UNRECOGNISED, "a forbidden code not in the table"),
    (404, 999999, K.UNRECOGNISED, "a not-found code not in the table"),
    (409, 999999, K.UNRECOGNISED, "a conflict code not in the table: not taken for the renewal window"),
    (501, 0, K.UNRECOGNISED, "not implemented"),
    (405, None, K.UNRECOGNISED, "method not allowed"),
]


@pytest.mark.parametrize(("status", "code", "kind", "meaning"), DOCUMENTED_ROWS, ids=lambda v: str(v))
def test_each_documented_row_is_classified(
    status: int, code: int | None, kind: ErrorKind, meaning: str
) -> None:
    assert classify(status, code).kind is kind, meaning


@pytest.mark.parametrize(("status", "code", "kind", "meaning"), DOCUMENTED_ROWS, ids=lambda v: str(v))
def test_the_code_as_a_string_is_the_same_row(
    status: int, code: int | None, kind: ErrorKind, meaning: str
) -> None:
    assert classify(status, None if code is None else str(code)).kind is kind, meaning


ANSWERED_ROWS = [row for row in DOCUMENTED_ROWS if row[0] != 0]  # status 0: raised by the transport


@pytest.mark.parametrize(("status", "code", "kind", "meaning"), ANSWERED_ROWS, ids=lambda v: str(v))
def test_the_error_of_a_response_has_the_type_of_its_kind(
    status: int, code: int | None, kind: ErrorKind, meaning: str
) -> None:
    body = (
        {} if code is None else {"code": str(code), "description": meaning, "data": [], "source": "PartnerFD"}
    )
    error = error_for(status, {"retry-after": "7"}, body, "rid")
    assert type(error) is ERROR_TYPES[kind] and error.classification.kind is kind
    assert error.description == (meaning if code is not None else "")


def test_each_try_later_row_has_its_own_delay_and_budget() -> None:
    renewal = classify(409, None)
    assert (
        renewal.renewal_window and renewal.delay_seconds == 2 * MINUTE and renewal.budget_seconds == 24 * HOUR
    )
    pending = classify(409, 900278)
    assert (
        pending.delay_seconds == 24 * HOUR and pending.budget_seconds and pending.budget_seconds > 24 * HOUR
    )
    assert not pending.renewal_window
    assert classify(409, 800082).delay_seconds == 2 * MINUTE
    assert classify(400, 900280).delay_seconds == 1 * HOUR
    assert classify(400, 2001).budget_seconds == 1 * HOUR


def test_an_unrecognised_code_is_named_in_its_meaning() -> None:
    unknown = classify(400, 777777)
    assert unknown.kind is K.UNRECOGNISED and "777777" in unknown.meaning and "400" in unknown.meaning
