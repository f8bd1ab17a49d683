"""Partner Center REST client (21Vianet and global clouds)."""

from shared.adapters.partner_center.client import PartnerCenterClient, client_for
from shared.adapters.partner_center.errors import (
    EtagNoLongerValid,
    PartnerCenterError,
    PartnerCenterNotFound,
    RenewalWindowConflict,
    Throttled,
    Transient,
    Unauthorised,
)
from shared.adapters.partner_center.models import Customer, Subscription, SubscriptionStatus

__all__ = [
    "Customer",
    "EtagNoLongerValid",
    "PartnerCenterClient",
    "PartnerCenterError",
    "PartnerCenterNotFound",
    "RenewalWindowConflict",
    "Subscription",
    "SubscriptionStatus",
    "Throttled",
    "Transient",
    "Unauthorised",
    "client_for",
]
