"""Partner Center REST client (21Vianet and global clouds)."""

from shared.adapters.partner_center.client import PartnerCenterClient, client_for
from shared.adapters.partner_center.error_table import ErrorClass, ErrorKind, classify
from shared.adapters.partner_center.errors import (
    EtagNoLongerValid,
    PartnerCenterError,
    PartnerCenterNotFound,
    Refused,
    Throttled,
    Transient,
    TryLater,
    Unauthorised,
    Unrecognised,
)
from shared.adapters.partner_center.models import Customer, Subscription, SubscriptionStatus

__all__ = [
    "Customer",
    "ErrorClass",
    "ErrorKind",
    "EtagNoLongerValid",
    "PartnerCenterClient",
    "PartnerCenterError",
    "PartnerCenterNotFound",
    "Refused",
    "Subscription",
    "SubscriptionStatus",
    "Throttled",
    "Transient",
    "TryLater",
    "Unauthorised",
    "Unrecognised",
    "classify",
    "client_for",
]
