"""Queue trigger: deliver one customer notice (e-mail through the SMTP relay, the signed webhook,
a copy in the outbox table); the use case is shared/services/collections/notices.py."""

from __future__ import annotations

import logging
from typing import Any

import azure.functions as func

from functions import entry_point
from functions.queue_support import message_body, queue_trigger

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("notice_sender")
@queue_trigger(bp, arg_name="msg", queue_setting="NOTICE_QUEUE_NAME")
@entry_point
def notice_sender(msg: Any) -> None:
    """A malformed message is logged and dropped (redelivery cannot fix it)."""
    from pydantic import ValidationError

    from shared import wiring
    from shared.services.collections.notices import handle_notice
    from shared.services.collections.outbox import NoticeMessage

    try:
        message = NoticeMessage.model_validate_json(message_body(msg))
    except ValidationError:
        log.error("notice message malformed: dropped")
        return
    handle_notice(wiring.collections(), message)
