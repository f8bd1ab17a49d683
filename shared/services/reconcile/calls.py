"""The Partner Center steps of a reconcile run: suspend, reactivate, restore auto-renew; and what
the executor does with each kind of failure (the kinds come from the one classification in
`shared/adapters/partner_center/error_table.py`).

A failure of one subscription's change is recorded on that subscription and the run goes on
(refused, unrecognised, "try later", not found); a failure that says Partner Center or our token
is unwell stops the run and reschedules it (throttled, transient, token refused).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from shared.adapters.partner_center import (
    ErrorKind,
    EtagNoLongerValid,
    PartnerCenterError,
    Subscription,
    SubscriptionStatus,
    Throttled,
)
from shared.domain.reconcile_plan import PlannedAction
from shared.domain.suspensions import SubscriptionView, SuspensionRecord, SuspensionState, Verb
from shared.services.reconcile.common import ReconcileDeps, describe_action, intent_record
from shared.services.reconcile.outcomes import Outcomes
from shared.services.reconcile.records import RunRecords
from shared.services.reconcile.retries import backoff_seconds, try_later_delay


@dataclass(frozen=True)
class Stop:
    """The run cannot go on: reschedule after `delay` seconds (an attempt used unless `free`)."""

    why: str
    delay: float
    free: bool = False


class RunContext(Protocol):
    """What a step needs of the run it belongs to (the executor)."""

    deps: ReconcileDeps
    current: dict[str, Subscription]
    log: RunRecords
    outcomes: Outcomes
    patches: int
    recheck: bool

    @property
    def customer_id(self) -> str: ...

    @property
    def correlation_id(self) -> str: ...

    @property
    def attempt(self) -> int: ...

    def keep_lease(self) -> None: ...

    def note_delay(self, seconds: float) -> None: ...


def suspend(ctx: RunContext, action: PlannedAction, holds: list[str]) -> Stop | None:
    """Intent first (with the MS-RequestId), then the PATCH; Partner Center's answer decides."""
    views = [action.subscription, *action.add_ons]
    previous = {v.subscription_id: ctx.log.records.get(v.subscription_id) for v in views}
    request_id = action.request_id or str(uuid.uuid4())
    intents = [
        _intent(
            ctx,
            view,
            holds,
            request_id if view is action.subscription else None,
            previous[view.subscription_id],
        )
        for view in views
    ]
    ctx.log.audit(
        "reconcile.suspend_intent",
        "holds: " + ", ".join(holds),
        **describe_action(action),
        request_id=request_id,
    )
    ctx.log.commit(intents)
    resource = ctx.current[action.subscription.subscription_id]
    for attempt in range(2):
        try:
            result = _patch_status(ctx, resource, SubscriptionStatus.SUSPENDED, request_id, "suspend")
        except EtagNoLongerValid as exc:
            # Changed since it was listed (our own retries reuse the MS-RequestId, which Partner
            # Center answers idempotently): look again; try once more only if still active.
            fresh = _reread(ctx, action.subscription)
            if fresh is not None and fresh.is_active and attempt == 0:
                resource, request_id = fresh, str(uuid.uuid4())
                continue
            suspended = fresh is not None and fresh.is_suspended
            why = "suspended at Partner Center before this app's PATCH applied" if suspended else str(exc)
            ctx.outcomes.released(views, why, alert=suspended)
            return None
        except PartnerCenterError as exc:
            fresh_request = action.request_id is None and attempt == 0
            return _failed(
                ctx, views, Verb.SUSPEND, exc, request_id, intents if fresh_request else None, previous
            )
        if result.is_suspended:
            ctx.current[result.id] = result
            ctx.outcomes.suspended(action, result)
            ctx.recheck = ctx.recheck or bool(action.add_ons)  # a read confirms the add-ons followed
        else:
            # Answered, but not (yet) showing the change: a read settles it, nothing is guessed.
            why = f"Partner Center answered showing it {result.normalised_status}: a read will settle it"
            ctx.outcomes.unknown(views, Verb.SUSPEND, request_id, why=why)
        return None
    return None


