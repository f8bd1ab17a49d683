"""The suspension batches held back by the cap, as staff see them: the list (pending or
released, by batch id: the scan's time first) and one batch with its members and why each
suspension was due, paged. Reads only; the rows are those `approvals` writes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.adapters.layout import PARTNER_PARTITION
from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.adapters.tables import decode
from shared.errors import BadRequest, NotFound
from shared.services.collections.approvals import (
    BATCH_PREFIX,
    MEMBER_PREFIX,
    BatchMember,
    BatchStatus,
    SuspensionBatch,
    valid_batch_id,
)
from shared.services.collections.deps import CollectionsDeps

MAX_PAGE = 100


class BatchSummary(BaseModel):
    batch_id: str
    created_at: datetime
    status: BatchStatus
    policy_version: str
    released_at: datetime | None
    released_by: str | None
    release_requested_by: str | None


class BatchPage(BaseModel):
    items: list[BatchSummary]
    continuation_token: str | None


class BatchDetail(BaseModel):
    """One batch and a page of its members (each with why its suspension was due, and what
    the release did for it)."""

    batch: BatchSummary
    members: list[BatchMember]
    continuation_token: str | None


def _summary(batch: SuspensionBatch) -> BatchSummary:
    return BatchSummary(**batch.model_dump(include=set(BatchSummary.model_fields)))


def list_batches(
    deps: CollectionsDeps,
    *,
    status: str | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> BatchPage:
    """A page of batches (by id), pending or released when asked."""
    try:
        wanted = BatchStatus(status) if status else None
    except ValueError:
        raise BadRequest("status must be pending or released") from None
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    query = "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high"
    params: dict[str, object] = {
        "pk": PARTNER_PARTITION,
        "low": BATCH_PREFIX,
        "high": BATCH_PREFIX[:-1] + ";",
    }
    if wanted is not None:
        query += " and status eq @status"
        params["status"] = wanted.value
    filters = fingerprint(list="batches", status=status)
    table = deps.customers.table
    raw, resume = table.page(query, params, limit, decode_token(continuation_token, filters))
    items = [_summary(decode(SuspensionBatch, e).value) for e in raw]
    return BatchPage(items=items, continuation_token=encode_token(resume, filters))


def batch_detail(
    deps: CollectionsDeps, batch_id: str, *, limit: int = 50, continuation_token: str | None = None
) -> BatchDetail:
    """The batch and a page of its members, by customer id."""
    batch_id = valid_batch_id(batch_id)
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    table = deps.customers.table
    stored = table.get(SuspensionBatch, PARTNER_PARTITION, BATCH_PREFIX + batch_id)
    if stored is None:
        raise NotFound(f"no suspension batch {batch_id!r}")
    prefix = f"{MEMBER_PREFIX}{batch_id}:"
    query = "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high"
    params = {"pk": PARTNER_PARTITION, "low": prefix, "high": prefix[:-1] + ";"}
    filters = fingerprint(list="batch-members", batch_id=batch_id)
    raw, resume = table.page(query, params, limit, decode_token(continuation_token, filters))
    members = [decode(BatchMember, e).value for e in raw]
    return BatchDetail(
        batch=_summary(stored.value), members=members, continuation_token=encode_token(resume, filters)
    )
