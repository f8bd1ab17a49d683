"""The customer partition repository: read a whole customer in one query, write it in one
entity-group transaction guarded by ETags, with its audit entries in the same transaction."""

from __future__ import annotations

import functools
import threading
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, HttpUrl, create_model

from shared.adapters.audit import AuditEntry, AuditHead, AuditLog, HeadRef
from shared.adapters.layout import (
    AUDIT_HEAD_ROW,
    AUDIT_PREFIX,
    CREDIT_ROW,
    CUSTOMERS_TABLE,
    EXEMPTION_PREFIX,
    EXPOSURE_ROW,
    HOLD_PREFIX,
    INVOICE_PREFIX,
    NOTICE_PREFIX,
    PAYMENT_PREFIX,
    PROFILE_ROW,
    SHADOW_ROW,
    STATE_ROW,
    SUBSCRIPTION_PREFIX,
    USAGE_ROW,
)
from shared.adapters.lists import CustomerRows, ListIndex
from shared.adapters.tables import ConcurrencyConflict, Stored, Table, TableStore, Transaction, decode
from shared.domain.anomaly import UsageHistory
from shared.domain.collections import CollectionsState, NoticeContent
from shared.domain.credit import CreditState
from shared.domain.customer import Exemption, StoredProfile
from shared.domain.exposure import Exposure
from shared.domain.holds import Hold
from shared.domain.ledger import Invoice, Payment
from shared.domain.suspensions import SuspensionRecord

# Rows a ledger change may write besides the state row, the audit head and a few audit entries.
MAX_ROWS_PER_CHANGE = 90


def _is_text_stored(annotation: Any) -> bool:
    """Dates and URLs: the table adapter stores neither, so they are kept as text."""
    args = typing.get_args(annotation)
    if annotation is date or (date in args and datetime not in args):
        return True
    return annotation is HttpUrl or HttpUrl in args


@functools.cache
def _storage_model(model_type: type[BaseModel]) -> type[BaseModel]:
    """`model_type` with its date and URL fields typed as text: the table adapter stores
    datetimes and text, not those; reading validates the text back into a date or URL."""
    fields: dict[str, Any] = {}
    for name, info in model_type.model_fields.items():
        if _is_text_stored(info.annotation):
            fields[name] = (str | None, None)
    if not fields:
        return model_type
    return create_model(f"{model_type.__name__}Row", __base__=model_type, **fields)


def storable(model: BaseModel) -> BaseModel:
    """The model as the table adapter can store it (dates as ISO text)."""
    storage = _storage_model(type(model))
    if storage is type(model):
        return model
    data = {name: getattr(model, name) for name in type(model).model_fields}
    for name, value in data.items():
        if isinstance(value, date) and not isinstance(value, datetime):
            data[name] = value.isoformat()
        elif isinstance(value, HttpUrl):
            data[name] = str(value)
    return storage.model_construct(**data)


class OutboxItem(BaseModel):
    """A message decided in a committed transaction and not yet known to be published."""

    kind: Literal["reconcile", "notice"]
    message_id: str
    reason: str
    correlation_id: str
    notice_id: str | None = None
    # When the item was committed (or last claimed by a recovering scan). Until OUTBOX_GRACE has
    # passed, the writer that committed it is presumed to be publishing it: others leave it alone.
    staged_at: datetime | None = None


class CollectionsRecord(BaseModel):
    """The `state` row: the evaluation's state plus what the app needs to carry it out safely."""

    state: CollectionsState = Field(default_factory=CollectionsState)
    revision: int = 0  # bumped by every commit that decides actions; names reconcile messages
    next_review_at: datetime | None = None
    outbox: list[OutboxItem] = Field(default_factory=list)
    held_back_batch: str | None = None  # suspension waiting for approval in this batch
    updated_at: datetime | None = None


class ShadowNotice(BaseModel):
    """A notice dry run would have sent (nothing is sent)."""

    notice_id: str
    stage: str
    kind: str  # send_notice | notify_staff
    decided_at: datetime
    suspension_date: date | None = None


class ShadowRecord(BaseModel):
    """Row `shadow`: in dry run, the collections state enforce would have, kept apart from the
    real `state` row and never copied into it. `epoch` is the dry-run period it belongs to
    (the mode row's); a shadow of an older period starts again from the real state."""

    epoch: int
    state: CollectionsState = Field(default_factory=CollectionsState)
    hold_placed_at: datetime | None = None  # the would-be non_payment hold
    notices: list[ShadowNotice] = Field(default_factory=list)  # of the current episode
    next_review_at: datetime | None = None
    # Whether enforce must look at this customer at once when it starts (an open episode, real
    # or would-be, or a non_payment hold): the switch brings its review forward.
    review_on_switch: bool = False
    updated_at: datetime | None = None


