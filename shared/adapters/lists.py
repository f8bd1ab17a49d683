"""The indexes the staff lists read (table `lists`): customers by id and by name, open holds,
exemptions by end date. A page of a list is one query of one index partition: O(page).

The rows live in other partitions than the customer they describe, so they cannot share its
transaction. They are written FIRST and confirmed AFTER, and a reader trusts only confirmed rows:
1. before a customer's transaction, every index row whose content the change alters is written
   `pending` with its new content, and every row the change removes is rewritten `pending`;
2. the customer's transaction (ETag-guarded, as always);
3. each row written in 1 is confirmed (`pending` off) or deleted, each under the ETag step 1 got:
   a row someone touched since stays pending.
A confirmed row therefore describes the customer as last committed: any later change that
alters it makes it pending before that change commits. A pending row (a writer in flight, or one
that crashed) is verified on read against the customer itself, and a reader that finds one older
than `SETTLE_GRACE` settles it: confirmed if it matches the customer, deleted if not (under the
ETag it read). Rows describe what time does not change (open amounts and their due dates, not
"overdue"): readers compute what depends on today.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from pydantic import BaseModel

from shared.adapters.tables import ConcurrencyConflict, Table, TableStore, check_key, decode
from shared.clock import PROCESS_CLOCK, Clock
from shared.domain.credit import CreditState
from shared.domain.customer import Exemption, StoredProfile
from shared.domain.exposure import Exposure
from shared.domain.holds import Hold, HoldReason
from shared.domain.ledger import Invoice, InvoiceStatus, LedgerError, Payment, allocate, ledger_currency
from shared.domain.money import DEFAULT_CURRENCY
from shared.domain.policy import Stage

LISTS_TABLE = "lists"
CUSTOMERS_BY_ID = "cust:id"
CUSTOMERS_BY_NAME = "cust:name"
OPEN_HOLDS = "hold:open"
EXEMPTIONS_BY_END = "exempt:until"
CREDIT_WATCH = "credit:watch"  # customers at or over the credit alert threshold, limit first
SETTLE_GRACE = timedelta(minutes=10)
MAX_OPEN_ITEMS = 400  # due dates kept per customer (open amounts grouped by due date)
NAME_KEY_CHARS = 100
_KEY_UNSAFE = {"/", "\\", "#", "?"}

Key = tuple[str, str]  # (PartitionKey, RowKey)


class OpenItem(BaseModel):
    """Money still owed on open invoices falling due on one date."""

    due: str  # ISO date
    amount: str  # decimal text, in the customer's currency


class CustomerEntry(BaseModel):
    """A customer as the customer list shows and filters it."""

    customer_id: str
    name: str
    segment: str
    locale: str
    currency: str
    protected: bool
    stage: str
    held: bool
    hold_non_payment: bool
    hold_fraud: bool
    hold_manual: bool
    open_balance: str
    open_minor: int  # floor(open balance x 100): a prefilter Table storage can compare
    disputed_balance: str
    credit_balance: str
    open_items: list[OpenItem]
    open_items_complete: bool = True
    held_back_batch: str | None = None
    exemptions: list[str] = []  # "kind:until"
    hold_credit_limit: bool = False
    exposure: str | None = None  # "123.45 CNY": the last exposure refresh's total
    exposure_as_of: datetime | None = None
    credit_limit: str | None = None  # the limit that applies (the profile's or its segment's)
    credit_level: str = "none"  # none | threshold | limit
    used_percent: str | None = None


class CreditWatchEntry(BaseModel):
    """A customer at or over the credit alert threshold (the credit watch list)."""

    customer_id: str
    customer_name: str
    segment: str
    level: str  # threshold | limit
    exposure: str
    credit_limit: str
    used_percent: str | None
    as_of: datetime
    held: bool  # a credit_limit hold is in place


class HoldEntry(BaseModel):
    """An active hold, for the open-holds list."""

    customer_id: str
    customer_name: str | None = None
    hold_id: str
    reason: str
    placed_at: datetime
    placed_by: str
    placed_by_id: str | None = None
    note: str
    source_ref: str | None = None


class ExemptionEntry(BaseModel):
    """An exemption, for the list of exemptions by the day they end."""

    customer_id: str
    customer_name: str | None = None
    exemption_id: str
    kind: str
    until: str  # ISO date
    reason: str
    created_by: str
    created_by_id: str | None = None
    approved_by: str | None = None
    change_id: str | None = None


class _State(BaseModel):
    pending: bool
    written_at: datetime


class CustomerRow(CustomerEntry, _State):
    pass


class HoldRow(HoldEntry, _State):
    pass


class ExemptionRow(ExemptionEntry, _State):
    pass


class CreditWatchRow(CreditWatchEntry, _State):
    pass


ROW_MODELS: dict[str, type[_State]] = {
    CUSTOMERS_BY_ID: CustomerRow,
    CUSTOMERS_BY_NAME: CustomerRow,
    OPEN_HOLDS: HoldRow,
    EXEMPTIONS_BY_END: ExemptionRow,
    CREDIT_WATCH: CreditWatchRow,
}
ENTRY_MODELS: dict[str, type[BaseModel]] = {
    CUSTOMERS_BY_ID: CustomerEntry,
    CUSTOMERS_BY_NAME: CustomerEntry,
    OPEN_HOLDS: HoldEntry,
    EXEMPTIONS_BY_END: ExemptionEntry,
    CREDIT_WATCH: CreditWatchEntry,
}


@dataclass
class CustomerRows:
    """What the index is computed from: the customer's profile, stage and ledger rows."""

    customer_id: str
    profile: StoredProfile | None = None
    stage: str = Stage.CURRENT.value
    held_back_batch: str | None = None
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    exemptions: list[Exemption] = field(default_factory=list)
    exposure: Exposure | None = None
    credit: CreditState | None = None