def _intent(
    ctx: RunContext,
    view: SubscriptionView,
    holds: list[str],
    request_id: str | None,
    previous: SuspensionRecord | None,
) -> SuspensionRecord:
    """The intent before the PATCH. Repeating an unanswered request keeps what is known of it:
    it went out once (`unknown`), so its suspension, should a read show it, is ours."""
    if (
        previous is not None
        and previous.state is SuspensionState.UNKNOWN
        and previous.pending_verb is Verb.SUSPEND
    ):
        return previous.model_copy(update={"suspended_under_holds": list(holds)})
    return intent_record(
        view, holds, ctx.deps.clock.now(), ctx.correlation_id, request_id=request_id, previous=previous
    )


def reactivate(ctx: RunContext, action: PlannedAction) -> Stop | None:
    """PATCH to `active`; the add-ons and auto-renew are looked at by the next read (recheck)."""
    view = action.subscription
    views = [view, *action.add_ons]
    request_id = action.request_id or str(uuid.uuid4())
    try:
        result = _patch_status(
            ctx, ctx.current[view.subscription_id], SubscriptionStatus.ACTIVE, request_id, "reactivate"
        )
    except EtagNoLongerValid:
        fresh = _reread(ctx, view)
        if fresh is not None and fresh.is_active:
            ctx.outcomes.closed([view], "active at Partner Center already")
        else:
            ctx.outcomes.released(
                views, "changed by someone else while this app was reactivating it", alert=True
            )
        return None
    except PartnerCenterError as exc:
        return _failed(ctx, [view], Verb.REACTIVATE, exc, request_id, None, {})
    ctx.current[result.id] = result
    if result.is_active:
        ctx.outcomes.closed([view], "reactivated by this app")
        ctx.recheck = True  # add-ons that followed, and auto-renew, are read again
    else:
        why = f"Partner Center answered showing it {result.normalised_status}: a read will settle it"
        ctx.outcomes.unknown([view], Verb.REACTIVATE, request_id, why=why)
    return None


def restore_auto_renew(ctx: RunContext, action: PlannedAction) -> Stop | None:
    """Turn auto-renew back on (it was on before our suspension) and confirm it by a read."""
    view = action.subscription
    record = ctx.log.records[view.subscription_id]
    request_id = str(uuid.uuid4())
    ctx.keep_lease()
    pc = ctx.deps.partner_center
    try:
        pc.set_auto_renew(
            ctx.customer_id,
            ctx.current[view.subscription_id],
            True,
            correlation_id=ctx.correlation_id,
            request_id=request_id,
        )
        ctx.patches += 1
        ctx.keep_lease()
        check = pc.get_subscription(ctx.customer_id, view.subscription_id, correlation_id=ctx.correlation_id)
    except PartnerCenterError as exc:
        kind = exc.classification.kind
        ctx.log.audit(
            "pc.auto_renew.failed", str(exc), subscription_id=view.subscription_id, **exc.describe()
        )
        if kind in (ErrorKind.TRANSIENT, ErrorKind.THROTTLED, ErrorKind.TOKEN_REFUSED, ErrorKind.STALE_ETAG):
            ctx.log.commit([])
            return _stop_for(ctx, exc)
        if kind is ErrorKind.TRY_LATER:
            ctx.log.commit([])
            ctx.note_delay(try_later_delay(ctx.deps, exc))
            return None
        _auto_renew_problem(ctx, record, f"Partner Center refused it: {exc.description or exc}")
        return None
    ctx.current[check.id] = check
    if check.auto_renew_enabled is True:
        ctx.log.audit(
            "pc.auto_renew_restored",
            "auto-renew on again, confirmed by a read",
            subscription_id=view.subscription_id,
            request_id=request_id,
        )
        ctx.log.commit([record.model_copy(update={"auto_renew_restored": True})])
    else:
        _auto_renew_problem(ctx, record, "turned on, but a read still shows auto-renew off")
    return None


