"""The reconcile executor's run for one customer: lease, read, plan, act, record, reschedule.

Before a suspension it writes an intent record (state `suspending`) and only then PATCHes, so a
crash between the call and the record still shows that the suspension was ours; the next run sees
the subscription suspended with our intent, records it, and patches nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.adapters.layout import RECONCILE_LEASE
from shared.adapters.lease import Lease, LeaseTaken
from shared.adapters.partner_center import (
    EtagNoLongerValid,
    PartnerCenterError,
    PartnerCenterNotFound,
    RenewalWindowConflict,
    Subscription,
    SubscriptionStatus,
    Throttled,
    Transient,
)
from shared.domain.messages import ReconcileRequest
from shared.domain.suspensions import (
    PlannedAction,
    PlanStep,
    SubscriptionView,
    SuspensionRecord,
    SuspensionState,
    plan_reconcile,
)
from shared.services.reconcile.common import (
    ReconcileDeps,
    ReconcileOutcome,
    ReconcileResult,
    describe_action,
    details_summary,
    intent_record,
    read_hold_ids,
    record_alert,
    view_of,
)
from shared.services.reconcile.records import RunRecords
from shared.services.reconcile.retries import backoff_seconds, busy_delay, delay_after, publish_retry
from shared.settings import EnforcementMode
from shared.telemetry import metric

log = logging.getLogger(__name__)

MAX_ROUNDS = 3  # re-read holds after acting; loop while they keep changing, at most this often
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
    current: dict[str, Subscription] = field(default_factory=dict)
    lease: Lease | None = None
    recheck: bool = False  # a base was reactivated: list again to see whether its add-ons followed

    def __post_init__(self) -> None:
        self.log = RunRecords(self.deps, self.request.customer_id, self.request.correlation_id)

    @property
    def customer_id(self) -> str:
        return self.request.customer_id

    @property
    def correlation_id(self) -> str:
        return self.request.correlation_id

    @property
    def records(self) -> dict[str, SuspensionRecord]:
        return self.log.records

    # --- audit and records (records.py) ---
    def audit(self, action: str, reason: str = "", **details: Any) -> None:
        self.log.audit(action, reason, **details)

    def commit(self, records: list[SuspensionRecord]) -> None:
        """Write the records and the pending audit entries in one transaction."""
        self.log.commit(records)

    # --- the run ---
    def run(self) -> ReconcileResult:
        settings = self.deps.settings
        ttl = timedelta(seconds=settings.reconcile_lease_seconds)
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
            holds = read_hold_ids(self.deps.table, self.customer_id)
            self.log.load()
            try:
                subscriptions = self.deps.partner_center.list_subscriptions(
                    self.customer_id, correlation_id=self.correlation_id
                )
            except (Throttled, Transient) as exc:
                self.audit("pc.list_subscriptions.failed", str(exc), **exc.describe())
                return self._reschedule_after(exc)
            except PartnerCenterError as exc:
                self.audit("pc.list_subscriptions.failed", str(exc), **exc.describe())
                self.commit([])
                raise
            self.current = {s.id: s for s in subscriptions}
            self.audit(
                "pc.list_subscriptions",
                details_summary(subscriptions),
                count=len(subscriptions),
                holds=holds,
                request_reason=self.request.reason,
                attempt=self.request.attempt,
            )
            actions = plan_reconcile(holds, [view_of(s) for s in subscriptions], self.records)
            if dry_run:
                for action in actions:
                    self.audit(
                        f"dry_run.would_{action.kind.value}",
                        "ENFORCEMENT_MODE=dry_run",
                        **describe_action(action),
                    )
                self.commit([])
                return ReconcileResult(
                    ReconcileOutcome.DRY_RUN, self.customer_id, detail=f"{len(actions)} action(s)"
                )
            failure = self._execute_all(actions, holds)
            if failure is not None:
                return self._reschedule_after(failure)
            holds_changed = bool(read_hold_ids(self.deps.table, self.customer_id)) != bool(holds)
            if not holds_changed and not self.recheck:
                self.commit([])
                return ReconcileResult(ReconcileOutcome.CONVERGED, self.customer_id, patches=self.patches)
            if holds_changed:
                self.audit("reconcile.holds_changed", "the holds changed while acting; reconciling again")
            self.recheck = False
        return self._reschedule(f"not converged after {MAX_ROUNDS} rounds", self._backoff())

    def _execute_all(self, actions: list[PlannedAction], holds: list[str]) -> PartnerCenterError | None:
        """Act on each planned step; returns the failure to reschedule for, if any."""
        conflict: PartnerCenterError | None = None
        for action in actions:
            self._keep_lease()
            try:
                self._execute(action, holds)
            except RenewalWindowConflict as exc:
                conflict = exc  # this subscription waits; the others can still go ahead
            except PartnerCenterNotFound:
                continue  # deleted since it was listed (audited): nothing left to converge
            except (Throttled, Transient, EtagNoLongerValid) as exc:
                self.commit([])
                return exc
            except PartnerCenterError:
                self.commit([])  # the failed call stays on the audit trail; then redelivery
                raise
        self.commit([])
        return conflict

    def _keep_lease(self) -> None:
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
            self.commit([])
            raise _LeaseLost

    def _execute(self, action: PlannedAction, holds: list[str]) -> None:
        subs = [action.subscription, *action.add_ons]
        now = self.deps.clock.now()
        if action.kind is PlanStep.SUSPEND:
            self._suspend(action, holds, now)
        elif action.kind is PlanStep.CONFIRM_SUSPENDED:
            self._confirm(action)
        elif action.kind is PlanStep.REACTIVATE:
            result, ours = self._patch(action.subscription, SubscriptionStatus.ACTIVE, "reactivate")
            if result.is_active:
                # The add-ons' records are closed once a new listing shows them active again.
                self.commit(self._closed([action.subscription], now))
                self.recheck = self.recheck or bool(action.add_ons)
            elif not ours:
                self._left_alone(action, "changed by someone else while this app was reactivating it")
        elif action.kind is PlanStep.RELEASE and action.subscription.parent_subscription_id:
            self._left_alone(action, "add-on still suspended though its base is no longer suspended by us")
        elif action.kind is PlanStep.RELEASE:
            self._left_alone(action, "changed by someone else since this app suspended it")
        else:
            self.audit(
                "reconcile.record_closed",
                "Partner Center shows it active already (reactivated elsewhere, or our PATCH never applied)",
                **describe_action(action),
            )
            self.commit(self._closed(subs, now))

    def _suspend(self, action: PlannedAction, holds: list[str], now: datetime) -> None:
        """Intent first, then the PATCH; the records say ours only when our PATCH did it."""
        subs = [action.subscription, *action.add_ons]
        intents = [intent_record(view, holds, now, self.correlation_id) for view in subs]
        self.audit("reconcile.suspend_intent", "holds: " + ", ".join(holds), **describe_action(action))
        self.commit(intents)
        try:
            result, ours = self._patch(action.subscription, SubscriptionStatus.SUSPENDED, "suspend")
        except Transient:
            raise  # maybe applied: the intent stays, the next run looks again
        except PartnerCenterError as exc:
            # Partner Center answered and changed nothing: the intent must not survive, or a
            # later suspension by someone else would look like ours.
            self._release(intents, f"suspension not applied: {type(exc).__name__}")
            raise
        if result.is_suspended and ours:
            base = action.subscription.subscription_id
            suspended = SuspensionState.SUSPENDED_BY_US
            self.commit(
                [
                    r.model_copy(
                        update={
                            "state": suspended,
                            "etag_after": result.etag if r.subscription_id == base else None,
                        }
                    )
                    for r in intents
                ]
            )
        elif not ours:
            if result.is_suspended:
                # Suspended since the listing by someone else (or, should Partner Center not
                # honour the reused MS-RequestId, by our own retried PATCH): a person looks.
                self.audit(
                    "alert.suspension_left_alone",
                    "suspended at Partner Center before this app's PATCH applied; not recorded as ours",
                    **describe_action(action),
                )
                metric("reconcile.alert", 1)
            self._release(intents, f"{result.normalised_status} at Partner Center, not by this app")

    def _confirm(self, action: PlannedAction) -> None:
        """Our intent, and Partner Center shows it suspended: a crash came after our PATCH."""
        confirmed = [
            self.records[v.subscription_id].model_copy(
                update={
                    "state": SuspensionState.SUSPENDED_BY_US,
                    "etag_after": v.etag if v == action.subscription else None,
                }
            )
            for v in [action.subscription, *action.add_ons]
            if v.subscription_id in self.records
        ]
        self.audit(
            "reconcile.suspension_confirmed",
            "our intent was recorded and Partner Center shows it suspended: recorded, not patched again",
            **describe_action(action),
        )
        self.commit(confirmed)

    def _release(self, records: list[SuspensionRecord], why: str) -> None:
        """Mark these records no longer ours (nothing of ours is left at Partner Center)."""
        self.audit("reconcile.record_released", why, subscription_ids=[r.subscription_id for r in records])
        self.commit([r.model_copy(update={"state": SuspensionState.RELEASED}) for r in records])

    def _left_alone(self, action: PlannedAction, why: str) -> None:
        """Ours by record, but someone else suspended it again: never reactivate it (principle
        2); release our records and raise an alert so a person can look."""
        subs = [action.subscription, *action.add_ons]
        released = [
            self.records[v.subscription_id]
            for v in subs
            if v.subscription_id in self.records and self.records[v.subscription_id].is_ours
        ]
        self.audit("alert.suspension_left_alone", why, **describe_action(action))
        metric("reconcile.alert", 1)
        self._release(released, why)

    def _closed(self, subs: list[SubscriptionView], now: datetime) -> list[SuspensionRecord]:
        return [
            self.records[v.subscription_id].model_copy(
                update={"state": SuspensionState.REACTIVATED, "reactivated_at": now}
            )
            for v in subs
            if v.subscription_id in self.records and self.records[v.subscription_id].is_ours
        ]

    def _patch(
        self, view: SubscriptionView, status: SubscriptionStatus, verb: str
    ) -> tuple[Subscription, bool]:
        """PATCH the status (the full resource as listed, If-Match its etag); returns the resource
        and whether this PATCH made the change. When the etag went stale someone else changed the
        subscription since it was listed (our own retries reuse the MS-RequestId, which Partner
        Center answers idempotently): re-read it, and retry only a suspension of a subscription
        still active; a reactivation is never retried over someone else's change. Every call and
        its result goes to the audit."""
        pc = self.deps.partner_center
        resource = self.current[view.subscription_id]
        for attempt in range(2):
            request_id = str(uuid.uuid4())
            self._keep_lease()
            try:
                result = pc.set_status(
                    self.customer_id,
                    resource,
                    status,
                    correlation_id=self.correlation_id,
                    request_id=request_id,
                )
            except EtagNoLongerValid as exc:
                self.audit(
                    f"pc.{verb}.failed", str(exc), subscription_id=view.subscription_id, **exc.describe()
                )
                if attempt:
                    raise
                self._keep_lease()
                resource = pc.get_subscription(
                    self.customer_id, view.subscription_id, correlation_id=self.correlation_id
                )
                self.audit("pc.get_subscription", subscription_id=resource.id, status=resource.status)
                if status is SubscriptionStatus.SUSPENDED and resource.is_active:
                    continue
                return resource, False
            except PartnerCenterError as exc:
                self.audit(
                    f"pc.{verb}.failed",
                    str(exc),
                    subscription_id=view.subscription_id,
                    request_id=request_id,
                    **exc.describe(),
                )
                raise
            self.patches += 1
            self.audit(
                f"pc.{verb}",
                f"PATCH status={status.value}",
                subscription_id=view.subscription_id,
                request_id=request_id,
                status_after=result.status,
            )
            return result, True
        raise AssertionError("unreachable")

    # --- rescheduling (see retries.py) ---
    def _backoff(self) -> float:
        return backoff_seconds(self.deps, self.request.attempt)

    def _reschedule_after(self, error: PartnerCenterError) -> ReconcileResult:
        delay = delay_after(self.deps, error, self.request.attempt)
        return self._reschedule(f"{type(error).__name__}: {str(error)[:200]}", delay)

    def _reschedule(self, why: str, delay: float) -> ReconcileResult:
        attempt = self.request.attempt + 1
        if attempt > self.deps.settings.reconcile_max_attempts:
            self.commit([])
            alert = f"gave up after {self.request.attempt} attempts; last: {why}"
            record_alert(self.deps, self.request, alert)
            return ReconcileResult(
                ReconcileOutcome.GAVE_UP, self.customer_id, patches=self.patches, detail=why
            )
        publish_retry(self.deps, self.request, attempt=attempt, delay=delay, reason=f"retry: {why}"[:200])
        self.audit("reconcile.rescheduled", why, attempt=attempt, delay_seconds=delay)
        self.commit([])
        metric("reconcile.rescheduled", 1)
        return ReconcileResult(ReconcileOutcome.RESCHEDULED, self.customer_id, self.patches, delay, why)

    def _busy(self, lease: LeaseTaken) -> ReconcileResult:
        """Another executor works on this customer: try again once it is likely done (no attempt
        is used up; the lease expires, so this cannot go on for ever)."""
        delay = busy_delay(self.deps, lease)
        # A fresh message id each time: Service Bus must not drop a second "busy" retry as a
        # duplicate of the first (duplicates are harmless here; a lost retry is not).
        reason = "retry: customer busy"
        publish_retry(
            self.deps,
            self.request,
            attempt=self.request.attempt,
            delay=delay,
            reason=reason,
            tag=uuid.uuid4().hex,
        )
        return ReconcileResult(
            ReconcileOutcome.BUSY, self.customer_id, delay_seconds=delay, detail="lease held"
        )