def name_key(text: str) -> str:
    """A name as the index sorts and searches it: NFKC, case-folded, one space between words,
    without the characters Table storage refuses in keys."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    cleaned = "".join(" " if (c in _KEY_UNSAFE or not c.isprintable()) else c for c in folded)
    return " ".join(cleaned.split())[:NAME_KEY_CHARS]


def _minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(ROUND_FLOOR))


def customer_entry(rows: CustomerRows) -> CustomerEntry | None:
    """The customer list's entry (None without a profile: not a customer yet)."""
    profile = rows.profile
    if profile is None:
        return None
    default = profile.credit_limit.currency if profile.credit_limit else DEFAULT_CURRENCY
    try:
        currency = ledger_currency(rows.invoices, rows.payments, default)
        allocation = allocate(rows.invoices, rows.payments, currency=currency)
    except LedgerError:  # a ledger the app refuses to hold; shown without amounts
        currency, allocation = default, None
    owed_by_due: dict[date, Decimal] = {}
    open_total = disputed = Decimal(0)
    for invoice in rows.invoices if allocation else []:
        assert allocation is not None
        owed = allocation.due(invoice)
        if owed <= 0:
            continue
        if invoice.status is InvoiceStatus.DISPUTED:
            disputed += owed
            continue
        open_total += owed
        owed_by_due[invoice.due_date] = owed_by_due.get(invoice.due_date, Decimal(0)) + owed
    items = [OpenItem(due=d.isoformat(), amount=str(a)) for d, a in sorted(owed_by_due.items())]
    reasons = {h.reason for h in rows.holds}
    return CustomerEntry(
        customer_id=rows.customer_id,
        name=profile.name,
        segment=profile.segment,
        locale=profile.locale.value,
        currency=currency,
        protected=profile.protected,
        stage=rows.stage,
        held=bool(reasons),
        hold_non_payment=HoldReason.NON_PAYMENT in reasons,
        hold_fraud=HoldReason.FRAUD in reasons,
        hold_manual=HoldReason.MANUAL in reasons,
        hold_credit_limit=HoldReason.CREDIT_LIMIT in reasons,
        **_credit_fields(rows),
        open_balance=str(open_total),
        open_minor=_minor(open_total),
        disputed_balance=str(disputed),
        credit_balance=str(allocation.credit if allocation else Decimal(0)),
        open_items=items[:MAX_OPEN_ITEMS],
        open_items_complete=len(items) <= MAX_OPEN_ITEMS,
        held_back_batch=rows.held_back_batch,
        exemptions=sorted(f"{e.kind.value}:{e.until.isoformat()}" for e in rows.exemptions),
    )


