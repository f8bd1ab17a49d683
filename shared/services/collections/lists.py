"""The lists staff work from: customers (search and filters), open holds, exemptions by the day
they end. Each page is one query of one index partition (`shared/adapters/lists.py`), with
Table storage applying the filters it can; what depends on today (overdue balance, days past
due) is computed here from the open amounts and due dates the index keeps. A row still pending
(its writer in flight or gone) is checked against the customer itself before it is shown.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.adapters.lists import (
    CUSTOMERS_BY_ID,
    CUSTOMERS_BY_NAME,
    EXEMPTIONS_BY_END,
    OPEN_HOLDS,
    CustomerEntry,
    ExemptionEntry,
    HoldEntry,
    ListIndex,
    entries,
    entry_of,
    name_key,
)
from shared.adapters.paging import decode_token, encode_token, fingerprint
from shared.adapters.tables import prefix_range
from shared.domain.money import canonical
from shared.domain.policy import Stage
from shared.errors import ServiceUnavailable, ValidationFailed
from shared.services.collections.customer_view import valid_customer_id
from shared.services.collections.deps import CollectionsDeps

MAX_PAGE = 100


class HoldFilter(StrEnum):
    ANY = "any"  # at least one hold
    NONE = "none"  # no hold
    NON_PAYMENT = "non_payment"
    FRAUD = "fraud"
    MANUAL = "manual"
    CREDIT_LIMIT = "credit_limit"


class CustomerSort(StrEnum):
    ID = "id"
    NAME = "name"


class CustomerQuery(BaseModel):
    """Search and filters of `GET /api/customers` (all optional)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100, description="name prefix")
    id_prefix: str | None = Field(default=None, pattern=r"^[0-9a-fA-F-]{1,36}$")
    stage: Stage | None = None
    segment: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,50}$")
    hold: HoldFilter | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    overdue_min: Decimal | None = Field(default=None, ge=0, max_digits=20)
    overdue_max: Decimal | None = Field(default=None, ge=0, max_digits=20)
    sort: CustomerSort | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    continuation_token: str | None = None

    @field_validator("overdue_min", "overdue_max", mode="before")
    @classmethod
    def _plain_decimal(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,16}(\.[0-9]{1,4})?", value):
            raise ValueError("an amount like 1000 or 1000.50")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CustomerQuery:
        if (self.overdue_min is not None or self.overdue_max is not None) and self.currency is None:
            raise ValueError("overdue_min and overdue_max compare amounts in one currency: give currency too")
        if self.name is not None and self.id_prefix is not None:
            raise ValueError("search by name or by id_prefix, not both")
        if self.sort is CustomerSort.NAME and self.id_prefix is not None:
            raise ValueError("an id_prefix search is sorted by id")
        if self.sort is CustomerSort.ID and self.name is not None:
            raise ValueError("a name search is sorted by name")
        return self


class CustomerListItem(BaseModel):
    """One customer in the list: balances as of today (the policy's time zone)."""

    customer_id: str
    name: str
    segment: str
    locale: str
    currency: str
    protected: bool
    stage: str
    holds: list[str]
    open_balance: str
    overdue_balance: str
    days_past_due: int
    oldest_overdue_due_date: date | None
    disputed_balance: str
    credit_balance: str
    held_back_batch: str | None
    exemptions: list[str]
    exposure: str | None = None  # the last exposure refresh's total, "123.45 CNY"
    exposure_as_of: datetime | None = None
    credit_limit: str | None = None
    credit_level: str = "none"  # none | threshold | limit
    used_percent: str | None = None


class CustomerPage(BaseModel):
    as_of: date
    items: list[CustomerListItem]
    continuation_token: str | None


def local_today(deps: CollectionsDeps) -> date:
    return deps.policy_for_request().calendar().local_date(deps.clock.now())


def list_index(deps: CollectionsDeps) -> ListIndex:
    index = deps.customers.lists
    if index is None:
        raise ServiceUnavailable("the list indexes are not configured")
    return index


def overdue_of(entry: CustomerEntry, today: date) -> tuple[Decimal, date | None]:
    """(overdue balance, earliest overdue due date) on `today` from the open amounts kept."""
    overdue, oldest = Decimal(0), None
    for item in entry.open_items:
        due = date.fromisoformat(item.due)
        if due < today:
            overdue += Decimal(item.amount)
            oldest = due if oldest is None else min(oldest, due)
    return overdue, oldest


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount at its currency's minor units ("0.00", as the customer view shows money)."""
    try:
        return str(canonical(amount, currency))
    except ValueError:  # more places than the currency has: shown as it is, never lost
        return str(amount)


