"""The reconcile executor's entry point: bring one customer's subscriptions at Partner Center to
what its holds say (principles 1 and 2), safely under throttling, faults, duplicates and crashes.

A message only says "reconcile customer X". Under a per-customer lease the executor reads the
holds, our suspension records and Partner Center, plans (`plan_reconcile`), and acts. Before a
suspension it writes an intent record, so a crash after the PATCH still shows the suspension was
ours. Throttling, renewal-window conflicts and transient failures reschedule a new message;
anything else raises (redelivery, then the poison queue, with an alert on the last delivery).
"""

from __future__ import annotations

import logging

from pydantic import TypeAdapter

from shared.domain.customer import CustomerId
from shared.domain.messages import ReconcileRequest
from shared.services.reconcile.common import ReconcileDeps, ReconcileResult, record_alert
from shared.services.reconcile.executor import Executor
from shared.telemetry import metric

log = logging.getLogger(__name__)

_customer_id = TypeAdapter(CustomerId)


def handle_reconcile_message(deps: ReconcileDeps, body: bytes | str, delivery_count: int) -> ReconcileResult:
    """Queue entry point: parse, reconcile; on an unexpected error raise (the host redelivers),
    recording an alert first when this was the last delivery before the poison queue."""
    request: ReconcileRequest | None = None
    try:
        request = ReconcileRequest.model_validate_json(body)
        request = request.model_copy(
            update={"customer_id": _customer_id.validate_python(request.customer_id)}
        )
        return reconcile_customer(request, deps)
    except Exception as exc:
        if delivery_count >= deps.settings.reconcile_max_deliveries:
            record_alert(
                deps,
                request,
                f"reconcile failed on delivery {delivery_count}: {type(exc).__name__}; the message "
                "goes to the poison queue",
                alert_kind="poison_message",
            )
        raise


def reconcile_customer(request: ReconcileRequest, deps: ReconcileDeps) -> ReconcileResult:
    """Converge one customer; returns what happened (rescheduling is done here, not raised)."""
    result = Executor(request, deps).run()
    metric("reconcile.outcome", 1, outcome=result.outcome.value)
    if result.patches:
        metric("reconcile.patches", result.patches)
    log.info(
        "reconcile finished",
        extra={
            "customer_id": request.customer_id,
            "outcome": result.outcome.value,
            "patches": result.patches,
        },
    )
    return result
