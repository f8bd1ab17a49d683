"""Demo ledger for `make run`: the three demo customers with profiles, invoices and payments.

Idempotent: running it again finds the same ids and changes nothing (an invoice seeded on an
earlier day keeps its dates). Dates are relative to today so that, on a fresh store,
11111111-... is deep overdue (walks reminder, warning, suspension), 22222222-... has paid, and
33333333-... is overdue. Run after Azurite is up, with the app settings in the environment:

    python -m tools.demo_ledger
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from shared import clock
from shared.domain.customer import CustomerProfile
from shared.domain.ledger import InvoiceIn, PaymentIn
from shared.domain.money import Money
from shared.errors import Conflict
from shared.services import ledger

log = logging.getLogger("demo_ledger")

ACTOR = "demo-seed"
CUSTOMERS = {
    "11111111-1111-4111-8111-111111111111": ("上海示例科技有限公司", "zh-CN", "12800.00", 25),
    "22222222-2222-4222-8222-222222222222": ("Fabrikam Trading Ltd", "en", "3600.00", 20),
    "33333333-3333-4333-8333-333333333333": ("北京示范有限公司", "zh-CN", "5400.00", 12),
}
PAID = {"22222222-2222-4222-8222-222222222222"}


def seed() -> None:
    """Create (or find) the demo customers and their ledgers."""
    today = clock.now().date()
    for customer_id, (name, locale, amount, days_overdue) in CUSTOMERS.items():
        profile = CustomerProfile.model_validate(
            {
                "name": name,
                "locale": locale,
                "contacts": [{"name": "Billing", "email": "billing@example.com"}],
            }
        )
        ledger.put_customer(customer_id, profile, ACTOR, "demo-seed")
        due = today - timedelta(days=days_overdue)
        invoice = InvoiceIn(
            invoice_id=f"DEMO-{customer_id[:4]}-1",
            customer_id=customer_id,
            number=f"INV-{customer_id[:4]}-0001",
            amount=Money(amount=Decimal(amount)),
            issued_on=due - timedelta(days=30),
            due_date=due,
        )
        try:
            ledger.post_invoice(invoice, ACTOR, "demo-seed")
        except Conflict:
            log.info("demo invoice of %s already seeded on an earlier day", customer_id)
        if customer_id in PAID:
            payment = PaymentIn(
                payment_id=f"DEMO-{customer_id[:4]}-P1",
                customer_id=customer_id,
                amount=Money(amount=Decimal(amount)),
                received_at=clock.now() - timedelta(days=days_overdue + 1),
            )
            try:
                ledger.post_payment(payment, ACTOR, "demo-seed")
            except Conflict:
                log.info("demo payment of %s already seeded on an earlier day", customer_id)
    log.info("demo ledger seeded: %d customers", len(CUSTOMERS))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    seed()
