"""Fraud cases in the `cases` table.

Rows (PartitionKey = customer id unless said otherwise; keys never hold `/`, `\\`, `#`, `?`):
- `{case_id}`: the case;
- `{case_id}:ev:{nnnn}`: one evidence item each (a case row could not hold 100 x 2,000 characters
  within the 64 KiB property limit);
- `{case_id}:esc`: the 21Vianet service-request draft and its ticket;
- `open:{category}`: the customer's open case for a category. Created together with the case in
  one transaction, so two concurrent first reports cannot open two cases: the loser joins;
- partition `_caseid`, row `{case_id}`: case id -> customer id (a case id alone finds its partition);
- partition `status:{status}`, row `{case_id}`: the index by status. It is written before the
  case changes and cleaned after, so it may briefly name a case that no longer has that status;
  readers check each entry against the case row (skip entries whose case does not exist, drop
  those whose case has another status), so they never lie.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from shared.adapters.tables import ConcurrencyConflict, Stored, Table, decode
from shared.domain.fraud import Case, CaseStatus, Category, Evidence
from shared.domain.service_request import ServiceRequestDraft

CASE_ID_PARTITION = "_caseid"
EVIDENCE_INFIX = ":ev:"
ESCALATION_SUFFIX = ":esc"


def status_partition(status: CaseStatus) -> str:
    return f"status:{status.value}"


def open_pointer_row(category: Category) -> str:
    return f"open:{category.value}"


def evidence_row(case_id: str, seq: int) -> str:
    return f"{case_id}{EVIDENCE_INFIX}{seq:04d}"


class CaseRef(BaseModel):
    """Index rows: which customer partition holds a case."""

    customer_id: str


class OpenPointer(BaseModel):
    case_id: str


class StoredEvidence(Evidence):
    report_id: str


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    continuation: str | None


class CaseStore:
    """Cases, their evidence, their drafts and the two indexes, on one table."""

    def __init__(self, table: Table) -> None:
        self.table = table

    # --- reads ---------------------------------------------------------------------------

    def customer_of(self, case_id: str) -> str | None:
        ref = self.table.get(CaseRef, CASE_ID_PARTITION, case_id)
        return ref.value.customer_id if ref else None

    def get(self, case_id: str) -> Stored[Case] | None:
        customer_id = self.customer_of(case_id)
        if customer_id is None:
            return None
        return self.table.get(Case, customer_id, case_id)

    def open_case_for(self, customer_id: str, category: Category) -> Stored[OpenPointer] | None:
        return self.table.get(OpenPointer, customer_id, open_pointer_row(category))

    def evidence(self, customer_id: str, case_id: str) -> list[StoredEvidence]:
        rows = self.table.partition(customer_id, case_id + EVIDENCE_INFIX)
        return [decode(StoredEvidence, row).value for row in rows]

    def escalation(self, customer_id: str, case_id: str) -> Stored[ServiceRequestDraft] | None:
        return self.table.get(ServiceRequestDraft, customer_id, case_id + ESCALATION_SUFFIX)

    def list_by_status(
        self,
        status: CaseStatus,
        limit: int,
        after: str | None,
        before: str | None = None,
        since: str | None = None,
    ) -> CasePage:
        """Cases with a status, oldest first, `limit` at most, after a continuation case id
        (and from `since` and before `before`: case ids sort by the time the case opened).

        Reads the status partition only (never the whole table); each entry is checked against
        its case row, and entries that went stale are dropped.
        """
        query = "PartitionKey eq @pk"
        params: dict[str, str] = {"pk": status_partition(status)}
        if after:
            query += " and RowKey gt @after"
            params["after"] = after
        if before:
            query += " and RowKey lt @before"
            params["before"] = before
        if since:
            query += " and RowKey ge @since"
            params["since"] = since
        cases: list[Case] = []
        last: str | None = None
        more = False
        for entity in self.table.query(query, params, results_per_page=limit + 1):
            if len(cases) >= limit:
                more = True
                break
            entry = decode(CaseRef, entity)
            last = entry.row_key
            stored = self.table.get(Case, entry.value.customer_id, entry.row_key)
            if stored is None:
                continue  # a case being created (index first), or one whose creation failed
            if stored.value.status is not status:
                self._drop_stale(entry)
                continue
            cases.append(stored.value)
        return CasePage(cases, last if more else None)

    def _drop_stale(self, entry: Stored[CaseRef]) -> None:
        # Only an entry whose case has another status; guarded by its ETag, so an entry
        # rewritten meanwhile survives. A status change in flight (new entry first, then the
        # case) may see its new entry dropped too early; the writer re-adds it afterwards.
        try:
            self.table.delete(entry.partition_key, entry.row_key, etag=entry.etag)
        except ConcurrencyConflict:
            pass

    # --- writes --------------------------------------------------------------------------

    def create(self, case: Case, evidence: list[Evidence], report_id: str) -> None:
        """Index rows, then the case, its open pointer and its evidence in one transaction.

        ConcurrencyConflict: another case for this customer and category opened first.
        """
        self.table.upsert(CaseRef(customer_id=case.customer_id), CASE_ID_PARTITION, case.case_id)
        self.table.upsert(CaseRef(customer_id=case.customer_id), status_partition(case.status), case.case_id)
        tx = self.table.transaction(case.customer_id)
        tx.create(case, case.case_id)
        tx.create(OpenPointer(case_id=case.case_id), open_pointer_row(case.category))
        for seq, item in enumerate(evidence, start=1):
            tx.create(
                StoredEvidence(**item.model_dump(), report_id=report_id), evidence_row(case.case_id, seq)
            )
        try:
            tx.submit()
        except ConcurrencyConflict:
            self.table.delete(status_partition(case.status), case.case_id)
            self.table.delete(CASE_ID_PARTITION, case.case_id)
            raise

    def update(
        self,
        before: Stored[Case],
        after: Case,
        *,
        evidence: list[Evidence] | None = None,
        report_id: str = "",
        close_pointer: bool = False,
        escalation: ServiceRequestDraft | None = None,
        escalation_etag: str | None = None,
    ) -> None:
        """Replace the case under its ETag, with the rows that go with the change.

        `close_pointer`: the case is resolved, so the next report opens a new case.
        ConcurrencyConflict: the case changed since it was read (re-read and decide again).
        """
        case_id = after.case_id
        status_changed = after.status is not before.value.status
        if status_changed:
            self.table.upsert(CaseRef(customer_id=after.customer_id), status_partition(after.status), case_id)
        tx = self.table.transaction(after.customer_id)
        tx.update(after, case_id, before.etag)
        for offset, item in enumerate(evidence or [], start=1):
            tx.create(
                StoredEvidence(**item.model_dump(), report_id=report_id),
                evidence_row(case_id, before.value.evidence_count + offset),
            )
        if escalation is not None:
            if escalation_etag:
                tx.update(escalation, case_id + ESCALATION_SUFFIX, escalation_etag)
            else:
                tx.upsert(escalation, case_id + ESCALATION_SUFFIX)
        if close_pointer:
            pointer = self.open_case_for(after.customer_id, after.category)
            if pointer is not None and pointer.value.case_id == case_id:
                tx.delete(pointer.row_key, etag=pointer.etag)
        tx.submit()
        if status_changed:
            self._unindex(before.value.status, case_id)
            self._index(after)

    def _index(self, case: Case) -> None:
        """Make sure the new status has its entry (a reader may have dropped it early)."""
        ref = CaseRef(customer_id=case.customer_id)
        if self.table.get_raw(status_partition(case.status), case.case_id) is None:
            self.table.upsert(ref, status_partition(case.status), case.case_id)

    def _unindex(self, status: CaseStatus, case_id: str) -> None:
        self.table.delete(status_partition(status), case_id)

    def customer_page(
        self,
        customer_id: str,
        filters: dict[str, str],
        low: str | None,
        high: str | None,
        limit: int,
        resume: dict[str, str] | None,
    ) -> tuple[list[Case], dict[str, str] | None]:
        """One page of a customer's cases (its partition: case rows only, the filters applied by
        Table storage to the case rows themselves, so exactly)."""
        query = "PartitionKey eq @pk and hit_count ge @one"
        params: dict[str, object] = {"pk": customer_id, "one": 1}
        if low:
            query, params["low"] = query + " and RowKey ge @low", low
        if high:
            query, params["high"] = query + " and RowKey lt @high", high
        for name, value in sorted(filters.items()):
            query, params[name] = query + f" and {name} eq @{name}", value
        raw, resume_at = self.table.page(query, params, limit, resume)
        return [decode(Case, e).value for e in raw if ":" not in str(e["RowKey"])], resume_at

    def iter_customer_cases(self, customer_id: str) -> Iterator[Case]:
        for entity in self.table.partition(customer_id):
            key = str(entity["RowKey"])
            if ":" not in key:
                yield decode(Case, entity).value