def money_text(amount: Decimal, currency: str) -> str:
    """`"1234.50 CNY"`, as the customer view writes money."""
    return f"{amount_text(amount, currency)} {currency}"


def _item(entry: CustomerEntry, today: date) -> CustomerListItem:
    overdue, oldest = overdue_of(entry, today)
    flags = (
        ("non_payment", entry.hold_non_payment),
        ("fraud", entry.hold_fraud),
        ("manual", entry.hold_manual),
        ("credit_limit", entry.hold_credit_limit),
    )
    holds = [reason for reason, on in flags if on]
    return CustomerListItem(
        customer_id=entry.customer_id,
        name=entry.name,
        segment=entry.segment,
        locale=entry.locale,
        currency=entry.currency,
        protected=entry.protected,
        stage=entry.stage,
        holds=holds,
        open_balance=money_text(Decimal(entry.open_balance), entry.currency),
        overdue_balance=money_text(overdue, entry.currency),
        days_past_due=(today - oldest).days if oldest else 0,
        oldest_overdue_due_date=oldest,
        disputed_balance=money_text(Decimal(entry.disputed_balance), entry.currency),
        credit_balance=money_text(Decimal(entry.credit_balance), entry.currency),
        held_back_batch=entry.held_back_batch,
        exemptions=entry.exemptions,
        exposure=entry.exposure,
        exposure_as_of=entry.exposure_as_of,
        credit_limit=entry.credit_limit,
        credit_level=entry.credit_level,
        used_percent=entry.used_percent,
    )


def _matches(entry: CustomerEntry, q: CustomerQuery, today: date) -> bool:
    """The exact filters (Table storage applied what it could; pending rows are re-checked)."""
    if q.stage is not None and entry.stage != q.stage.value:
        return False
    if q.segment is not None and entry.segment != q.segment:
        return False
    if q.currency is not None and entry.currency != q.currency:
        return False
    held = {
        "non_payment": entry.hold_non_payment,
        "fraud": entry.hold_fraud,
        "manual": entry.hold_manual,
        "credit_limit": entry.hold_credit_limit,
    }
    if q.hold is HoldFilter.ANY and not any(held.values()):
        return False
    if q.hold is HoldFilter.NONE and any(held.values()):
        return False
    if q.hold is not None and q.hold.value in held and not held[q.hold.value]:
        return False
    if q.overdue_min is not None or q.overdue_max is not None:
        overdue, _ = overdue_of(entry, today)
        if q.overdue_min is not None and overdue < q.overdue_min:
            return False
        if q.overdue_max is not None and overdue > q.overdue_max:
            return False
    if q.name is not None and not name_key(entry.name).startswith(name_key(q.name)):
        return False
    return q.id_prefix is None or entry.customer_id.startswith(q.id_prefix.lower())


def _customer_filter(q: CustomerQuery) -> tuple[str, str, dict[str, Any]]:
    """(partition, filter, parameters): the key range and what Table storage can compare."""
    by_name = q.name is not None or q.sort is CustomerSort.NAME
    partition = CUSTOMERS_BY_NAME if by_name else CUSTOMERS_BY_ID
    query = "PartitionKey eq @pk"
    params: dict[str, Any] = {"pk": partition}
    prefix = name_key(q.name) if q.name is not None else (q.id_prefix.lower() if q.id_prefix else None)
    if prefix:
        params["low"], params["high"] = prefix_range(prefix)
        query += " and RowKey ge @low and RowKey lt @high"
    for name in ("stage", "segment", "currency"):
        value = getattr(q, name)
        if value is not None:
            query += f" and {name} eq @{name}"
            params[name] = str(value.value if isinstance(value, StrEnum) else value)
    if q.hold is HoldFilter.ANY or q.hold is HoldFilter.NONE:
        query += " and held eq @held"
        params["held"] = q.hold is HoldFilter.ANY
    elif q.hold is not None:
        query += f" and hold_{q.hold.value} eq @flag"
        params["flag"] = True
    if q.overdue_min is not None:  # overdue <= open: a customer open below the minimum cannot match
        query += " and open_minor ge @open_min"
        params["open_min"] = int(q.overdue_min * 100)
    return partition, query, params