class NoticeRecord(BaseModel):
    """Row `notice:{episode}:{stage}`: one notice per stage per overdue episode."""

    notice_id: str
    stage: str
    episode_id: str
    content: NoticeContent
    created_at: datetime
    correlation_id: str
    audience: Literal["customer", "staff"] = "customer"
    delivered: bool = False
    claimed_at: datetime | None = None  # a sender is delivering it (a lease, see notices service)
    delivered_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    webhook_delivered: bool = False
    outbox_written: bool = False
    # Per channel, what the last attempt got: accepted | deferred | refused | skipped (e-mail,
    # with the SMTP server's reply) and accepted | failed | skipped (webhook, with the status).
    email_status: str | None = None
    email_reply: str | None = None
    email_recipients: list[str] = Field(default_factory=list)
    webhook_status: str | None = None
    webhook_reply: str | None = None
    complete: bool = False  # every channel there is took it: nothing left to retry
    suspension_date_moved_from: date | None = None  # a late warning names a later date


@dataclass
class CustomerAggregate:
    """Everything stored about one customer (but its audit entries), with ETags."""

    customer_id: str
    profile: Stored[StoredProfile] | None = None
    record: Stored[CollectionsRecord] | None = None
    shadow: Stored[ShadowRecord] | None = None
    exposure: Stored[Exposure] | None = None
    credit: Stored[CreditState] | None = None
    usage: Stored[UsageHistory] | None = None
    invoices: dict[str, Stored[Invoice]] = field(default_factory=dict)
    payments: dict[str, Stored[Payment]] = field(default_factory=dict)
    holds: dict[str, Stored[Hold]] = field(default_factory=dict)
    exemptions: dict[str, Stored[Exemption]] = field(default_factory=dict)
    notices: dict[str, Stored[NoticeRecord]] = field(default_factory=dict)
    subscriptions: dict[str, Stored[SuspensionRecord]] = field(default_factory=dict)
    audit_head: HeadRef = field(default_factory=lambda: HeadRef(AuditHead(), None))
    rows_read: int = 0
    loaded: CustomerRows | None = None  # as read (what the list indexes say now), for the index

    @property
    def exists(self) -> bool:
        return self.profile is not None

    def rows(self) -> CustomerRows:
        """What the list indexes are computed from, as held in memory now."""
        record = self.record.value if self.record else None
        return CustomerRows(
            customer_id=self.customer_id,
            profile=self.profile.value if self.profile else None,
            stage=record.state.stage.value if record else CustomerRows.stage,
            held_back_batch=record.held_back_batch if record else None,
            invoices=[s.value for s in self.invoices.values()],
            payments=[s.value for s in self.payments.values()],
            holds=[s.value for s in self.holds.values()],
            exemptions=[s.value for s in self.exemptions.values()],
            exposure=self.exposure.value if self.exposure else None,
            credit=self.credit.value if self.credit else None,
        )

    @property
    def collections(self) -> CollectionsRecord:
        return self.record.value if self.record else CollectionsRecord()


_PREFIXES: list[tuple[str, str, type[BaseModel]]] = [
    (INVOICE_PREFIX, "invoices", Invoice),
    (PAYMENT_PREFIX, "payments", Payment),
    (HOLD_PREFIX, "holds", Hold),
    (EXEMPTION_PREFIX, "exemptions", Exemption),
    (NOTICE_PREFIX, "notices", NoticeRecord),
    (SUBSCRIPTION_PREFIX, "subscriptions", SuspensionRecord),
]


