"""`POST /api/ledger/import`: a CSV feed of invoices and payments, all-or-nothing per customer.

Columns (header row required, order free): `kind` (invoice|payment), `customer_id`, `id`, and
for invoices `number, amount, currency, issued_on, due_date[, status]`, for payments
`amount, currency, received_at[, invoice_ids (separated by ;), reference]`. One customer's rows
are one entity-group transaction with its re-evaluation, so at most `MAX_ROWS_PER_CUSTOMER` rows
per customer per import (Table storage allows 100 operations per transaction; the rest is kept
for the state row, the audit and the decision's holds and notices). A customer with any bad row
gets none of its rows applied; other customers are not affected.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.adapters.customers import CustomerAggregate
from shared.adapters.layout import invoice_row, payment_row
from shared.domain.customer import normalise_customer_id
from shared.domain.identity import Actor
from shared.domain.ledger import InvoiceIn, PaymentIn
from shared.errors import AppError, BadRequest, NotFound, PayloadTooLarge, ValidationFailed
from shared.services.collections import feed
from shared.services.collections.customer_change import AuditNote, Mutation, RowWrite, mutate_customer
from shared.services.collections.deps import CollectionsDeps
from shared.services.collections.ledger import stage_invoice, stage_payment
from shared.services.outcomes import Effect

MAX_ROWS_PER_CUSTOMER = 80
MAX_ROWS = 5000
REQUIRED = {"kind", "customer_id", "id"}
INVOICE_COLUMNS = ["number", "amount", "currency", "issued_on", "due_date"]
PAYMENT_COLUMNS = ["amount", "currency", "received_at"]


class RowResult(BaseModel):
    line: int
    kind: str
    id: str
    customer_id: str
    result: str  # created | unchanged | error | rejected
    field: str | None = None
    message: str | None = None


class ImportReport(BaseModel):
    rows: int
    created: int
    unchanged: int
    failed: int
    customers_applied: int
    customers_rejected: int
    results: list[RowResult]


def _cell(row: dict[str, str | None], name: str) -> str:
    """A cell's text, stripped; "" when the column is absent or the row is short."""
    return (row.get(name) or "").strip()


def _parse_row(row: dict[str, str | None]) -> InvoiceIn | PaymentIn:
    kind = _cell(row, "kind").lower()
    money = {"amount": _cell(row, "amount"), "currency": _cell(row, "currency") or "CNY"}
    if kind == "invoice":
        data: dict[str, Any] = {
            "invoice_id": _cell(row, "id"),
            "customer_id": _cell(row, "customer_id"),
            "number": _cell(row, "number"),
            "amount": money,
            "issued_on": _cell(row, "issued_on"),
            "due_date": _cell(row, "due_date"),
        }
        if _cell(row, "status"):
            data["status"] = _cell(row, "status")
        return InvoiceIn.model_validate(data)
    if kind == "payment":
        names = [n.strip() for n in _cell(row, "invoice_ids").split(";") if n.strip()]
        data = {
            "payment_id": _cell(row, "id"),
            "customer_id": _cell(row, "customer_id"),
            "amount": money,
            "received_at": _cell(row, "received_at"),
            "invoice_ids": names or None,
            "reference": _cell(row, "reference") or None,
        }
        return PaymentIn.model_validate(data)
    raise ValueError("kind must be invoice or payment")


def _records(text: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line where the record starts, values by column) for each non-blank record. Line numbers
    are those of the file (blank lines and line breaks inside quoted cells counted); a short row
    lacks its last columns. A CSV syntax error is a BadRequest naming the line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return
        yield 1, dict.fromkeys(header, None)
        previous = reader.line_num
        for values in reader:
            start, previous = previous + 1, reader.line_num
            if not values:
                continue  # a blank line
            yield start, dict(zip(header, values, strict=False))
    except csv.Error as exc:
        raise BadRequest(f"line {reader.line_num}: not valid CSV: {exc}") from None


def _field_of(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(p) for p in err.get("loc", ())]
    name = {"invoice_id": "id", "payment_id": "id"}.get(loc[0], loc[0]) if loc else "(row)"
    if name == "amount" and len(loc) > 1 and loc[1] == "currency":
        name = "currency"
    message = str(err["msg"]).removeprefix("Value error, ")
    if not loc and "due_date" in message:
        name = "due_date"  # the row-level check "due_date is before issued_on"
    return name, message


