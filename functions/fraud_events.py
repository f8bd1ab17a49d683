"""Timer: the Partner Center fraud events poll (shared/services/fraud/pc_events.py).

Always registered, so turning it on is one app setting (FRAUD_EVENTS_ENABLED=true) and no
redeploy; while off, each run logs that it is off and returns without calling Partner Center.
Every run, on or off, first places the holds that fraud cases decided but never got (an intake
interrupted between its case write and its hold): see shared/services/fraud/repair.py.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions import entry_point

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("fraud_events_poll")
@bp.timer_trigger(arg_name="timer", schedule="%FRAUD_EVENTS_SCHEDULE%", run_on_startup=False)
@entry_point
def fraud_events_poll(timer: func.TimerRequest) -> None:
    """Active Partner Center fraud events -> cases; resolved cases -> event statuses."""
    from shared import wiring
    from shared.services.fraud.pc_events import poll_fraud_events
    from shared.services.fraud.repair import repair_holds

    fraud = wiring.fraud()
    repaired = repair_holds(fraud)
    if repaired:
        log.warning("fraud holds repaired", extra={"holds_placed": repaired})
    if not fraud.settings.fraud_events_enabled:
        log.info("fraud events poll is off (FRAUD_EVENTS_ENABLED=false)")
        return
    result = poll_fraud_events(fraud, wiring.partner_center())
    log.info(
        "fraud events poll done",
        extra={
            "events_read": result.events_read,
            "cases_opened": result.cases_opened,
            "cases_joined": result.cases_joined,
            "failures": len(result.failures),
        },
    )
