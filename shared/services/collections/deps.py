"""What the collections use cases work with, passed in as one object (wired in `shared/wiring.py`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.adapters.changes import ChangeStore
from shared.adapters.customers import CustomerRepository
from shared.adapters.mail import SmtpRelay
from shared.adapters.queues import Publisher
from shared.adapters.schedule import ScheduleIndex
from shared.adapters.tables import Table
from shared.clock import PROCESS_CLOCK, Clock
from shared.domain.policy import Policy, PolicyError
from shared.errors import ServiceUnavailable
from shared.settings import AppSettings, EnforcementMode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectionsDeps:
    """Storage, queues, the policy and the clock of the collections area."""

    customers: CustomerRepository
    schedule: ScheduleIndex
    reconcile_queue: Publisher
    notice_queue: Publisher
    notice_outbox: Table  # the table an e-mail system reads notices from
    settings: AppSettings
    policy_source: Callable[[], Policy]  # the policy file, validated (PolicyError otherwise)
    changes: ChangeStore  # four-eyes: changes waiting for a second person
    clock: Clock = field(default=PROCESS_CLOCK)
    mail_relay: SmtpRelay | None = None  # the partner's SMTP relay (None: no e-mail notices)

    @property
    def dry_run(self) -> bool:
        return self.settings.enforcement_mode is EnforcementMode.DRY_RUN

    def policy(self) -> Policy:
        """The collections policy; PolicyError when the file is invalid."""
        return self.policy_source()

    def policy_for_request(self) -> Policy:
        """The policy for a request: an invalid file refuses it (ServiceUnavailable, with why)."""
        try:
            return self.policy_source()
        except PolicyError as exc:
            log.error("collections policy invalid", extra={"error": str(exc)})
            raise ServiceUnavailable(
                f"the collections policy is invalid, so no decision can be made: {exc}"
            ) from None
