"""Timer: the daily drift sweep (shared/services/reconcile/drift.py)."""

from __future__ import annotations

import azure.functions as func

from functions import entry_point

bp = func.Blueprint()


@bp.function_name("drift_sweep")
@bp.timer_trigger(arg_name="timer", schedule="%DRIFT_SWEEP_SCHEDULE%", run_on_startup=False)
@entry_point
def drift_sweep(timer: func.TimerRequest) -> None:
    """Compare Partner Center with the holds; enqueue a reconcile where they differ."""
    from shared import wiring
    from shared.services.reconcile.drift import run_drift_sweep

    run_drift_sweep(wiring.reconcile())
