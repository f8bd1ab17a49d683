"""What the exposure refresh works with, passed in as one object (wired in `shared/wiring.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.adapters.exposure_runs import ExposureRunStore
from shared.adapters.partner_center.client import PartnerCenterClient
from shared.clock import PROCESS_CLOCK, Clock
from shared.services.collections.deps import CollectionsDeps
from shared.services.fraud.deps import FraudDeps
from shared.settings import AppSettings


@dataclass(frozen=True)
class ExposureDeps:
    """The collections area (customers, policy, queues), the fraud area (cases, triage), the run
    store, the Partner Center client and the clock."""

    collections: CollectionsDeps
    fraud: FraudDeps
    runs: ExposureRunStore
    partner_center: PartnerCenterClient
    clock: Clock = field(default=PROCESS_CLOCK)

    @property
    def settings(self) -> AppSettings:
        return self.collections.settings

    @property
    def dry_run(self) -> bool:
        return self.collections.dry_run
