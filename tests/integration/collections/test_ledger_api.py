"""Ledger use cases against Azurite: idempotency, currency, CSV import, holds, audit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError as PydanticValidationError

from shared.adapters.audit import AuditEntry, AuditLog, HeadRef
from shared.domain.ledger import InvoiceIn
from shared.domain.money import Money
from shared.errors import BadRequest, Conflict, NotFound, ValidationFailed
from shared.services.collections import controls, customer_view, ledger
from shared.services.collections.ledger_import import import_csv
from shared.services.outcomes import Effect
from tests.actors import ALICE, TEST_ACTOR
from tests.integration.collections.conftest import Env, deps, invoice, new_customer, payment


def test_invoice_post_is_idempotent(env: Env) -> None:
    cid = new_customer()
    body = invoice(cid, "i1", "500", date(2026, 3, 20))
    assert ledger.post_invoice(deps(), body, actor=TEST_ACTOR, correlation_id="c").effect is Effect.CREATED
    assert ledger.post_invoice(deps(), body, actor=TEST_ACTOR, correlation_id="c").effect is Effect.UNCHANGED
    with pytest.raises(Conflict, match="already posted with a different number") as refused:
        ledger.post_invoice(
            deps(),
            body.model_copy(update={"number": "other", "amount": body.amount.model_copy()}),
            actor=TEST_ACTOR,
            correlation_id="c",
        )
    # the 409 names the fields that differ, and only those
    assert refused.value.members == {"differing_fields": ["number"]}
    assert [e["field"] for e in refused.value.errors or []] == ["number"]
    assert "number" in (refused.value.localized or {})["zh-CN"]
    view = customer_view.customer_view(deps(), cid)
    assert view.balance == "500.00 CNY"
    assert view.oldest_unpaid_due_date == date(2026, 3, 20)


def test_payment_post_is_idempotent_and_currency_checked(env: Env) -> None:
    cid = new_customer()
    ledger.post_invoice(
        deps(), invoice(cid, "i1", "500", date(2026, 3, 20)), actor=TEST_ACTOR, correlation_id="c"
    )
    body = payment(cid, "p1", "200")
    assert ledger.post_payment(deps(), body, actor=TEST_ACTOR, correlation_id="c").effect is Effect.CREATED
    assert ledger.post_payment(deps(), body, actor=TEST_ACTOR, correlation_id="c").effect is Effect.UNCHANGED
    with pytest.raises(Conflict):
        ledger.post_payment(
            deps(), body.model_copy(update={"reference": "x"}), actor=TEST_ACTOR, correlation_id="c"
        )
    usd = payment(cid, "p2", "10").model_copy(
        update={"amount": body.amount.model_copy(update={"currency": "USD"})}
    )
    with pytest.raises(Conflict, match="USD"):
        ledger.post_payment(deps(), usd, actor=TEST_ACTOR, correlation_id="c")
    with pytest.raises(ValidationFailed, match="does not have"):
        ledger.post_payment(
            deps(), payment(cid, "p3", "1", invoice_ids=["nope"]), actor=TEST_ACTOR, correlation_id="c"
        )
    assert customer_view.customer_view(deps(), cid).balance == "300.00 CNY"


def test_unknown_customer_is_404(env: Env) -> None:
    with pytest.raises(NotFound):
        ledger.post_invoice(
            deps(),
            invoice("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "i", "1", date(2026, 3, 1)),
            actor=TEST_ACTOR,
            correlation_id="c",
        )


def test_csv_import_bad_rows_reject_only_their_customer(env: Env) -> None:
    good, bad = new_customer(), new_customer()
    csv_text = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date,received_at,invoice_ids\n"
        f"invoice,{good},g1,N1,100.00,CNY,2026-02-01,2026-02-20,,\n"
        f"payment,{good},gp1,,40,CNY,,,2026-03-01T10:00:00+08:00,g1\n"
        f"invoice,{bad},b1,N2,100.00,CNY,2026-02-01,2026-02-20,,\n"
        f"invoice,{bad},b2,N3,abc,CNY,2026-02-01,2026-02-20,,\n"
    ).encode()
    report = import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")
    by_line = {r.line: r for r in report.results}
    assert by_line[2].result == "created" and by_line[3].result == "created"
    assert by_line[5].result == "error" and by_line[5].field == "amount"
    assert by_line[4].result == "rejected"
    assert report.customers_applied == 1 and report.customers_rejected == 1
    assert customer_view.customer_view(deps(), good).balance == "60.00 CNY"
    assert customer_view.customer_view(deps(), bad).balance == "0.00 CNY"
    again = import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")
    assert {r.line: r.result for r in again.results}[2] == "unchanged"


def test_csv_conflicting_row_rolls_back_the_customer(env: Env) -> None:
    cid = new_customer()
    ledger.post_invoice(
        deps(), invoice(cid, "i1", "100", date(2026, 3, 20)), actor=TEST_ACTOR, correlation_id="c"
    )
    csv_text = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date\n"
        f"invoice,{cid},i2,N2,50,CNY,2026-03-01,2026-03-20\n"
        f"invoice,{cid},i1,CHANGED,100,CNY,2026-03-01,2026-03-20\n"
    ).encode()
    report = import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")
    assert [r.result for r in report.results] == ["rejected", "error"]
    assert "already posted with a different number" in (report.results[1].message or "")
    assert report.results[1].field == "number"
    assert customer_view.customer_view(deps(), cid).balance == "100.00 CNY"


def test_csv_too_many_rows_for_one_customer(env: Env) -> None:
    cid = new_customer()
    lines = ["kind,customer_id,id,number,amount,currency,issued_on,due_date"]
    lines += [f"invoice,{cid},i{k},N{k},1,CNY,2026-03-01,2026-03-20" for k in range(81)]
    report = import_csv(deps(), "\n".join(lines).encode(), actor=TEST_ACTOR, correlation_id="c")
    assert report.customers_rejected == 1
    assert "more than 80 rows" in (report.results[0].message or "")
    assert customer_view.customer_view(deps(), cid).balance == "0.00 CNY"


def test_csv_header_missing_columns(env: Env) -> None:
    with pytest.raises(ValidationFailed, match="header"):
        import_csv(deps(), b"customer_id,amount\nx,1\n", actor=TEST_ACTOR, correlation_id="c")


def test_manual_hold_and_lift_publish_reconcile_and_audit_verifies(env: Env) -> None:
    cid = new_customer()
    hold = controls.place_manual_hold(
        deps(), cid, controls.ManualHoldIn(reason="contract review"), actor=ALICE, correlation_id="c"
    ).value
    assert [m["reason"] for m in env.reconciles()] == ["manual hold placed"]
    with pytest.raises(NotFound):
        controls.lift_manual_hold(deps(), cid, "nope", actor=ALICE, correlation_id="c")
    assert (
        controls.lift_manual_hold(deps(), cid, hold.hold_id, actor=ALICE, correlation_id="c").effect
        is Effect.REMOVED
    )
    assert [m["reason"] for m in env.reconciles()] == ["manual hold lifted"]
    trail = customer_view.audit_trail(deps(), cid)
    assert trail["verified"] is True
    actions = [e["action"] for e in trail["entries"]]
    assert actions[0] == "collections.decision"
    assert "hold.placed" in actions and "hold.lifted" in actions
    assert all(e["correlation_id"] and e["actor"] for e in trail["entries"])


def test_exemption_in_the_past_is_refused(env: Env) -> None:
    cid = new_customer()
    body = controls.ExemptionIn(kind="promise_to_pay", until=date(2026, 3, 1) - timedelta(days=1), reason="x")
    with pytest.raises(ValidationFailed):
        controls.add_exemption(deps(), cid, body, actor=TEST_ACTOR, correlation_id="c")


def test_csv_short_row_is_a_row_error_not_a_crash(env: Env) -> None:
    cid = new_customer()
    csv_text = f"kind,customer_id,id,number,amount,currency,issued_on,due_date\ninvoice,{cid}\n".encode()
    report = import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")
    assert [(r.line, r.result, r.field) for r in report.results] == [(2, "error", "id")]
    assert report.customers_rejected == 1


def test_csv_error_names_the_file_line_after_blank_lines_and_quoted_breaks(env: Env) -> None:
    cid = new_customer()
    csv_text = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date\n"
        "\n"
        f'invoice,{cid},i1,"two\nlines",10,CNY,2026-02-01,2026-02-20\n'
        "\n"
        f"invoice,{cid},i2,N2,abc,CNY,2026-02-01,2026-02-20\n"
        f"invoice,{cid},i3,N3,10,CNY,2026-02-21,2026-02-20\n"
    ).encode()
    report = import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")
    assert [(r.line, r.result, r.field) for r in report.results] == [
        (3, "error", "number"),  # a line break is refused in an invoice number
        (6, "error", "amount"),
        (7, "error", "due_date"),
    ]


def test_csv_syntax_error_is_a_bad_request(env: Env) -> None:
    cid = new_customer()
    huge = "x" * 140_000
    csv_text = f'kind,customer_id,id,number\ninvoice,{cid},i1,"{huge}"\n'.encode()
    with pytest.raises(BadRequest, match="line"):
        import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")


def test_csv_payment_in_another_currency_names_the_currency_column(env: Env) -> None:
    cid = new_customer()
    ledger.post_invoice(
        deps(), invoice(cid, "i1", "100", date(2026, 3, 20)), actor=TEST_ACTOR, correlation_id="c"
    )
    csv_text = (
        "kind,customer_id,id,amount,currency,received_at\n"
        f"payment,{cid},p1,10,USD,2026-03-01T10:00:00+08:00\n"
    ).encode()
    report = import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")
    assert [(r.result, r.field) for r in report.results] == [("error", "currency")]


def test_exemption_until_is_a_local_date_of_the_policy_time_zone(env: Env) -> None:
    cid = new_customer()
    # 17:00 UTC on 2 March is 01:00 on 3 March in Shanghai: 2 March has ended there.
    env.clock.set(datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    ended = controls.ExemptionIn(kind="promise_to_pay", until=date(2026, 3, 2), reason="x")
    with pytest.raises(ValidationFailed, match="past"):
        controls.add_exemption(deps(), cid, ended, actor=TEST_ACTOR, correlation_id="c")
    today = controls.ExemptionIn(kind="promise_to_pay", until=date(2026, 3, 3), reason="x")
    assert (
        controls.add_exemption(deps(), cid, today, actor=TEST_ACTOR, correlation_id="c").effect
        is Effect.CREATED
    )


def test_audit_verifies_when_an_entry_is_appended_while_it_is_read(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = new_customer()
    original = AuditLog.read_head
    appended: list[bool] = []

    def head_after_a_concurrent_append(self: AuditLog, partition_key: str) -> HeadRef:
        if not appended:  # between the entries and the head, another writer appends once
            appended.append(True)
            entry = AuditEntry(at=env.clock.now(), actor=TEST_ACTOR, action="x.y", correlation_id="c")
            AuditLog(self.table).append(partition_key, [entry])
        return original(self, partition_key)

    monkeypatch.setattr(AuditLog, "read_head", head_after_a_concurrent_append)
    trail = customer_view.audit_trail(deps(), cid)
    assert trail["verified"] is True, trail["problem"]
    assert trail["entries"][0]["action"] == "x.y"


def test_the_first_entry_sets_the_ledger_currency(env: Env) -> None:
    usd = Money(amount=Decimal("500"), currency="USD")
    cid = new_customer()
    first = invoice(cid, "i1", "500", date(2026, 3, 20)).model_copy(update={"amount": usd})
    assert ledger.post_invoice(deps(), first, actor=TEST_ACTOR, correlation_id="c").effect is Effect.CREATED
    with pytest.raises(ValidationFailed, match="in USD"):
        ledger.post_invoice(
            deps(), invoice(cid, "i2", "10", date(2026, 3, 20)), actor=TEST_ACTOR, correlation_id="c"
        )
    assert customer_view.customer_view(deps(), cid).balance == "500.00 USD"
    # a credit limit in CNY fixes an empty ledger's currency
    fixed = new_customer(credit_limit={"amount": "1000", "currency": "CNY"})
    other = invoice(fixed, "i1", "500", date(2026, 3, 20)).model_copy(update={"amount": usd})
    with pytest.raises(ValidationFailed, match="in CNY"):
        ledger.post_invoice(deps(), other, actor=TEST_ACTOR, correlation_id="c")


def test_csv_with_old_mac_line_ends_is_read_and_lines_are_counted(env: Env) -> None:
    cid = new_customer()
    csv_text = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date\r"
        f"invoice,{cid},i1,N1,10,CNY,2026-02-01,2026-02-20\r"
        "\r"
        f"invoice,{cid},i2,N2,abc,CNY,2026-02-01,2026-02-20\r"
    ).encode()
    report = import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c")
    assert [(r.line, r.result) for r in report.results] == [(2, "rejected"), (4, "error")]


def test_dates_the_calendar_cannot_handle_are_refused_not_a_crash(env: Env) -> None:
    cid = new_customer()
    ledger.post_invoice(
        deps(), invoice(cid, "i1", "500", date(2026, 2, 1)), actor=TEST_ACTOR, correlation_id="c"
    )
    fields = invoice(cid, "i2", "1", date(2026, 3, 1)).model_dump()
    for due in (date(9999, 12, 31), date(1, 1, 2)):
        with pytest.raises(PydanticValidationError):
            InvoiceIn.model_validate({**fields, "issued_on": date(1, 1, 1), "due_date": due})
    for received in ("1500-01-01T00:00:00+00:00", "9999-12-31T00:00:00+00:00"):
        with pytest.raises(PydanticValidationError):
            payment(cid, "p1", "1", received_at=received)
    for kind in ("promise_to_pay", "enforcement_off"):
        with pytest.raises(PydanticValidationError):
            controls.ExemptionIn(kind=kind, until=date(9999, 12, 31), reason="x")
    far = controls.ExemptionIn(kind="promise_to_pay", until=date(2999, 12, 31), reason="x")
    with pytest.raises(ValidationFailed, match="at most 60 days"):  # the policy's maximum
        controls.add_exemption(deps(), cid, far, actor=TEST_ACTOR, correlation_id="c")
    csv_text = (
        "kind,customer_id,id,number,amount,currency,issued_on,due_date\n"
        f"invoice,{cid},i3,N3,10,CNY,2026-02-01,9999-12-31\n"
    ).encode()
    assert [
        (r.result, r.field)
        for r in import_csv(deps(), csv_text, actor=TEST_ACTOR, correlation_id="c").results
    ] == [("error", "due_date")]
