"""The ledger rules: allocation order, partial and over-payment, currency, idempotency content."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain.ledger import (
    Invoice,
    InvoiceIn,
    InvoiceStatus,
    LedgerError,
    Payment,
    PaymentIn,
    allocate,
    ledger_currency,
    totals,
)
from shared.domain.money import Money

CUSTOMER = "11111111-1111-4111-8111-111111111111"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def inv(
    invoice_id: str, amount: str, due: date, status: InvoiceStatus = InvoiceStatus.OPEN, cur: str = "CNY"
) -> Invoice:
    return Invoice(
        invoice_id=invoice_id,
        customer_id=CUSTOMER,
        number=f"N-{invoice_id}",
        amount=Money(amount=Decimal(amount), currency=cur),
        issued_on=due - timedelta(days=30),
        due_date=due,
        status=status,
        created_at=T0,
        updated_at=T0,
    )


def pay(
    payment_id: str, amount: str, at: datetime = T0, names: list[str] | None = None, cur: str = "CNY"
) -> Payment:
    return Payment(
        payment_id=payment_id,
        customer_id=CUSTOMER,
        amount=Money(amount=Decimal(amount), currency=cur),
        received_at=at,
        invoice_ids=names,
        created_at=at,
    )


def test_payment_pays_oldest_open_invoice_first() -> None:
    a = inv("a", "100", date(2026, 1, 10))
    b = inv("b", "100", date(2026, 1, 5))
    result = allocate([a, b], [pay("p", "150")])
    assert result.paid == {"b": Decimal(100), "a": Decimal(50)}
    assert result.credit == 0


def test_named_invoices_are_paid_first() -> None:
    a = inv("a", "100", date(2026, 1, 10))
    b = inv("b", "100", date(2026, 1, 5))
    result = allocate([a, b], [pay("p", "120", names=["a"])])
    assert result.paid == {"a": Decimal(100), "b": Decimal(20)}
    assert result.by_payment["p"] == {"a": Decimal(100), "b": Decimal(20)}


def test_overpayment_becomes_credit_and_pays_a_later_invoice() -> None:
    a = inv("a", "100", date(2026, 1, 10))
    first = allocate([a], [pay("p", "250")])
    assert first.credit == Decimal(150)
    later = inv("b", "120", date(2026, 2, 10))
    second = allocate([a, later], [pay("p", "250")])
    assert second.paid["b"] == Decimal(120)
    assert second.credit == Decimal(30)


def test_void_invoice_is_never_paid_and_its_money_moves() -> None:
    a = inv("a", "100", date(2026, 1, 5), InvoiceStatus.VOID)
    b = inv("b", "100", date(2026, 1, 10))
    result = allocate([a, b], [pay("p", "150", names=["a"])])
    assert "a" not in result.paid
    assert result.paid["b"] == Decimal(100)
    assert result.credit == Decimal(50)


def test_disputed_invoice_is_paid_only_when_named() -> None:
    a = inv("a", "100", date(2026, 1, 5), InvoiceStatus.DISPUTED)
    b = inv("b", "100", date(2026, 1, 10))
    assert allocate([a, b], [pay("p", "100")]).paid == {"a": Decimal(0), "b": Decimal(100)}
    assert allocate([a, b], [pay("p", "100", names=["a"])]).paid == {"a": Decimal(100), "b": Decimal(0)}


def test_opening_credit_pays_before_payments() -> None:
    a = inv("a", "100", date(2026, 1, 5))
    result = allocate([a], [pay("p", "50")], opening_credit=Money(amount=Decimal(80)))
    assert result.paid["a"] == Decimal(100)
    assert result.credit == Decimal(30)


def test_another_currency_is_refused() -> None:
    a = inv("a", "100", date(2026, 1, 5))
    with pytest.raises(LedgerError, match="USD"):
        allocate([a], [pay("p", "100", cur="USD")])
    with pytest.raises(LedgerError):
        ledger_currency([a], [pay("p", "1", cur="USD")], "CNY")


def test_totals_disputed_and_void_are_not_overdue() -> None:
    today = date(2026, 2, 1)
    open_overdue = inv("a", "100", date(2026, 1, 5))
    disputed = inv("b", "70", date(2026, 1, 1), InvoiceStatus.DISPUTED)
    void = inv("c", "40", date(2026, 1, 1), InvoiceStatus.VOID)
    not_due = inv("d", "30", date(2026, 3, 1))
    invoices = [open_overdue, disputed, void, not_due]
    result = totals(allocate(invoices, [pay("p", "40")]), invoices, today)
    assert result.overdue_balance == Money(amount=Decimal(60))
    assert result.balance == Money(amount=Decimal(90))
    assert result.disputed_balance == Money(amount=Decimal(70))
    assert result.oldest_unpaid_due_date == date(2026, 1, 5)
    assert [u.invoice.invoice_id for u in result.unpaid if u.overdue] == ["a"]


def test_due_today_is_not_overdue() -> None:
    a = inv("a", "100", date(2026, 2, 1))
    result = totals(allocate([a], []), [a], date(2026, 2, 1))
    assert result.overdue_balance.amount == 0
    assert result.oldest_unpaid_due_date == date(2026, 2, 1)


def test_input_validation() -> None:
    with pytest.raises(ValidationError, match="greater than zero"):
        PaymentIn(payment_id="p", customer_id=CUSTOMER, amount=Money(amount=Decimal(0)), received_at=T0)
    with pytest.raises(ValidationError, match="time zone"):
        PaymentIn(
            payment_id="p",
            customer_id=CUSTOMER,
            amount=Money(amount=Decimal(1)),
            received_at=datetime(2026, 1, 1),
        )
    with pytest.raises(ValidationError, match="due_date"):
        InvoiceIn(
            invoice_id="i",
            customer_id=CUSTOMER,
            number="1",
            amount=Money(amount=Decimal(1)),
            issued_on=date(2026, 1, 2),
            due_date=date(2026, 1, 1),
        )
    with pytest.raises(ValidationError):
        InvoiceIn(
            invoice_id="bad id!",
            customer_id=CUSTOMER,
            number="1",
            amount=Money(amount=Decimal(1)),
            issued_on=date(2026, 1, 1),
            due_date=date(2026, 1, 1),
        )


def test_same_content_ignores_status_and_compares_instants() -> None:
    a = InvoiceIn.model_validate(
        {
            "invoice_id": "i",
            "customer_id": CUSTOMER.upper(),
            "number": "1",
            "amount": {"amount": "10.0", "currency": "CNY"},
            "issued_on": "2026-01-01",
            "due_date": "2026-01-31",
        }
    )
    b = a.model_copy(update={"status": InvoiceStatus.VOID})
    assert a.same_content(b)
    assert not a.same_content(a.model_copy(update={"number": "2"}))
    p = PaymentIn(payment_id="p", customer_id=CUSTOMER, amount=Money(amount=Decimal(1)), received_at=T0)
    q = p.model_copy(update={"received_at": T0.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))})
    assert p.same_content(q)


# --- properties -------------------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100000), places=2)
statuses = st.sampled_from(list(InvoiceStatus))


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Invoice], list[Payment]]:
    n_inv = draw(st.integers(0, 8))
    invoices = [
        inv(
            f"i{k}",
            str(draw(amounts)),
            date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 90))),
            draw(statuses),
        )
        for k in range(n_inv)
    ]
    ids = [i.invoice_id for i in invoices] + ["unknown"]
    payments = [
        pay(
            f"p{k}",
            str(draw(amounts)),
            T0 + timedelta(hours=draw(st.integers(0, 1000))),
            draw(st.none() | st.lists(st.sampled_from(ids), max_size=3)),
        )
        for k in range(draw(st.integers(0, 6)))
    ]
    return invoices, payments


@settings(max_examples=200, deadline=None)
@given(ledgers())
def test_money_is_conserved_and_nothing_is_negative(ledger: tuple[list[Invoice], list[Payment]]) -> None:
    invoices, payments = ledger
    result = allocate(invoices, payments)
    received = sum((p.amount.amount for p in payments), Decimal(0))
    applied = sum(result.paid.values(), Decimal(0))
    assert received == applied + result.credit
    assert result.credit >= 0
    for split in result.by_payment.values():
        assert all(v > 0 for v in split.values())
    for invoice in invoices:
        assert result.due(invoice) >= 0
        assert result.paid.get(invoice.invoice_id, Decimal(0)) <= invoice.amount.amount
    # credit is left only when every open invoice is fully paid
    if result.credit > 0:
        assert all(result.due(i) == 0 for i in invoices if i.status is InvoiceStatus.OPEN)
    summary = totals(result, invoices, date(2026, 2, 15))
    assert summary.overdue_balance.amount >= 0
    assert summary.overdue_balance.amount <= summary.balance.amount


@settings(max_examples=100, deadline=None)
@given(ledgers())
def test_allocation_ignores_input_order(ledger: tuple[list[Invoice], list[Payment]]) -> None:
    invoices, payments = ledger
    assert allocate(invoices, payments) == allocate(list(reversed(invoices)), list(reversed(payments)))


def test_summarise_for_the_evaluation() -> None:
    from shared.domain.ledger import summarise

    today = date(2026, 2, 1)
    a = inv("a", "100", date(2026, 1, 5))
    b = inv("b", "70", date(2026, 1, 1), InvoiceStatus.DISPUTED)
    c = inv("c", "30", date(2026, 3, 1))
    summary = summarise([a, b, c], [pay("p", "40")], None, today)
    assert summary.overdue_balance == Money(amount=Decimal(60))
    assert summary.open_balance == Money(amount=Decimal(90))
    assert summary.earliest_unpaid_due_date == date(2026, 1, 5)
    assert [r.invoice_id for r in summary.overdue_invoices] == ["a"]
    assert summary.overdue_invoices[0].amount_due == Money(amount=Decimal(60))
    assert summary.next_due_date == date(2026, 3, 1)
    paid = summarise([a], [pay("p", "130")], None, today)
    assert paid.overdue_balance.amount == 0
    assert paid.credit_balance == Money(amount=Decimal(30))
    assert paid.earliest_unpaid_due_date is None
