"""The simulator's error answers: the documented body `{code, description, data, source}` and
the documented descriptions of the codes it answers with or lets a test inject
(developer/error-codes.md)."""

from __future__ import annotations

from typing import Any

# (HTTP status, description) by documented error code.
DOCUMENTED: dict[int, tuple[int, str]] = {
    1000: (404, "Not found"),
    2001: (
        400,
        "Subscription quantity can't be increased or decreased while subscription is being suspended",
    ),
    2006: (400, "Updates on subscriptions for offer {0} aren't allowed"),
    2011: (400, "Subscription with ID {0} and deleted status can't be updated."),
    2032: (403, "Access denied"),
    2055: (400, "Etag is no longer valid"),
    20002: (403, "The partner ID {0} has no commerce relationship with the customer ID {1}."),
    20003: (404, "Subscription with ID {0} not found."),
    27009: (409, "can't enable a child subscription, when the parent subscription isn't Active"),
    60003: (404, "Tenant not found"),
    800001: (401, "Partner Token missing in request context"),
    800002: (400, "Invalid request input"),
    800003: (500, "Unexpected service error"),
    800081: (400, "Can't update a subscription before activating it"),
    800082: (409, "Subscription is not ready to be updated. Try again after sometime"),
    800091: (400, "Can't update a subscription with suspended status"),
    800094: (500, "Update subscription isn't successful"),
    800096: (400, "Can't update the status for this subscription"),
    900115: (
        403,
        "Azure plan can't be moved to suspended state since you have one or more Azure Subscriptions "
        "in the active state",
    ),
    900126: (400, "Unable to parse enum: {0}"),
    900277: (
        400,
        "Your subscription is in the process of being expired. No further updates are allowed on this "
        "subscription.",
    ),
    900278: (409, "There is a pending operation on this subscription. Please try again after 24 hours."),
    900279: (400, "Update operations are no longer allowed for this subscription."),
    900280: (400, "Update operations are currently not allowed for this subscription."),
    900308: (403, "Insufficient privileges to complete the operation."),
    900309: (
        403,
        "Access has been blocked by Conditional Access policies. The access policy does not allow "
        "token issuance.",
    ),
    900311: (
        400,
        "This subscription has been updated too many times. Please contact partner support if you need "
        "to make more updates on this subscription.",
    ),
}
# The renewal window: a 409 the documents give no code for (resubmit after about two minutes).
RENEWAL_WINDOW_CODE = 409
RENEWAL_WINDOW_DESCRIPTION = (
    "The subscription is being renewed. Resubmit the request after about two minutes."
)


class SimError(Exception):
    """A Partner Center error response: HTTP status, error code and description."""

    def __init__(self, status: int, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"code": str(self.code), "description": self.description, "data": [], "source": "PartnerFD"}


def refusal(code: int, status: int | None = None) -> tuple[int, int, str]:
    """(status, code, description) of a documented code, for `SimError(*refusal(...))`."""
    if status is not None and code not in DOCUMENTED:
        return status, code, describe(status, code)
    documented_status, description = DOCUMENTED.get(code, (status or 400, f"Error {code}"))
    return status or documented_status, code, description


def describe(status: int, code: int) -> str:
    """The documented description of `code`, or a plain one for a status without a code."""
    if code == RENEWAL_WINDOW_CODE and status == 409:
        return RENEWAL_WINDOW_DESCRIPTION
    if code in DOCUMENTED:
        return DOCUMENTED[code][1]
    return f"Injected failure {status}"