class CustomerChange:
    """One transaction on a customer's partition; `commit` adds the audit entries and submits."""

    def __init__(self, repo: CustomerRepository, aggregate: CustomerAggregate) -> None:
        self.repo = repo
        self.aggregate = aggregate
        self.tx: Transaction = repo.table.transaction(aggregate.customer_id)
        self.entries: list[AuditEntry] = []
        self.staged: dict[str, BaseModel | None] = {}  # row key -> what it will hold (None: gone)

    def put(self, model: BaseModel, row_key: str, etag: str | None) -> None:
        """Create the row (etag None: must not exist) or replace it under its ETag."""
        self.staged[row_key] = model
        if etag is None:
            self.tx.create(storable(model), row_key)
        else:
            self.tx.update(storable(model), row_key, etag)

    def put_record(self, record: CollectionsRecord) -> None:
        current = self.aggregate.record
        self.put(record, STATE_ROW, current.etag if current else None)

    def delete(self, row_key: str, etag: str) -> None:
        self.staged[row_key] = None
        self.tx.delete(row_key, etag)

    def audit(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    @property
    def operations(self) -> int:
        return len(self.tx) + len(self.entries) + 1

    def commit(self) -> dict[str, str]:
        """Submit everything at once; ConcurrencyConflict if any row changed since it was read.

        The list indexes are written first and confirmed after (see `shared/adapters/lists.py`)."""
        if self.entries:
            self.repo.audit_log.stage(self.tx, self.aggregate.audit_head, self.entries)
        lists = self.repo.lists
        intent = lists.before_change(self.aggregate.loaded, self.after()) if lists and len(self.tx) else None
        etags = self.tx.submit()
        if lists is not None and intent is not None:
            lists.after_change(intent)
        return etags

    def after(self) -> CustomerRows:
        """The customer as it will be once this change is committed."""
        rows = self.aggregate.rows()
        by_prefix: dict[str, dict[str, Any]] = {
            INVOICE_PREFIX: {i.invoice_id: i for i in rows.invoices},
            PAYMENT_PREFIX: {p.payment_id: p for p in rows.payments},
            HOLD_PREFIX: {h.hold_id: h for h in rows.holds},
            EXEMPTION_PREFIX: {e.exemption_id: e for e in rows.exemptions},
        }
        for row_key, model in self.staged.items():
            if row_key == PROFILE_ROW:
                rows.profile = model if isinstance(model, StoredProfile) else rows.profile
            elif row_key == STATE_ROW and isinstance(model, CollectionsRecord):
                rows.stage, rows.held_back_batch = model.state.stage.value, model.held_back_batch
            elif row_key == EXPOSURE_ROW and isinstance(model, Exposure):
                rows.exposure = model
            elif row_key == CREDIT_ROW and isinstance(model, CreditState):
                rows.credit = model
            for prefix, found in by_prefix.items():
                if row_key.startswith(prefix):
                    if model is None:
                        found.pop(row_key[len(prefix) :], None)
                    else:
                        found[row_key[len(prefix) :]] = model
        rows.invoices = list(by_prefix[INVOICE_PREFIX].values())
        rows.payments = list(by_prefix[PAYMENT_PREFIX].values())
        rows.holds = list(by_prefix[HOLD_PREFIX].values())
        rows.exemptions = list(by_prefix[EXEMPTION_PREFIX].values())
        return rows


class CustomerRepository:
    """Reads and writes customer partitions; counts what it reads (for the benchmark)."""

    def __init__(self, table: Table, lists: ListIndex | None = None) -> None:
        self.table = table
        self.lists = lists  # the staff lists' indexes (None: not kept, e.g. in a benchmark's floor)
        self.audit_log = AuditLog(table)
        self.rows_read = 0
        self.partitions_read = 0
        self._lock = threading.Lock()

    @classmethod
    def of(cls, store: TableStore) -> CustomerRepository:
        return cls(store.table(CUSTOMERS_TABLE), ListIndex.of(store))

    def load(self, customer_id: str) -> CustomerAggregate:
        """The whole customer in ONE partition query (audit entries excluded, the head included)."""
        aggregate = CustomerAggregate(customer_id=customer_id)
        entities = self.table.query(
            "PartitionKey eq @pk and ( RowKey lt @audit_low or RowKey ge @audit_high )",
            {"pk": customer_id, "audit_low": AUDIT_PREFIX, "audit_high": AUDIT_PREFIX[:-1] + ";"},
        )
        for entity in entities:
            aggregate.rows_read += 1
            self._place(aggregate, entity)
        aggregate.loaded = aggregate.rows()
        with self._lock:
            self.rows_read += aggregate.rows_read
            self.partitions_read += 1
        return aggregate

    @staticmethod
    def _place(aggregate: CustomerAggregate, entity: Any) -> None:
        row_key = str(entity["RowKey"])
        if row_key == PROFILE_ROW:
            aggregate.profile = decode(StoredProfile, entity)
        elif row_key == STATE_ROW:
            aggregate.record = decode(CollectionsRecord, entity)
        elif row_key == SHADOW_ROW:
            aggregate.shadow = decode(ShadowRecord, entity)
        elif row_key == EXPOSURE_ROW:
            aggregate.exposure = decode(Exposure, entity)
        elif row_key == CREDIT_ROW:
            aggregate.credit = decode(CreditState, entity)
        elif row_key == USAGE_ROW:
            aggregate.usage = decode(UsageHistory, entity)
        elif row_key == AUDIT_HEAD_ROW:
            head = decode(AuditHead, entity)
            aggregate.audit_head = HeadRef(head.value, head.etag)
        else:
            for prefix, attribute, model in _PREFIXES:
                if row_key.startswith(prefix):
                    getattr(aggregate, attribute)[row_key[len(prefix) :]] = decode(model, entity)
                    return

    def change(self, aggregate: CustomerAggregate) -> CustomerChange:
        return CustomerChange(self, aggregate)

    def get_notice(self, customer_id: str, notice_id: str) -> Stored[NoticeRecord] | None:
        return self.table.get(NoticeRecord, customer_id, NOTICE_PREFIX + notice_id)

    def update_notice(self, customer_id: str, notice: NoticeRecord, etag: str) -> str:
        return self.table.update(notice, customer_id, NOTICE_PREFIX + notice.notice_id, etag)

    def get_record(self, customer_id: str) -> Stored[CollectionsRecord] | None:
        return self.table.get(CollectionsRecord, customer_id, STATE_ROW)

    def update_record(self, customer_id: str, record: CollectionsRecord, etag: str) -> str:
        return self.table.update(record, customer_id, STATE_ROW, etag)


__all__ = [
    "MAX_ROWS_PER_CHANGE",
    "CollectionsRecord",
    "ConcurrencyConflict",
    "CustomerAggregate",
    "CustomerChange",
    "CustomerRepository",
    "NoticeRecord",
    "OutboxItem",
    "ShadowNotice",
    "ShadowRecord",
]
