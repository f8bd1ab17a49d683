"""The credit watch list: customers whose exposure is at or over the credit alert threshold,
those at the limit first, then by the share of the limit they use (one index page per request)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.adapters.lists import CREDIT_WATCH, CreditWatchEntry
from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.errors import ValidationFailed
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.lists import MAX_PAGE, checked_entries, list_index


class CreditWatchPage(BaseModel):
    items: list[CreditWatchEntry]
    continuation_token: str | None


def list_credit_watch(
    deps: CollectionsDeps,
    *,
    level: str | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> CreditWatchPage:
    """Customers at the limit (`level=limit`), near it (`threshold`), or both (default)."""
    if level is not None and level not in ("threshold", "limit"):
        raise ValidationFailed(
            "level must be threshold or limit",
            errors=[{"field": "level", "message": "threshold or limit"}],
        )
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")
    query = "PartitionKey eq @pk"
    params: dict[str, Any] = {"pk": CREDIT_WATCH}
    if level == "limit":
        query, params["high"] = query + " and RowKey lt @high", "1"
    elif level == "threshold":
        query, params["low"] = query + " and RowKey ge @low", "1"
    filters = fingerprint(list="credit_watch", level=level)
    raw, resume = list_index(deps).table.page(query, params, limit, decode_token(continuation_token, filters))
    items = [e for e in checked_entries(deps, CREDIT_WATCH, raw) if level is None or e.level == level]
    return CreditWatchPage(items=items, continuation_token=encode_token(resume, filters))
