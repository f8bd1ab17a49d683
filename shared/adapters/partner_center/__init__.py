"""Partner Center REST client (21Vianet and global clouds)."""

from shared.adapters.partner_center.client import PartnerCenterClient, client_for
from shared.adapters.partner_center.errors import (
    EtagNoLongerValid,
    NotFound,
    PartnerCenterError,
    RenewalWindowConflict,
    Throttled,
    Transient,
    Unauthorised,
)
from shared.adapters.partner_center.models import Customer, Subscription, SubscriptionStatus

__all__ = [
    "Customer",
    "EtagNoLongerValid",
    "NotFound",
    "PartnerCenterClient",
    "PartnerCenterError",
    "RenewalWindowConflict",
    "Subscription",
    "SubscriptionStatus",
    "Throttled",
    "Transient",
    "Unauthorised",
    "client_for",
]
