"""What the fraud use cases work with, passed in as one object (wired in `shared/wiring.py`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from shared.adapters.audit import AuditLog
from shared.adapters.cases import CaseStore
from shared.adapters.idempotency import IdempotencyStore
from shared.adapters.layout import CASES_TABLE, CUSTOMERS_TABLE, IDEMPOTENCY_TABLE
from shared.adapters.lists import ListIndex
from shared.adapters.policy_files import PolicyFiles
from shared.adapters.queues import Publisher
from shared.adapters.tables import Table, TableStore
from shared.clock import PROCESS_CLOCK, Clock
from shared.domain.fraud import MergeLimits
from shared.domain.policy import Policy
from shared.domain.triage import TriageConfig, TriageConfigError
from shared.errors import ServiceUnavailable
from shared.settings import AppSettings, EnforcementMode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FraudDeps:
    """The customers table (holds and audit), the case and idempotency stores, the reconcile
    queue, the rule files, the settings and the clock."""

    customers: Table
    cases: CaseStore
    idempotency: IdempotencyStore
    reconcile_queue: Publisher
    policies: PolicyFiles
    settings: AppSettings
    lists: ListIndex | None = None  # the staff lists' indexes (holds): written around each hold change
    clock: Clock = field(default=PROCESS_CLOCK)

    @classmethod
    def of(
        cls,
        store: TableStore,
        *,
        reconcile_queue: Publisher,
        policies: PolicyFiles,
        settings: AppSettings,
        clock: Clock = PROCESS_CLOCK,
    ) -> FraudDeps:
        return cls(
            customers=store.table(CUSTOMERS_TABLE),
            cases=CaseStore(store.table(CASES_TABLE)),
            idempotency=IdempotencyStore(store.table(IDEMPOTENCY_TABLE)),
            reconcile_queue=reconcile_queue,
            policies=policies,
            settings=settings,
            lists=ListIndex.of(store),
            clock=clock,
        )

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.customers)

    @property
    def dry_run(self) -> bool:
        return self.settings.enforcement_mode is EnforcementMode.DRY_RUN

    def limits(self) -> MergeLimits:
        return MergeLimits(
            escalate_after_reports=self.settings.fraud_escalate_after_reports,
            escalate_window=timedelta(hours=self.settings.fraud_escalate_window_hours),
        )

    def triage(self) -> TriageConfig:
        """The triage rules; an invalid file refuses the request (ServiceUnavailable)."""
        try:
            return self.policies.triage()
        except TriageConfigError as exc:
            log.error("triage file invalid", extra={"error": str(exc)})
            raise ServiceUnavailable(f"the triage rules are invalid: {exc}") from None

    def policy(self) -> Policy:
        """The collections policy (for its protected list); PolicyError when invalid."""
        return self.policies.policy()
