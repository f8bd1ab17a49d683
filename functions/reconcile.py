"""Queue trigger: `reconcile customer X` -> the reconcile executor (shared/services/reconcile/)."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from functions import entry_point
from functions.queue_support import delivery_count, message_body, queue_trigger

bp = func.Blueprint()


@bp.function_name("reconcile")
@queue_trigger(bp, arg_name="msg", queue_setting="RECONCILE_QUEUE_NAME")
@entry_point
def reconcile(msg: Any) -> None:
    """Converge one customer; an unexpected error raises so the host redelivers (then poison)."""
    from shared import wiring
    from shared.services.reconcile.handler import handle_reconcile_message

    handle_reconcile_message(wiring.reconcile(), message_body(msg), delivery_count(msg))