def _credit_fields(rows: CustomerRows) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if rows.exposure is not None:
        fields["exposure"] = rows.exposure.total.to_text()
        fields["exposure_as_of"] = rows.exposure.as_of
    credit = rows.credit
    if credit is not None and credit.limit is not None:
        fields["credit_limit"] = credit.limit.to_text()
        fields["credit_level"] = credit.level.value
        fields["used_percent"] = str(credit.used_percent) if credit.used_percent is not None else None
    return fields


def credit_watch_key(level: str, used_percent: Decimal | None, customer_id: str) -> str:
    """Limit before threshold, then the highest share of the limit first."""
    hundredths = int((used_percent or Decimal(0)) * 100)
    inverted = 10**9 - 1 - max(0, min(hundredths, 10**9 - 1))
    return f"{0 if level == 'limit' else 1}:{inverted:09d}:{customer_id}"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def entries(rows: CustomerRows) -> dict[Key, BaseModel]:
    """Every index row this customer should have, by key."""
    out: dict[Key, BaseModel] = {}
    name = rows.profile.name if rows.profile else None
    customer = customer_entry(rows)
    if customer is not None:
        out[(CUSTOMERS_BY_ID, rows.customer_id)] = customer
        out[(CUSTOMERS_BY_NAME, f"{name_key(customer.name) or '-'}|{rows.customer_id}")] = customer
    credit, exposure = rows.credit, rows.exposure
    if customer is not None and credit is not None and exposure is not None and credit.limit is not None:
        if credit.level.value in ("threshold", "limit"):
            key = (CREDIT_WATCH, credit_watch_key(credit.level.value, credit.used_percent, rows.customer_id))
            out[key] = CreditWatchEntry(
                customer_id=rows.customer_id,
                customer_name=customer.name,
                segment=customer.segment,
                level=credit.level.value,
                exposure=exposure.total.to_text(),
                credit_limit=credit.limit.to_text(),
                used_percent=str(credit.used_percent) if credit.used_percent is not None else None,
                as_of=exposure.as_of,
                held=customer.hold_credit_limit,
            )
    for hold in rows.holds:
        key = (OPEN_HOLDS, f"{_stamp(hold.placed_at)}:{rows.customer_id}:{hold.hold_id}")
        out[key] = HoldEntry(
            customer_id=rows.customer_id,
            customer_name=name,
            hold_id=hold.hold_id,
            reason=hold.reason.value,
            placed_at=hold.placed_at,
            placed_by=hold.placed_by,
            placed_by_id=hold.placed_by_id,
            note=hold.note[:200],
            source_ref=hold.source_ref,
        )
    for ex in rows.exemptions:
        key = (EXEMPTIONS_BY_END, f"{ex.until.isoformat()}:{rows.customer_id}:{ex.exemption_id}")
        out[key] = ExemptionEntry(
            customer_id=rows.customer_id,
            customer_name=name,
            exemption_id=ex.exemption_id,
            kind=ex.kind.value,
            until=ex.until.isoformat(),
            reason=ex.reason[:200],
            created_by=ex.created_by,
            created_by_id=ex.created_by_id,
            approved_by=ex.approved_by,
            change_id=ex.change_id,
        )
    return {k: v for k, v in out.items() if _storable_key(k[1])}


