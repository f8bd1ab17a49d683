"""Per-subscription outcomes of a reconcile run: what each answer (or its absence) makes of our
record of the subscription, and what is audited and alerted.

Each function writes its records and audit entries in one transaction (`RunRecords.commit`) and
changes only the subscriptions it is given: one subscription's refusal never touches the others.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.adapters.partner_center import ErrorKind, PartnerCenterError, Subscription
from shared.domain.reconcile_plan import PlannedAction
from shared.domain.suspensions import (
    OwnershipEvidence,
    PendingCall,
    Refusal,
    SubscriptionView,
    SuspensionRecord,
    SuspensionState,
    Verb,
    Waiting,
)
from shared.services.reconcile.common import describe_action
from shared.services.reconcile.records import RunRecords
from shared.telemetry import metric

S = SuspensionState


class Outcomes:
    """Records what happened to the subscriptions of one customer in this run."""

    def __init__(self, run: RunRecords) -> None:
        self.run = run

    @property
    def records(self) -> dict[str, SuspensionRecord]:
        return self.run.records

    def _now(self) -> datetime:
        return self.run.deps.clock.now()

    def _ours(self, views: list[SubscriptionView]) -> list[SuspensionRecord]:
        return [self.records[v.subscription_id] for v in views if v.subscription_id in self.records]

    def alert(self, action: str, why: str, /, **details: object) -> None:
        """An alert on the customer's audit trail (in this run's next transaction) and a metric."""
        self.run.audit(action, why, **details)
        metric("reconcile.alert", 1, alert=action)

    # --- answered ---
    def suspended(self, action: PlannedAction, result: Subscription) -> None:
        """Our PATCH was answered: the base is ours; its add-ons wait for a read showing them."""
        base = self.records[action.subscription.subscription_id]
        confirmed = base.model_copy(
            update={
                "state": S.SUSPENDED_BY_US,
                "pending": None,
                "waiting": None,
                "refusal": None,
                "reasons_after": list(result.suspension_reasons) if result.suspension_reasons else None,
            }
        )
        self.run.commit([confirmed])

    def confirmed(self, views: list[SubscriptionView], why: str) -> None:
        """A read shows our suspension in place: record it ours (no PATCH)."""
        reasons = {v.subscription_id: v.suspension_reasons for v in views}
        updated = [
            r.model_copy(
                update={
                    "state": S.SUSPENDED_BY_US,
                    "pending": None,
                    "waiting": None,
                    "refusal": None,
                    "reasons_after": (
                        list(seen)
                        if (seen := reasons.get(r.subscription_id)) is not None
                        else r.reasons_after
                    ),
                }
            )
            for r in self._ours(views)
        ]
        self.run.audit(
            "reconcile.suspension_confirmed", why, subscription_ids=[r.subscription_id for r in updated]
        )
        self.run.commit(updated)

    def closed(self, views: list[SubscriptionView], why: str) -> None:
        """Active again (by our PATCH, with its base, or elsewhere): no longer suspended by us."""
        now = self._now()
        updated = [
            r.model_copy(
                update={"state": S.REACTIVATED, "reactivated_at": now, "pending": None, "waiting": None}
            )
            for r in self._ours(views)
        ]
        self.run.audit("reconcile.record_closed", why, subscription_ids=[r.subscription_id for r in updated])
        self.run.commit(updated)

    def released(self, views: list[SubscriptionView], why: str, *, alert: bool) -> None:
        """No longer ours and left as Partner Center shows it (someone else's, gone, never applied)."""
        updated = [
            r.model_copy(update={"state": S.RELEASED, "released_reason": why[:300], "pending": None})
            for r in self._ours(views)
        ]
        ids = [r.subscription_id for r in updated]
        if alert:
            self.alert("alert.suspension_left_alone", why, subscription_ids=ids)
        self.run.audit("reconcile.record_released", why, subscription_ids=ids)
        self.run.commit(updated)

    def undecided(self, action: PlannedAction) -> None:
        """Cannot tell whose suspension it is: leave it, alert with the evidence, a person settles."""
        now = self._now()
        view = action.subscription
        record = self.records[view.subscription_id]
        evidence = OwnershipEvidence(
            why=action.why[:500],
            intent_at=record.suspended_at,
            request_id=record.request_id,
            status_before=record.status_before,
            status_seen=view.status,
            suspension_reasons_seen=list(view.suspension_reasons)
            if view.suspension_reasons is not None
            else None,
            seen_at=now,
        )
        updated = record.model_copy(update={"state": S.UNDECIDED, "evidence": evidence, "pending": None})
        self.alert(
            "alert.ownership_undecided",
            f"{action.why}: left as it is; a person settles it (reactivate or leave)",
            **describe_action(action),
            evidence=evidence.model_dump(mode="json"),
        )
        self.run.commit([updated])

    # --- not answered, or refused ---
    def unknown(
        self,
        views: list[SubscriptionView],
        verb: Verb,
        request_id: str,
        error: PartnerCenterError | None = None,
        *,
        why: str = "no answer from Partner Center: a read will settle it",
    ) -> None:
        """Our PATCH went out and its outcome is not known: unknown until a read shows it settled."""
        pending = PendingCall(verb=verb, request_id=request_id, sent_at=self._now())
        updated = [r.model_copy(update={"state": S.UNKNOWN, "pending": pending}) for r in self._ours(views)]
        self.run.audit(
            f"reconcile.{verb.value}_unknown",
            why,
            subscription_ids=[r.subscription_id for r in updated],
            request_id=request_id,
            **(error.describe() if error else {}),
        )
        self.run.commit(updated)

    def refused(
        self, views: list[SubscriptionView], verb: Verb, error: PartnerCenterError, *, kind: str = ""
    ) -> None:
        """Partner Center will not make this change: recorded on the subscription (and the add-ons
        that follow it), alerted once, not retried; the other subscriptions carry on."""
        classification = error.classification
        refusal = Refusal(
            verb=verb,
            kind=kind or classification.kind.value,
            http_status=error.status,
            code=None if error.error_code is None else str(error.error_code),
            description=(error.description or str(error))[:1000] + f" ({classification.meaning})"[:100],
            at=self._now(),
        )
        updated = [
            r.model_copy(update={"state": S.REFUSED, "refusal": refusal, "pending": None, "waiting": None})
            for r in self._ours(views)
        ]
        alert = (
            "alert.partner_center_unrecognised_error"
            if classification.kind is ErrorKind.UNRECOGNISED
            else "alert.subscription_refused"
        )
        self.alert(
            alert,
            f"{verb.value} refused by Partner Center: {refusal.description}",
            subscription_ids=[r.subscription_id for r in updated],
            **error.describe(),
        )
        self.run.commit(updated)

    def waiting(
        self, views: list[SubscriptionView], verb: Verb, error: PartnerCenterError, delay: float
    ) -> float | None:
        """ "Try later": recorded with its start; returns the delay, or None once the budget since
        the first "try later" is spent (then it counts as refused)."""
        now = self._now()
        ours = self._ours(views)
        if not ours:
            return delay
        classification = error.classification
        previous = ours[0].waiting
        since = previous.since if previous and previous.verb is verb else now
        budget = float(classification.budget_seconds or 0)
        if now - since >= timedelta(seconds=budget):
            self.refused(views, verb, error, kind="gave_up")
            return None
        waiting = Waiting(
            verb=verb,
            code=None if error.error_code is None else str(error.error_code),
            description=(error.description or classification.meaning)[:1000],
            since=since,
            delay_seconds=delay,
            budget_seconds=budget,
        )
        state = S.WAITING if verb is Verb.SUSPEND else None
        updated = [
            r.model_copy(update={"waiting": waiting, **({"state": state} if state else {})}) for r in ours
        ]
        self.run.audit(
            f"reconcile.{verb.value}_waiting",
            f"Partner Center: try later ({classification.meaning})",
            subscription_ids=[r.subscription_id for r in updated],
            delay_seconds=delay,
            waiting_since=since.isoformat(),
            **error.describe(),
        )
        self.run.commit(updated)
        return delay

    def not_applied(
        self, intents: list[SuspensionRecord], previous: dict[str, SuspensionRecord | None], why: str
    ) -> None:
        """A fresh intent whose PATCH Partner Center did not take (throttled, token refused, gone):
        the record goes back to what it was, so the intent can never pass for ours."""
        restored = []
        for intent in intents:
            before = previous.get(intent.subscription_id)
            restored.append(
                before
                if before is not None
                else intent.model_copy(update={"state": S.RELEASED, "released_reason": why[:300]})
            )
        self.run.audit(
            "reconcile.suspension_not_applied", why, subscription_ids=[r.subscription_id for r in intents]
        )
        self.run.commit(restored)
