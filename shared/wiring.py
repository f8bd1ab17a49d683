"""Wiring: the dependencies of each business area, built once per process from the settings.

The one place that decides which adapters a use case gets (cosmic python's `bootstrap`). The
trigger modules in `functions/` call these and pass the result in; use cases never look
anything up themselves. Built on first use (not at import), so indexing the app stays cheap;
`shared.runtime.reset()` forgets them with the clients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import runtime
from shared.settings import get_settings

if TYPE_CHECKING:
    from shared.adapters.mail import SmtpRelay
    from shared.adapters.partner_center import PartnerCenterClient
    from shared.adapters.policy_files import PolicyFiles
    from shared.services.collections.deps import CollectionsDeps
    from shared.services.exposure.deps import ExposureDeps
    from shared.services.fraud.deps import FraudDeps
    from shared.services.health import HealthProbes
    from shared.services.reconcile.common import ReconcileDeps
    from shared.settings import AppSettings


def policy_files() -> PolicyFiles:
    """The collections policy and triage files named by POLICY_FILE and TRIAGE_FILE."""

    def build() -> PolicyFiles:
        from shared.adapters.policy_files import PolicyFiles

        settings = get_settings()
        return PolicyFiles(settings.resolved_policy_file(), settings.resolved_triage_file())

    return runtime.wired("policy_files", build)


def health_probes() -> HealthProbes:
    """What `GET /api/health` looks at; never cached, since the settings may be what is broken."""
    from shared.clock import PROCESS_CLOCK
    from shared.services.health import HealthProbes

    return HealthProbes(
        settings=get_settings,
        ping_storage=lambda: runtime.table_store().ping(),
        policy_files=policy_files,
        now=PROCESS_CLOCK.now,
        payments_feed=_payments_feed_reason,
    )


def _payments_feed_reason() -> str | None:
    from shared.clock import PROCESS_CLOCK
    from shared.services.collections import feed

    deps = collections()
    return feed.feed_reason(deps, deps.policy(), PROCESS_CLOCK.now())


def collections() -> CollectionsDeps:
    """Ledger, scan, approvals, notices."""

    def build() -> CollectionsDeps:
        from shared.adapters.changes import ChangeStore
        from shared.adapters.customers import CustomerRepository
        from shared.adapters.schedule import ScheduleIndex
        from shared.services.collections.deps import CollectionsDeps
        from shared.services.collections.notices import NOTICE_OUTBOX_TABLE

        settings = get_settings()
        store = runtime.table_store()
        return CollectionsDeps(
            customers=CustomerRepository.of(store),
            schedule=ScheduleIndex.of(store),
            reconcile_queue=runtime.publisher(settings.reconcile_queue_name),
            notice_queue=runtime.publisher(settings.notice_queue_name),
            notice_outbox=store.table(NOTICE_OUTBOX_TABLE),
            settings=settings,
            policy_source=policy_files().policy,
            changes=ChangeStore.of(store),
            mail_relay=_mail_relay(settings),
        )

    return runtime.wired("collections", build)


def _mail_relay(settings: AppSettings) -> SmtpRelay | None:
    """The SMTP relay of e-mail notices, when SMTP_HOST is set."""
    from shared.adapters.mail import SmtpRelay

    if not settings.smtp_host or not settings.smtp_from:
        return None
    return SmtpRelay(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        timeout_seconds=settings.smtp_timeout_seconds,
    )


def fraud() -> FraudDeps:
    """Fraud intake, cases, Partner Center fraud events."""

    def build() -> FraudDeps:
        from shared.services.fraud.deps import FraudDeps

        settings = get_settings()
        return FraudDeps.of(
            runtime.table_store(),
            reconcile_queue=runtime.publisher(settings.reconcile_queue_name),
            policies=policy_files(),
            settings=settings,
        )

    return runtime.wired("fraud", build)


def partner_center() -> PartnerCenterClient:
    """The Partner Center client (app-only), one per process."""

    def build() -> PartnerCenterClient:
        from shared.adapters.layout import PACING_TABLE
        from shared.adapters.partner_center import client_for
        from shared.settings import PartnerCenterPacing

        settings = get_settings()
        shared = settings.partner_center_pacing is PartnerCenterPacing.SHARED
        return client_for(settings, runtime.table_store().table(PACING_TABLE) if shared else None)

    return runtime.wired("partner_center", build)


def reconcile() -> ReconcileDeps:
    """The reconcile executor and the drift sweep."""

    def build() -> ReconcileDeps:
        from shared.adapters.layout import CUSTOMERS_TABLE
        from shared.services.reconcile.common import ReconcileDeps

        settings = get_settings()
        return ReconcileDeps(
            table=runtime.table_store().table(CUSTOMERS_TABLE),
            partner_center=partner_center(),
            publisher=runtime.publisher(settings.reconcile_queue_name),
            settings=settings,
        )

    return runtime.wired("reconcile", build)


def exposure() -> ExposureDeps:
    """The exposure refresh: credit control and usage anomalies."""

    def build() -> ExposureDeps:
        from shared.adapters.exposure_runs import ExposureRunStore
        from shared.services.exposure.deps import ExposureDeps

        return ExposureDeps(
            collections=collections(),
            fraud=fraud(),
            runs=ExposureRunStore.of(runtime.table_store()),
            partner_center=partner_center(),
        )

    return runtime.wired("exposure", build)