def _storable_key(row_key: str) -> bool:
    try:
        check_key(row_key, "RowKey")
    except ValueError:
        return False
    return True


def entry_of(partition: str, entity: Mapping[str, Any]) -> tuple[BaseModel, bool, datetime, str]:
    """(entry, pending, written_at, etag) of a raw index row (one validation: lists are hot)."""
    stored = decode(ENTRY_MODELS[partition], entity)
    written_at = entity.get("written_at")
    if isinstance(written_at, datetime):
        written_at = written_at.replace(tzinfo=UTC) if written_at.tzinfo is None else written_at
    else:
        written_at = datetime.min.replace(tzinfo=UTC)
    return stored.value, bool(entity.get("pending", True)), written_at, stored.etag


@dataclass
class Intent:
    """What step 1 wrote: rows to confirm and rows to delete in step 3, with their ETags."""

    confirm: dict[Key, tuple[str, BaseModel]] = field(default_factory=dict)
    delete: dict[Key, str] = field(default_factory=dict)


class ListIndex:
    """Writes the index around a customer's transaction, and settles rows for readers."""

    def __init__(self, table: Table, clock: Clock = PROCESS_CLOCK) -> None:
        self.table = table
        self.clock = clock
        self.writes = 0  # index round trips made by writers (for the benchmark)

    @classmethod
    def of(cls, store: TableStore) -> ListIndex:
        return cls(store.table(LISTS_TABLE))

    def _row(self, partition: str, entry: BaseModel, pending: bool) -> BaseModel:
        data = {**entry.model_dump(), "pending": pending, "written_at": self.clock.now()}
        return ROW_MODELS[partition].model_validate(data)

    def before_change(self, before: CustomerRows | None, after: CustomerRows) -> Intent:
        """Step 1 for one customer's change (`before`: as read; None for a new partition)."""
        return self.prepare(entries(before) if before else {}, entries(after))

    def prepare(self, before: Mapping[Key, BaseModel], after: Mapping[Key, BaseModel]) -> Intent:
        """Step 1: the rows the change alters or removes, written pending."""
        intent = Intent()
        for key, entry in after.items():
            if before.get(key) == entry:
                continue
            intent.confirm[key] = (self.table.upsert(self._row(key[0], entry, True), *key), entry)
            self.writes += 1
        for key, entry in before.items():
            if key in after:
                continue
            intent.delete[key] = self.table.upsert(self._row(key[0], entry, True), *key)
            self.writes += 1
        return intent

    def after_change(self, intent: Intent) -> None:
        """Step 3, after the customer's transaction: confirm what it wrote, drop what it removed."""
        for key, (etag, entry) in intent.confirm.items():
            self.confirm(key, entry, etag)
        for key, etag in intent.delete.items():
            self.drop(key, etag)

    def confirm(self, key: Key, entry: BaseModel, etag: str) -> None:
        try:
            self.table.update(self._row(key[0], entry, False), *key, etag=etag)
            self.writes += 1
        except ConcurrencyConflict:
            pass  # touched since: it stays pending (a reader verifies it)

    def drop(self, key: Key, etag: str) -> None:
        try:
            self.table.delete(*key, etag=etag)
            self.writes += 1
        except ConcurrencyConflict:
            pass

    def settleable(self, written_at: datetime) -> bool:
        """Whether a pending row is old enough for a reader to settle it (its writer is gone)."""
        return self.clock.now() - written_at >= SETTLE_GRACE


def rows_of(customer_id: str, models: Iterable[BaseModel]) -> CustomerRows:
    """CustomerRows from the models of a partition (in any order)."""
    rows = CustomerRows(customer_id)
    for model in models:
        if isinstance(model, StoredProfile):
            rows.profile = model
        elif isinstance(model, Invoice):
            rows.invoices.append(model)
        elif isinstance(model, Payment):
            rows.payments.append(model)
        elif isinstance(model, Hold):
            rows.holds.append(model)
        elif isinstance(model, Exemption):
            rows.exemptions.append(model)
    return rows
