"""The reconcile executor's run for one customer: lease, read, plan, act per subscription, record,
reschedule.

Each planned step acts on one subscription (and the add-ons that follow it); what came of it is
recorded on that subscription (`outcomes.py`), so a refusal of one never stops the others. A
failure that says Partner Center or our token is unwell (throttled, transient, token refused)
stops the run and reschedules it; nothing about Partner Center raises. At the end the run writes
the customer's enforcement snapshot (what Partner Center last confirmed, per subscription).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from shared.adapters.layout import RECONCILE_LEASE
from shared.adapters.lease import Lease, LeaseTaken
from shared.adapters.partner_center import ErrorKind, PartnerCenterError, Subscription
from shared.domain.enforcement import RunOutcome, build_snapshot
from shared.domain.messages import ReconcileRequest
from shared.domain.reconcile_plan import PlannedAction, PlanStep, plan_reconcile
from shared.services.reconcile import calls
from shared.services.reconcile.common import (
    ReconcileDeps,
    ReconcileOutcome,
    ReconcileResult,
    describe_action,
    details_summary,
    read_hold_ids,
    record_alert,
    view_of,
)
from shared.services.reconcile.outcomes import Outcomes
from shared.services.reconcile.records import RunRecords
from shared.services.reconcile.retries import backoff_seconds, busy_delay, delay_after, publish_retry
from shared.settings import EnforcementMode
from shared.telemetry import metric

log = logging.getLogger(__name__)

MAX_ROUNDS = 4  # re-read after acting; loop while holds change or a read must confirm, at most this often
LEASE_RENEW_SECONDS = 30  # renew the lease at most this often while acting


class _LeaseLost(Exception):
    """The lease expired and another executor took the customer over."""


@dataclass
class Executor:
    """One run of the executor for one customer (one message)."""

    request: ReconcileRequest
    deps: ReconcileDeps
    patches: int = 0
    log: RunRecords = field(init=False)
    outcomes: Outcomes = field(init=False)
    current: dict[str, Subscription] = field(default_factory=dict)
    lease: Lease | None = None
    recheck: bool = False  # a read must confirm what a PATCH did (add-ons, auto-renew)
    holds: list[str] = field(default_factory=list)
    listed: bool = False
    delays: list[float] = field(default_factory=list)  # "try later" and settling: look again then

    def __post_init__(self) -> None:
        self.log = RunRecords(self.deps, self.request.customer_id, self.request.correlation_id)
        self.outcomes = Outcomes(self.log)

    @property
    def customer_id(self) -> str:
        return self.request.customer_id

    @property
    def correlation_id(self) -> str:
        return self.request.correlation_id

    @property
    def attempt(self) -> int:
        return self.request.attempt

    def note_delay(self, seconds: float) -> None:
        self.delays.append(max(1.0, seconds))

    # --- the run ---
    def run(self) -> ReconcileResult:
        ttl = timedelta(seconds=self.deps.settings.reconcile_lease_seconds)
        lease = self.deps.leases.acquire(self.customer_id, RECONCILE_LEASE, ttl)
        if isinstance(lease, LeaseTaken):
            return self._busy(lease)
        self.lease = lease
        try:
            return self._converge(lease, ttl)
        except _LeaseLost:
            return self._reschedule("lease lost", self._backoff())
        finally:
            self.deps.leases.release(lease)

    def _converge(self, lease: Lease, ttl: timedelta) -> ReconcileResult:
        dry_run = self.deps.settings.enforcement_mode is EnforcementMode.DRY_RUN
        for round_no in range(1, MAX_ROUNDS + 1):
            if round_no > 1 and not self.deps.leases.renew(lease, ttl):
                return self._reschedule("lease lost", self._backoff())
            self.holds = read_hold_ids(self.deps.table, self.customer_id)
            self.log.load()
            failure = self._list()
            if failure is not None:
                return failure
            now = self.deps.clock.now()
            settle = timedelta(minutes=self.deps.settings.reconcile_settle_minutes)
            views = [view_of(s) for s in self.current.values()]
            actions = plan_reconcile(self.holds, views, self.log.records, now=now, settle=settle)
            if dry_run:
                return self._dry_run(actions)
            self.recheck = False
            stop = self._execute_all(actions)
            if stop is not None:
                return self._reschedule(stop.why, stop.delay, free=stop.free)
            holds_changed = bool(read_hold_ids(self.deps.table, self.customer_id)) != bool(self.holds)
            if holds_changed:
                self.log.audit("reconcile.holds_changed", "the holds changed while acting; reconciling again")
            elif not self.recheck:
                return self._finish()
        return self._reschedule(f"not converged after {MAX_ROUNDS} rounds", self._backoff())

    def _list(self) -> ReconcileResult | None:
        try:
            subscriptions = self.deps.partner_center.list_subscriptions(
                self.customer_id, correlation_id=self.correlation_id
            )
        except PartnerCenterError as exc:
            self.log.audit("pc.list_subscriptions.failed", str(exc), **exc.describe())
            return self._listing_failed(exc)
        self.current = {s.id: s for s in subscriptions}
        self.listed = True
        self.log.audit(
            "pc.list_subscriptions",
            details_summary(subscriptions),
            count=len(subscriptions),
            holds=self.holds,
            request_reason=self.request.reason,
            attempt=self.attempt,
        )
        return None

    def _listing_failed(self, exc: PartnerCenterError) -> ReconcileResult:
        """The customer could not be listed. A tenant Partner Center does not know is one status
        and one alert (not a traceback per delivery); the rest reschedule."""
        kind = exc.classification.kind
        if kind is ErrorKind.NOT_FOUND:
            previous = self.log.previous_snapshot()
            if previous is None or previous.outcome is not RunOutcome.CUSTOMER_UNKNOWN:
                self.outcomes.alert(
                    "alert.customer_unknown_at_partner_center",
                    f"Partner Center does not know customer {self.customer_id}: {exc.description or exc}",
                    **exc.describe(),
                )
            self.log.commit([], self._snapshot(RunOutcome.CUSTOMER_UNKNOWN, detail=str(exc)[:300]))
            metric("reconcile.customer_unknown", 1)
            return ReconcileResult(ReconcileOutcome.CUSTOMER_UNKNOWN, self.customer_id, detail=str(exc)[:200])
        if kind in (ErrorKind.TOKEN_REFUSED, ErrorKind.UNRECOGNISED, ErrorKind.REFUSED) and self.attempt == 0:
            name = (
                "alert.partner_center_token_refused"
                if kind is ErrorKind.TOKEN_REFUSED
                else ("alert.partner_center_unrecognised_error")
            )
            self.outcomes.alert(name, f"listing the subscriptions failed: {exc}", **exc.describe())
        return self._reschedule(
            f"{type(exc).__name__}: {str(exc)[:200]}", delay_after(self.deps, exc, self.attempt)
        )

    def _dry_run(self, actions: list[PlannedAction]) -> ReconcileResult:
        for action in actions:
            if action.kind is not PlanStep.AWAIT:
                self.log.audit(
                    f"dry_run.would_{action.kind.value}",
                    "ENFORCEMENT_MODE=dry_run",
                    **describe_action(action),
                )
        self.log.commit([], self._snapshot(RunOutcome.DRY_RUN))
        return ReconcileResult(ReconcileOutcome.DRY_RUN, self.customer_id, detail=f"{len(actions)} action(s)")

    def _execute_all(self, actions: list[PlannedAction]) -> calls.Stop | None:
        """Act on each planned step; a stop ends the run (the steps done so far are recorded)."""
        for action in actions:
            self.keep_lease()
            stop = self._execute(action)
            if stop is not None:
                self.log.commit([])
                return stop
        self.log.commit([])
        return None

    def _execute(self, action: PlannedAction) -> calls.Stop | None:
        subs = [action.subscription, *action.add_ons]
        kind = action.kind
        if kind is PlanStep.SUSPEND:
            return calls.suspend(self, action, self.holds)
        if kind is PlanStep.REACTIVATE:
            return calls.reactivate(self, action)
        if kind is PlanStep.RESTORE_AUTO_RENEW:
            return calls.restore_auto_renew(self, action)
        if kind is PlanStep.CONFIRM:
            self.outcomes.confirmed(subs, action.why)
        elif kind is PlanStep.CLOSE:
            self.outcomes.closed(subs, action.why)
            self.recheck = self.recheck or self._auto_renew_may_be_due(action)
        elif kind is PlanStep.RELEASE:
            self.outcomes.released(subs, action.why, alert=True)
        elif kind is PlanStep.UNDECIDED:
            self.outcomes.undecided(action)
        elif kind is PlanStep.FORGET:
            self.outcomes.released(subs, action.why, alert=False)
        elif kind is PlanStep.AWAIT and action.recheck_at is not None:
            self.note_delay((action.recheck_at - self.deps.clock.now()).total_seconds())
        return None

    def _auto_renew_may_be_due(self, action: PlannedAction) -> bool:
        record = self.log.records.get(action.subscription.subscription_id)
        return bool(record and record.auto_renew_before and not record.auto_renew_restored)

    def keep_lease(self) -> None:
        """Before each step and each Partner Center call, renew the lease if it was last renewed
        more than LEASE_RENEW_SECONDS ago (or half the lease), so no second executor takes the
        customer over while this one is still patching: one paced call with its transient
        retries can take minutes, and a stale-etag retry makes a step three calls."""
        assert self.lease is not None
        ttl = timedelta(seconds=self.deps.settings.reconcile_lease_seconds)
        slack = min(timedelta(seconds=LEASE_RENEW_SECONDS), ttl / 2)
        if self.lease.expires_at - self.deps.clock.now() > ttl - slack:
            return
        if not self.deps.leases.renew(self.lease, ttl):
            self.log.commit([])
            raise _LeaseLost

    # --- the end of a run ---
    def _snapshot(self, outcome: RunOutcome, detail: str = ""):  # type: ignore[no-untyped-def]
        return build_snapshot(
            self.customer_id,
            checked_at=self.deps.clock.now(),
            outcome=outcome,
            hold_ids=self.holds,
            subscriptions=[view_of(s) for s in self.current.values()] if self.listed else [],
            records=self.log.records,
            detail=detail,
        )

    def _finish(self) -> ReconcileResult:
        if self.delays:
            # Something waits ("try later", a PATCH that may still be applied): look again then,
            # without using an attempt (each wait has its own budget).
            return self._reschedule("waiting for Partner Center", min(self.delays), free=True)
        self.log.commit([], self._snapshot(RunOutcome.CONVERGED))
        return ReconcileResult(ReconcileOutcome.CONVERGED, self.customer_id, patches=self.patches)

    # --- rescheduling (see retries.py) ---
    def _backoff(self) -> float:
        return backoff_seconds(self.deps, self.attempt)

    def _reschedule(self, why: str, delay: float, *, free: bool = False) -> ReconcileResult:
        attempt = self.attempt if free else self.attempt + 1
        if attempt > self.deps.settings.reconcile_max_attempts:
            self.log.commit([], self._snapshot(RunOutcome.GAVE_UP, detail=why) if self.listed else None)
            record_alert(self.deps, self.request, f"gave up after {self.attempt} attempts; last: {why}")
            return ReconcileResult(
                ReconcileOutcome.GAVE_UP, self.customer_id, patches=self.patches, detail=why
            )
        publish_retry(
            self.deps,
            self.request,
            attempt=attempt,
            delay=delay,
            reason=f"retry: {why}"[:200],
            tag=uuid.uuid4().hex if free else "",
        )
        self.log.audit("reconcile.rescheduled", why, attempt=attempt, delay_seconds=delay)
        self.log.commit([], self._snapshot(RunOutcome.RESCHEDULED, detail=why) if self.listed else None)
        metric("reconcile.rescheduled", 1)
        return ReconcileResult(ReconcileOutcome.RESCHEDULED, self.customer_id, self.patches, delay, why)

    def _busy(self, lease: LeaseTaken) -> ReconcileResult:
        """Another executor works on this customer: try again once it is likely done (no attempt
        is used up; the lease expires, so this cannot go on for ever)."""
        delay = busy_delay(self.deps, lease)
        # A fresh message id each time: Service Bus must not drop a second "busy" retry as a
        # duplicate of the first (duplicates are harmless here; a lost retry is not).
        publish_retry(
            self.deps,
            self.request,
            attempt=self.attempt,
            delay=delay,
            reason="retry: customer busy",
            tag=uuid.uuid4().hex,
        )
        return ReconcileResult(
            ReconcileOutcome.BUSY, self.customer_id, delay_seconds=delay, detail="lease held"
        )