def import_csv(deps: CollectionsDeps, body: bytes, *, actor: Actor, correlation_id: str) -> ImportReport:
    """Parse, validate and apply a CSV ledger feed; per-row results in input order."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text") from None
    records = _records(text)
    header = set(next(records, (1, {}))[1])
    missing = REQUIRED - header
    if missing:
        raise ValidationFailed(
            f"the header row lacks {sorted(missing)}",
            errors=[{"field": name, "message": "missing column"} for name in sorted(missing)],
        )
    results: list[RowResult] = []
    by_customer: dict[str, list[tuple[int, InvoiceIn | PaymentIn]]] = defaultdict(list)
    bad_customers: set[str] = set()
    for count, (number, row) in enumerate(records, start=1):
        if count > MAX_ROWS:
            raise PayloadTooLarge(f"at most {MAX_ROWS} rows per import")
        raw_customer = _cell(row, "customer_id")
        try:
            customer = normalise_customer_id(raw_customer)
        except ValueError:
            customer = raw_customer
        kind = _cell(row, "kind").lower()
        try:
            entry = _parse_row(row)
        except ValidationError as exc:
            name, message = _field_of(exc)
            results.append(
                RowResult(
                    line=number,
                    kind=kind,
                    id=_cell(row, "id"),
                    customer_id=customer,
                    result="error",
                    field=name,
                    message=message,
                )
            )
            bad_customers.add(customer)
            continue
        except ValueError as exc:
            results.append(
                RowResult(
                    line=number,
                    kind=kind,
                    id=_cell(row, "id"),
                    customer_id=customer,
                    result="error",
                    field="kind",
                    message=str(exc),
                )
            )
            bad_customers.add(customer)
            continue
        by_customer[entry.customer_id].append((number, entry))
        results.append(
            RowResult(
                line=number, kind=kind, id=_cell(row, "id"), customer_id=entry.customer_id, result="pending"
            )
        )
    index = {r.line: r for r in results}
    applied = rejected = 0
    for customer_id in sorted(set(by_customer) | bad_customers):
        rows = by_customer.get(customer_id, [])
        if customer_id in bad_customers:
            _reject(index, rows, "another row of this customer is invalid: none of its rows applied")
            rejected += 1
            continue
        if len(rows) > MAX_ROWS_PER_CUSTOMER:
            _reject(
                index,
                rows,
                f"more than {MAX_ROWS_PER_CUSTOMER} rows for one customer in one import: "
                "split the feed (all-or-nothing per customer needs one transaction)",
            )
            rejected += 1
            continue
        outcome = _apply_customer(deps, customer_id, rows, actor, correlation_id, index)
        applied += outcome
        rejected += 1 - outcome
    final = [index[r.line] for r in results]
    return ImportReport(
        rows=len(final),
        created=sum(r.result == "created" for r in final),
        unchanged=sum(r.result == "unchanged" for r in final),
        failed=sum(r.result in ("error", "rejected") for r in final),
        customers_applied=applied,
        customers_rejected=rejected,
        results=final,
    )


def _reject(index: dict[int, RowResult], rows: list[tuple[int, Any]], message: str) -> None:
    for line, _ in rows:
        if index[line].result == "pending":
            index[line].result = "rejected"
            index[line].message = message


def _apply_customer(
    deps: CollectionsDeps,
    customer_id: str,
    rows: list[tuple[int, InvoiceIn | PaymentIn]],
    actor: Actor,
    correlation_id: str,
    index: dict[int, RowResult],
) -> int:
    """Apply one customer's rows in one transaction; 1 if applied, 0 if rejected (all its rows)."""

    def prepare(agg: CustomerAggregate, now: datetime) -> Mutation[dict[int, str]]:
        statuses: dict[int, str] = {}  # line -> created | unchanged
        writes: list[RowWrite] = []
        # Invoices before payments, so a payment in the same file may name them.
        ordered = sorted(rows, key=lambda r: 0 if isinstance(r[1], InvoiceIn) else 1)
        for line, entry in ordered:
            try:
                if isinstance(entry, InvoiceIn):
                    invoice, new = stage_invoice(agg, entry, now)
                    if new:
                        writes.append(RowWrite(invoice, invoice_row(invoice.invoice_id)))
                else:
                    payment, new = stage_payment(agg, entry, now)
                    if new:
                        writes.append(RowWrite(payment, payment_row(payment.payment_id)))
            except AppError as exc:
                raise _RowFailed(line, exc) from None
            statuses[line] = "created" if new else "unchanged"
        if not writes:
            return Mutation(statuses, Effect.UNCHANGED)
        note = AuditNote(
            "ledger.imported", f"{len(writes)} ledger rows imported", {"lines": sorted(statuses)}
        )
        return Mutation(statuses, Effect.UPDATED, rows=writes, notes=[note])

    try:
        written = mutate_customer(deps, customer_id, prepare, actor=actor, correlation_id=correlation_id)
    except _RowFailed as failed:
        row = index[failed.line]
        row.result, row.field, row.message = "error", _error_field(failed.error), failed.error.detail
        _reject(index, rows, f"line {failed.line} failed: none of this customer's rows applied")
        return 0
    except AppError as exc:
        # Not one row's fault but the customer's (unknown, or its records kept changing): every
        # row of it is an error with that reason; `rejected` stays for another row's failure.
        field = "customer_id" if isinstance(exc, NotFound) else "(row)"
        for line, _ in rows:
            if index[line].result == "pending":
                index[line].result, index[line].field, index[line].message = "error", field, exc.detail
        return 0
    for line, status in written.value.items():
        index[line].result = status
    for line, entry in rows:
        if written.value.get(line) == "created":
            feed.mark(deps, "invoice" if isinstance(entry, InvoiceIn) else "payment", deps.clock.now())
    return 1


def _error_field(error: AppError) -> str:
    if error.errors:
        field = str(error.errors[0].get("field", "(row)"))
        return "currency" if field == "amount.currency" else field  # the CSV column
    return "id"


class _RowFailed(Exception):
    def __init__(self, line: int, error: AppError) -> None:
        super().__init__(error.detail)
        self.line = line
        self.error = error
