"""The staff lists on Azurite: paged past 1,000 items with continuation tokens, the same items as
an independent full read of the data they index, filters exact; and the index protocol (written
first, confirmed after; a pending row is checked against the customer, and settled)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from shared import runtime
from shared.adapters.lists import (
    LISTS_TABLE,
    ROW_MODELS,
    SETTLE_GRACE,
    CustomerRows,
    entries,
    entry_of,
    name_key,
)
from shared.adapters.paging import decode_token
from shared.adapters.tables import ConcurrencyConflict, Table
from shared.domain.customer import Exemption, ExemptionKind, StoredProfile
from shared.domain.holds import Hold, HoldReason
from shared.domain.ledger import Invoice, Payment, summarise
from shared.domain.money import Money, canonical
from shared.errors import BadRequest
from shared.services.collections import ageing, controls, ledger, lists
from shared.services.collections.lists import CustomerQuery
from tests.actors import ALICE
from tests.integration.collections.conftest import START, Env, deps, invoice, new_customer

TODAY = date(2026, 3, 2)
COUNT = 1_050
STAGES = ["current", "reminder", "warning", "suspension"]
REASONS = [HoldReason.NON_PAYMENT, HoldReason.FRAUD, HoldReason.MANUAL]


def _cid(i: int) -> str:
    return str(uuid.UUID(int=(i + 1) * 7919, version=4))


def _customer(i: int) -> CustomerRows:
    cid = _cid(i)
    currency = "USD" if i % 10 == 0 else "CNY"
    name = f"客户{i:04d}" if i % 2 else f"Contoso {i:04d}"
    profile = StoredProfile(
        name=name,
        segment="enterprise" if i % 7 == 0 else "default",
        customer_id=cid,
        created_at=START,
        updated_at=START,
    )
    due = TODAY - timedelta(days=i % 120 - 10)  # from 10 days ahead to 109 days late
    inv = Invoice(
        invoice_id="i1",
        customer_id=cid,
        number=f"N{i}",
        amount=Money(amount=Decimal(100 * (i % 20 + 1)), currency=currency),
        issued_on=due - timedelta(days=30),
        due_date=due,
        created_at=START,
        updated_at=START,
    )
    payments = []
    if i % 3 == 0:
        payments.append(
            Payment(
                payment_id="p1",
                customer_id=cid,
                amount=Money(amount=Decimal(50), currency=currency),
                received_at=START,
                created_at=START,
            )
        )
    hold = Hold(
        hold_id=f"h{i}",
        reason=REASONS[i % 3],
        placed_at=START + timedelta(seconds=i),
        placed_by="seed",
        note="seeded",
    )
    exemption = Exemption(
        exemption_id=f"e{i}",
        kind=ExemptionKind.PROMISE_TO_PAY,
        until=TODAY + timedelta(days=i % 60 - 10),
        reason="seeded",
        created_at=START,
        created_by="seed",
    )
    return CustomerRows(
        customer_id=cid,
        profile=profile,
        stage=STAGES[i % 4],
        invoices=[inv],
        payments=payments,
        holds=[hold],
        exemptions=[exemption],
    )


def _bulk(table: Table, rows: Iterable[tuple[str, str, BaseModel]]) -> None:
    """Rows straight into storage, one entity-group transaction per 100 of one partition."""
    by_partition: dict[str, list[tuple[str, BaseModel]]] = {}
    for pk, rk, model in rows:
        by_partition.setdefault(pk, []).append((rk, model))
    for pk, items in by_partition.items():
        for start in range(0, len(items), 100):
            tx = table.transaction(pk)
            for rk, model in items[start : start + 100]:
                tx.create(model, rk)
            tx.submit()


@pytest.fixture
def seeded(env: Env) -> list[CustomerRows]:
    customers = [_customer(i) for i in range(COUNT)]
    table = runtime.table_store().table(LISTS_TABLE)
    rows = []
    for c in customers:
        for (pk, rk), entry in entries(c).items():
            rows.append(
                (
                    pk,
                    rk,
                    ROW_MODELS[pk].model_validate(
                        {**entry.model_dump(), "pending": False, "written_at": START}
                    ),
                )
            )
    _bulk(table, rows)
    return customers


def _all_pages(read: Callable[[str | None], Any]) -> list[Any]:
    items: list[Any] = []
    token = None
    pages = 0
    while True:
        page = read(token)
        items += page.items
        pages += 1
        token = page.continuation_token
        if token is None:
            return items
        assert pages < 100


def _overdue(c: CustomerRows) -> Decimal:
    return summarise(c.invoices, c.payments, None, TODAY).overdue_balance.amount


def _q(**fields: Any) -> Callable[[str | None], Any]:
    return lambda token: lists.list_customers(
        deps(), CustomerQuery(limit=100, continuation_token=token, **fields)
    )


def test_the_customer_list_pages_past_a_thousand_and_equals_a_full_read(seeded: list[CustomerRows]) -> None:
    got = _all_pages(_q())
    assert len(got) == COUNT
    assert [i.customer_id for i in got] == sorted(c.customer_id for c in seeded)  # sorted by id
    by_id = {c.customer_id: c for c in seeded}
    for item in got:
        c = by_id[item.customer_id]
        currency = c.invoices[0].amount.currency
        assert item.overdue_balance == f"{canonical(_overdue(c), currency)} {currency}"
        assert item.stage == c.stage and item.holds == [c.holds[0].reason.value]
    by_name = _all_pages(_q(sort="name"))
    assert [i.customer_id for i in by_name] == [
        c.customer_id
        for c in sorted(seeded, key=lambda c: (name_key(c.profile.name), c.customer_id))  # type: ignore[union-attr]
    ]


FILTERS: list[tuple[dict[str, Any], Callable[[CustomerRows], bool]]] = [
    ({"stage": "warning"}, lambda c: c.stage == "warning"),
    ({"hold": "fraud"}, lambda c: c.holds[0].reason is HoldReason.FRAUD),
    ({"hold": "none"}, lambda c: False),
    ({"segment": "enterprise"}, lambda c: c.profile.segment == "enterprise"),
    (
        {"currency": "CNY", "overdue_min": "500", "overdue_max": "1200"},
        lambda c: c.invoices[0].amount.currency == "CNY" and Decimal(500) <= _overdue(c) <= Decimal(1200),
    ),
    ({"name": "客户01"}, lambda c: c.profile.name.startswith("客户01")),
    ({"name": "CONTOSO 00"}, lambda c: c.profile.name.startswith("Contoso 00")),
    ({"id_prefix": "0000"}, lambda c: c.customer_id.startswith("0000")),
    (
        {"stage": "suspension", "hold": "manual", "currency": "USD"},
        lambda c: (
            c.stage == "suspension"
            and c.holds[0].reason is HoldReason.MANUAL
            and c.invoices[0].amount.currency == "USD"
        ),
    ),
]


def test_customer_filters_return_what_a_full_read_says(seeded: list[CustomerRows]) -> None:
    for query, expected in FILTERS:
        got = sorted(i.customer_id for i in _all_pages(_q(**query)))
        assert got == sorted(c.customer_id for c in seeded if expected(c)), query


def test_a_continuation_token_is_tied_to_its_filters(seeded: list[CustomerRows]) -> None:
    first = lists.list_customers(deps(), CustomerQuery(limit=10, stage="warning"))
    assert first.continuation_token
    with pytest.raises(BadRequest):
        lists.list_customers(
            deps(), CustomerQuery(limit=10, stage="current", continuation_token=first.continuation_token)
        )
    with pytest.raises(BadRequest):
        decode_token("not-a-token", "x")


def test_open_holds_and_exemptions_page_past_a_thousand(seeded: list[CustomerRows]) -> None:
    holds = _all_pages(lambda t: lists.list_holds(deps(), limit=100, continuation_token=t))
    assert len(holds) == COUNT
    assert [h.hold_id for h in holds] == [f"h{i}" for i in range(COUNT)]  # oldest first
    fraud = _all_pages(lambda t: lists.list_holds(deps(), reason="fraud", limit=100, continuation_token=t))
    assert {h.hold_id for h in fraud} == {f"h{i}" for i in range(COUNT) if i % 3 == 1}
    active = _all_pages(lambda t: lists.list_exemptions(deps(), limit=100, continuation_token=t))
    expected = sorted(
        (c.exemptions[0].until, c.customer_id) for c in seeded if c.exemptions[0].until >= TODAY
    )
    assert [(date.fromisoformat(e.until), e.customer_id) for e in active] == expected
    soon = _all_pages(
        lambda t: lists.list_exemptions(
            deps(), ends_by=TODAY + timedelta(days=7), limit=100, continuation_token=t
        )
    )
    assert {e.customer_id for e in soon} == {
        c.customer_id for c in seeded if TODAY <= c.exemptions[0].until <= TODAY + timedelta(days=7)
    }
    everything = _all_pages(
        lambda t: lists.list_exemptions(deps(), ended=True, limit=100, continuation_token=t)
    )
    assert len(everything) == COUNT


def test_the_ageing_report_adds_up_what_a_full_read_owes(seeded: list[CustomerRows]) -> None:
    report = ageing.ageing_report(deps())
    totals: dict[tuple[str, str], dict[str, Decimal]] = {}
    for c in seeded:
        owed = c.invoices[0].amount.amount - sum((p.amount.amount for p in c.payments), Decimal(0))
        late = (TODAY - c.invoices[0].due_date).days
        bucket = (
            "current"
            if late <= 0
            else "days_1_30"
            if late <= 30
            else "days_31_60"
            if late <= 60
            else "days_61_90"
            if late <= 90
            else "days_over_90"
        )
        key = (c.invoices[0].amount.currency, c.profile.segment)  # type: ignore[union-attr]
        totals.setdefault(key, {}).setdefault(bucket, Decimal(0))
        totals[key][bucket] += owed
    got = {(g.currency, g.segment): g for g in report.groups}
    assert set(got) == set(totals)
    for key, buckets in totals.items():
        for bucket in ageing.BUCKETS:
            assert Decimal(getattr(got[key], bucket)) == buckets.get(bucket, Decimal(0)), (key, bucket)
    lines = _all_pages(lambda t: ageing.ageing_lines(deps(), limit=100, continuation_token=t))
    assert len(lines) == COUNT
    csv_text = ageing.report_csv(report)
    assert csv_text.splitlines()[0].startswith("currency,segment,customers,current")


def test_a_csv_cell_never_starts_a_formula() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "\r=x"):
        assert ageing.safe_cell(text).startswith("'")
    assert ageing.safe_cell("上海") == "上海" and ageing.safe_cell("100.00") == "100.00"
    row = ageing.to_csv(["name"], [['=HYPERLINK("http://x")'], ["-5"]]).splitlines()
    assert row[1].startswith("\"'=") or row[1].startswith("'=")
    assert row[2] == "'-5"


# --- the index protocol -------------------------------------------------------------------------


def _index_rows(customer_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    table = runtime.table_store().table(LISTS_TABLE)
    found = {}
    for entity in table.query("PartitionKey ge @low", {"low": ""}):
        if entity.get("customer_id") == customer_id:
            found[(entity["PartitionKey"], entity["RowKey"])] = dict(entity)
    return found


def test_a_change_writes_confirmed_rows_and_a_removed_value_leaves(env: Env) -> None:
    cid = new_customer("Fabrikam")
    rows = _index_rows(cid)
    assert {pk for pk, _ in rows} == {"cust:id", "cust:name"} and not any(r["pending"] for r in rows.values())
    hold = controls.place_manual_hold(
        deps(), cid, controls.ManualHoldIn(reason="legal"), actor=ALICE, correlation_id="c"
    )
    assert any(pk == "hold:open" for pk, _ in _index_rows(cid))
    assert [h.hold_id for h in lists.list_holds(deps(), customer_id=cid).items] == [hold.value.hold_id]
    controls.lift_manual_hold(deps(), cid, hold.value.hold_id, actor=ALICE, correlation_id="c")
    assert not any(pk == "hold:open" for pk, _ in _index_rows(cid))
    renamed = ledger.CustomerProfile.model_validate({"name": "Northwind", "locale": "en"})
    ledger.put_customer(deps(), cid, renamed, actor=ALICE, correlation_id="c")
    assert [rk.split("|")[0] for pk, rk in _index_rows(cid) if pk == "cust:name"] == ["northwind"]
    assert all(not r["pending"] for r in _index_rows(cid).values())


def test_a_row_whose_customer_commit_failed_is_not_believed_and_is_settled(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = new_customer("Tailspin")
    ledger.post_invoice(deps(), invoice(cid, "i1", "800", date(2026, 2, 1)), actor=ALICE, correlation_id="c")
    from shared.adapters.tables import Transaction

    original = Transaction.submit
    failed: list[bool] = []

    def crash_once(self: Transaction) -> dict[str, str]:
        if self.partition_key == cid and not failed:
            failed.append(True)
            raise RuntimeError("the process died before the customer's transaction")
        return original(self)

    monkeypatch.setattr(Transaction, "submit", crash_once)
    with pytest.raises(RuntimeError):
        controls.place_manual_hold(
            deps(), cid, controls.ManualHoldIn(reason="x"), actor=ALICE, correlation_id="c"
        )
    monkeypatch.setattr(Transaction, "submit", original)
    pending = [r for r in _index_rows(cid).values() if r["pending"]]
    assert pending  # step 1 ran, the commit did not
    assert lists.list_customers(deps(), CustomerQuery(hold="manual")).items == []  # not believed
    assert lists.list_holds(deps(), customer_id=cid).items == []
    [item] = lists.list_customers(deps(), CustomerQuery(id_prefix=cid[:8])).items
    assert item.holds == [] and item.overdue_balance == "800.00 CNY"  # what the customer says
    env.clock.set(START + SETTLE_GRACE + timedelta(seconds=1))
    lists.list_customers(deps(), CustomerQuery(id_prefix=cid[:8]))
    lists.list_customers(deps(), CustomerQuery(name="Tailspin"))
    lists.list_holds(deps(), customer_id=cid)
    assert not any(r["pending"] for r in _index_rows(cid).values())  # settled by the readers
    assert not any(pk == "hold:open" for pk, _ in _index_rows(cid))


def test_a_commit_whose_confirmation_was_lost_is_shown_and_confirmed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = new_customer("Adatum")
    from shared.adapters.lists import ListIndex

    monkeypatch.setattr(ListIndex, "after_change", lambda self, intent: None)  # crash after commit
    controls.place_manual_hold(
        deps(), cid, controls.ManualHoldIn(reason="x"), actor=ALICE, correlation_id="c"
    )
    monkeypatch.undo()
    assert any(r["pending"] for r in _index_rows(cid).values())
    assert [i.customer_id for i in lists.list_customers(deps(), CustomerQuery(hold="manual")).items] == [cid]
    env.clock.set(START + SETTLE_GRACE + timedelta(seconds=1))
    assert len(lists.list_holds(deps(), customer_id=cid).items) == 1
    lists.list_customers(deps(), CustomerQuery(hold="manual"))
    lists.list_customers(deps(), CustomerQuery(name="Adatum"))
    assert not any(r["pending"] for r in _index_rows(cid).values())


def test_a_writer_racing_another_never_confirms_a_stale_row(env: Env) -> None:
    cid = new_customer("Proseware")
    index = deps().customers.lists
    assert index is not None
    key = ("cust:id", cid)
    row = runtime.table_store().table(LISTS_TABLE).get_raw(*key)
    assert row is not None
    stale_etag = str(row.metadata["etag"])
    ledger.post_invoice(deps(), invoice(cid, "i1", "100", date(2026, 2, 1)), actor=ALICE, correlation_id="c")
    stale, _, _, _ = entry_of("cust:id", row)
    index.confirm(key, stale, stale_etag)  # the loser's late confirmation
    fresh = runtime.table_store().table(LISTS_TABLE).get_raw(*key)
    assert fresh["open_balance"] == "100.00"  # the newer content stays
    with pytest.raises(ConcurrencyConflict):
        runtime.table_store().table(LISTS_TABLE).delete(*key, etag=stale_etag)


def test_a_fraud_hold_appears_in_the_lists(env: Env) -> None:
    from shared import wiring
    from shared.domain.fraud import FraudReport
    from shared.services.fraud import intake

    cid = new_customer("Litware")
    report = FraudReport.model_validate(
        {
            "customer_id": cid,
            "category": "payment_fraud",
            "severity": "critical",
            "source": "monitor",
            "reporter": "soc",
            "description": "chargebacks",
        }
    )
    intake.submit(wiring.fraud(), report, actor=ALICE, idempotency_key=None)
    assert [h.reason for h in lists.list_holds(deps(), customer_id=cid).items] == ["fraud"]
    assert [i.customer_id for i in lists.list_customers(deps(), CustomerQuery(hold="fraud")).items] == [cid]
    assert not any(r["pending"] for r in _index_rows(cid).values())


def test_bad_list_parameters_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="currency"):
        CustomerQuery(overdue_min="10")
    with pytest.raises(ValueError):
        CustomerQuery(overdue_min="1e3", currency="CNY")
    with pytest.raises(ValueError):
        CustomerQuery(stage="nonsense")


def test_customers_stored_before_the_lists_are_indexed_by_the_rebuild(env: Env) -> None:
    from shared.adapters.customers import CustomerRepository
    from tools.reindex import reindex

    cid = new_customer("Old Customer")
    controls.place_manual_hold(
        deps(), cid, controls.ManualHoldIn(reason="x"), actor=ALICE, correlation_id="c"
    )
    table = runtime.table_store().table(LISTS_TABLE)
    for entity in list(table.query("PartitionKey ge @low", {"low": ""})):
        table.delete(entity["PartitionKey"], entity["RowKey"])  # as if indexed never
    assert lists.list_customers(deps(), CustomerQuery()).items == []
    repo = CustomerRepository.of(runtime.table_store())
    assert repo.lists is not None
    assert reindex(repo, repo.lists) == 1
    [item] = lists.list_customers(deps(), CustomerQuery(name="old")).items
    assert item.customer_id == cid and item.holds == ["manual"]
    assert [h.customer_id for h in lists.list_holds(deps()).items] == [cid]