def list_customers(deps: CollectionsDeps, q: CustomerQuery) -> CustomerPage:
    """One page of customers: a name (or id) prefix search, the filters, sorted by name or id."""
    today = local_today(deps)
    filters = fingerprint(
        list="customers", **q.model_dump(mode="json", exclude={"limit", "continuation_token"})
    )
    partition, query, params = _customer_filter(q)
    raw, resume = list_index(deps).table.page(
        query, params, q.limit, decode_token(q.continuation_token, filters)
    )
    items = []
    for entry in checked_entries(deps, partition, raw):
        assert isinstance(entry, CustomerEntry)
        if _matches(entry, q, today):
            items.append(_item(entry, today))
    return CustomerPage(as_of=today, items=items, continuation_token=encode_token(resume, filters))


def checked_entries(deps: CollectionsDeps, partition: str, raw: list[Any]) -> list[Any]:
    """The entries of a page; a pending row is replaced by what the customer says now (or left
    out), and settled when its writer is long gone."""
    index = list_index(deps)
    out: list[Any] = []
    fresh: dict[str, dict[tuple[str, str], Any]] = {}
    for entity in raw:
        entry, pending, written_at, etag = entry_of(partition, entity)
        complete = getattr(entry, "open_items_complete", True)
        if not pending and complete:
            out.append(entry)
            continue
        customer_id = str(entity["customer_id"])
        if customer_id not in fresh:
            fresh[customer_id] = entries(deps.customers.load(customer_id).rows())
        key = (partition, str(entity["RowKey"]))
        now_entry = fresh[customer_id].get(key)
        if now_entry is not None:
            out.append(now_entry)
        if pending and index.settleable(written_at):
            if now_entry is None:
                index.drop(key, etag)
            else:
                index.confirm(key, now_entry, etag)
    return out


# --- open holds and exemptions -------------------------------------------------------------------


class HoldPage(BaseModel):
    items: list[HoldEntry]
    continuation_token: str | None


def list_holds(
    deps: CollectionsDeps,
    *,
    reason: str | None = None,
    customer_id: str | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> HoldPage:
    """Active holds, oldest first; by reason and customer when asked."""
    if reason is not None and reason not in ("non_payment", "fraud", "manual", "credit_limit"):
        raise ValidationFailed("reason must be non_payment, fraud, manual or credit_limit")
    _check_limit(limit)
    query, params = "PartitionKey eq @pk", {"pk": OPEN_HOLDS}
    if reason is not None:
        query, params = query + " and reason eq @reason", {**params, "reason": reason}
    if customer_id is not None:
        query, params = query + " and customer_id eq @cid", {**params, "cid": _customer_id(customer_id)}
    filters = fingerprint(list="holds", reason=reason, customer_id=customer_id)
    raw, resume = list_index(deps).table.page(query, params, limit, decode_token(continuation_token, filters))
    items = [e for e in checked_entries(deps, OPEN_HOLDS, raw) if reason is None or e.reason == reason]
    return HoldPage(items=items, continuation_token=encode_token(resume, filters))


class ExemptionPage(BaseModel):
    as_of: date
    items: list[ExemptionEntry]
    continuation_token: str | None


def list_exemptions(
    deps: CollectionsDeps,
    *,
    ended: bool = False,
    ends_by: date | None = None,
    kind: str | None = None,
    customer_id: str | None = None,
    limit: int = 50,
    continuation_token: str | None = None,
) -> ExemptionPage:
    """Exemptions by the day they end, soonest first: those still active (by default), those
    ending by `ends_by` (expiring), or with `ended` those already over too."""
    if kind is not None and kind not in ("promise_to_pay", "enforcement_off"):
        raise ValidationFailed("kind must be promise_to_pay or enforcement_off")
    _check_limit(limit)
    today = local_today(deps)
    query = "PartitionKey eq @pk"
    params: dict[str, Any] = {"pk": EXEMPTIONS_BY_END}
    if not ended:
        query, params["low"] = query + " and RowKey ge @low", today.isoformat()
    if ends_by is not None:
        query, params["high"] = query + " and RowKey lt @high", (ends_by + timedelta(days=1)).isoformat()
    if kind is not None:
        query, params["kind"] = query + " and kind eq @kind", kind
    if customer_id is not None:
        query, params["cid"] = query + " and customer_id eq @cid", _customer_id(customer_id)
    filters = fingerprint(list="exemptions", ended=ended, ends_by=ends_by, kind=kind, customer_id=customer_id)
    raw, resume = list_index(deps).table.page(query, params, limit, decode_token(continuation_token, filters))
    items = [
        e
        for e in checked_entries(deps, EXEMPTIONS_BY_END, raw)
        if (ended or e.until >= today.isoformat()) and (ends_by is None or e.until <= ends_by.isoformat())
    ]
    return ExemptionPage(as_of=today, items=items, continuation_token=encode_token(resume, filters))


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")


def _customer_id(value: str) -> str:
    return valid_customer_id(value)