def _auto_renew_problem(ctx: RunContext, record: SuspensionRecord, why: str) -> None:
    ctx.outcomes.alert("alert.auto_renew_not_restored", why, subscription_id=record.subscription_id)
    ctx.log.commit([record.model_copy(update={"auto_renew_problem": why[:600]})])


def _patch_status(
    ctx: RunContext, resource: Subscription, status: SubscriptionStatus, request_id: str, verb: str
) -> Subscription:
    """One status PATCH (its transient retries inside the client reuse the MS-RequestId)."""
    ctx.keep_lease()
    try:
        result = ctx.deps.partner_center.set_status(
            ctx.customer_id, resource, status, correlation_id=ctx.correlation_id, request_id=request_id
        )
    except PartnerCenterError as exc:
        ctx.log.audit(
            f"pc.{verb}.failed",
            str(exc),
            subscription_id=resource.id,
            request_id=request_id,
            **exc.describe(),
        )
        raise
    ctx.patches += 1
    ctx.log.audit(
        f"pc.{verb}",
        f"PATCH status={status.value}",
        subscription_id=resource.id,
        request_id=request_id,
        status_after=result.status,
    )
    return result


def _reread(ctx: RunContext, view: SubscriptionView) -> Subscription | None:
    ctx.keep_lease()
    try:
        fresh = ctx.deps.partner_center.get_subscription(
            ctx.customer_id, view.subscription_id, correlation_id=ctx.correlation_id
        )
    except PartnerCenterError as exc:
        ctx.log.audit(
            "pc.get_subscription.failed", str(exc), subscription_id=view.subscription_id, **exc.describe()
        )
        return None
    ctx.log.audit("pc.get_subscription", subscription_id=fresh.id, status=fresh.status)
    ctx.current[fresh.id] = fresh
    return fresh


def _failed(
    ctx: RunContext,
    views: list[SubscriptionView],
    verb: Verb,
    exc: PartnerCenterError,
    request_id: str,
    intents: list[SuspensionRecord] | None,
    previous: dict[str, SuspensionRecord | None],
) -> Stop | None:
    """What a failed status PATCH makes of the subscription. `intents` are this run's fresh
    intents (None when the PATCH repeated an earlier request, whose fate a failure says nothing
    of): Partner Center not taking a fresh request puts the records back as they were."""
    kind = exc.classification.kind
    if kind is ErrorKind.TRANSIENT:
        ctx.outcomes.unknown(views, verb, request_id, exc)  # maybe applied: a read settles it
        return _stop_for(ctx, exc)
    if kind in (ErrorKind.THROTTLED, ErrorKind.TOKEN_REFUSED):
        if intents is not None:
            ctx.outcomes.not_applied(intents, previous, f"not applied: {kind.value}")
        else:
            ctx.log.commit([])
        return _stop_for(ctx, exc)
    if kind is ErrorKind.NOT_FOUND:
        ctx.outcomes.released(views, "not found at Partner Center (deleted since it was listed)", alert=False)
        return None
    if kind is ErrorKind.TRY_LATER:
        delay = ctx.outcomes.waiting(views, verb, exc, try_later_delay(ctx.deps, exc))
        if delay is not None:
            ctx.note_delay(delay)
        return None
    ctx.outcomes.refused(views, verb, exc)  # refused, unrecognised, a stale etag twice
    return None


def _stop_for(ctx: RunContext, exc: PartnerCenterError) -> Stop:
    if isinstance(exc, Throttled):
        delay = exc.retry_after_seconds
        return Stop(
            f"throttled: {exc}",
            float(delay) if delay is not None else float(ctx.deps.settings.reconcile_conflict_delay_seconds),
        )
    return Stop(f"{exc.classification.kind.value}: {str(exc)[:200]}", backoff_seconds(ctx.deps, ctx.attempt))


__all__ = ["RunContext", "Stop", "reactivate", "restore_auto_renew", "suspend"]
