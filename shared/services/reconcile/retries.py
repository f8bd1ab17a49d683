"""When and how a reconcile run tries again: the delays for throttling, renewal-window
conflicts, transient failures and a busy customer, and the message that carries the retry.

A run that cannot finish does not raise (that would redeliver at once and burn the delivery
count): it publishes a new, delayed message for the same customer and completes its own.
"""

from __future__ import annotations

import math
from datetime import timedelta

from shared.adapters.lease import LeaseTaken
from shared.adapters.partner_center import PartnerCenterError, Throttled
from shared.domain.messages import ReconcileRequest, derived_message_id
from shared.services.reconcile.common import ReconcileDeps

MAX_BACKOFF_SECONDS = 900


def backoff_seconds(deps: ReconcileDeps, attempt: int) -> float:
    """Exponential back-off from RECONCILE_RETRY_BASE_SECONDS, at most 15 minutes."""
    base = deps.settings.reconcile_retry_base_seconds
    return float(min(MAX_BACKOFF_SECONDS, base * 2 ** min(attempt, 10)))


def delay_after(deps: ReconcileDeps, error: PartnerCenterError, attempt: int) -> float:
    """How long to wait after `error`: at least Retry-After when throttled (without one, the
    conflict delay), the row's own delay for "try later", else the back-off."""
    conflict_delay = float(deps.settings.reconcile_conflict_delay_seconds)
    if isinstance(error, Throttled):
        return error.retry_after_seconds if error.retry_after_seconds is not None else conflict_delay
    if error.classification.delay_seconds is not None:
        return try_later_delay(deps, error)
    return backoff_seconds(deps, attempt)


def try_later_delay(deps: ReconcileDeps, error: PartnerCenterError) -> float:
    """The delay of a "try later" answer: its documented row's (the renewal window's is the
    setting RECONCILE_CONFLICT_DELAY_SECONDS, about two minutes)."""
    classification = error.classification
    if classification.renewal_window or classification.delay_seconds is None:
        return float(deps.settings.reconcile_conflict_delay_seconds)
    return float(classification.delay_seconds)


def busy_delay(deps: ReconcileDeps, lease: LeaseTaken) -> float:
    """Another executor holds the customer: look again once it is likely done."""
    remaining = (lease.expires_at - deps.clock.now()).total_seconds()
    return max(1.0, min(remaining, 2 * deps.settings.reconcile_retry_base_seconds + 1))


def publish_retry(
    deps: ReconcileDeps, request: ReconcileRequest, *, attempt: int, delay: float, reason: str, tag: str = ""
) -> None:
    """The same customer again after `delay` seconds, as attempt `attempt`."""
    message = ReconcileRequest(
        customer_id=request.customer_id,
        reason=reason,
        correlation_id=request.correlation_id,
        requested_at=deps.clock.now(),
        attempt=attempt,
    )
    message_id = derived_message_id(request.customer_id, request.correlation_id, str(attempt), tag)
    seconds = math.ceil(delay)
    deps.publisher.publish(
        message, message_id=message_id, delay=timedelta(seconds=seconds) if seconds > 0 else None
    )
