"""Queue messages: pydantic models serialised as JSON."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ReconcileRequest(BaseModel):
    """`Reconcile customer X`: the executor reads the holds and Partner Center and converges.

    It says nothing about what to do, so duplicate, late and out-of-order messages are harmless.
    """

    model_config = ConfigDict(extra="ignore")

    customer_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=200)
    correlation_id: str = Field(min_length=1, max_length=100)
    requested_at: datetime
    attempt: int = Field(default=0, ge=0)


def derived_message_id(*parts: str) -> str:
    """A stable message id from its parts (for Service Bus duplicate detection)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:64]
