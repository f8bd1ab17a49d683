"""Demo ledger for `make run`: the three demo customers with profiles, invoices and payments.

Dates are relative to today: 11111111-... is 25 days overdue, 22222222-... has paid, and
33333333-... is 12 days overdue. 11111111-... has a credit limit of 25,000.00 CNY; run from
`make run` (with the simulator up), the seed ends with one exposure refresh: 11111111-... is
then near its limit, and the usage spike of 22222222-... on the simulator opens a fraud case.

On a fresh store the seed replays the last weeks: with the clock set back it posts the ledger
and runs one collections scan a day (10:00 Asia/Shanghai), as the app would have. So 11111111-...
has had its reminder and warning, its notice period is over and its `non_payment` hold is placed
with a reconcile message waiting: a newcomer running `make run` sees the executor suspend its
subscriptions in the simulator within seconds, and can pay to see them come back
(docs/local-run.md). On a store seeded before, it changes nothing.

Run after Azurite is up, with the app settings in the environment: `python -m tools.demo_ledger`
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared import clock, wiring
from shared.clock import FixedClock
from shared.domain.customer import CustomerProfile
from shared.domain.identity import Actor
from shared.domain.ledger import InvoiceIn, PaymentIn
from shared.domain.money import Money
from shared.errors import Conflict
from shared.services.collections import ledger
from shared.services.collections import scan as collections

log = logging.getLogger("demo_ledger")

ACTOR = Actor.system("demo-seed")
CUSTOMERS = {
    "11111111-1111-4111-8111-111111111111": ("上海示例科技有限公司", "zh-CN", "12800.00", 25),
    "22222222-2222-4222-8222-222222222222": ("Fabrikam Trading Ltd", "en", "3600.00", 20),
    "33333333-3333-4333-8333-333333333333": ("北京示范有限公司", "zh-CN", "5400.00", 12),
}
PAID = {"22222222-2222-4222-8222-222222222222"}
# The credit the partner gives: 11111111-... runs up near it (its overdue invoice plus this
# month's unbilled charges in the simulator), so credit control has something to show.
CREDIT_LIMITS = {"11111111-1111-4111-8111-111111111111": "25000.00 CNY"}
REPLAY_DAYS = 35  # more than the oldest demo invoice is overdue, so the walk starts before it


def seed(today: date) -> None:
    """Create (or find) the demo customers and their ledgers, due dates relative to `today`."""
    deps = wiring.collections()
    for customer_id, (name, locale, amount, days_overdue) in CUSTOMERS.items():
        contacts = [{"name": "Billing", "email": "billing@example.com"}]
        data = {"name": name, "locale": locale, "contacts": contacts}
        if customer_id in CREDIT_LIMITS:
            data["credit_limit"] = CREDIT_LIMITS[customer_id]
        profile = CustomerProfile.model_validate(data)
        ledger.put_customer(deps, customer_id, profile, actor=ACTOR, correlation_id="demo-seed")
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
            ledger.post_invoice(deps, invoice, actor=ACTOR, correlation_id="demo-seed")
        except Conflict:
            log.debug("demo invoice of %s already seeded on an earlier day", customer_id)
    seed_payments(today)
    log.info("demo ledger seeded: %d customers", len(CUSTOMERS))


def seed_payments(today: date) -> None:
    """The demo payments received by now (the app refuses a payment dated in the future)."""
    deps = wiring.collections()
    for customer_id in PAID:
        _, _, amount, days_overdue = CUSTOMERS[customer_id]
        due = today - timedelta(days=days_overdue)
        received = datetime(due.year, due.month, due.day, 2, 0, tzinfo=UTC) - timedelta(days=1)
        if received > clock.now():
            continue  # the replay has not reached that day yet
        payment = PaymentIn(
            payment_id=f"DEMO-{customer_id[:4]}-P1",
            customer_id=customer_id,
            amount=Money(amount=Decimal(amount)),
            received_at=received,
        )
        try:
            ledger.post_payment(deps, payment, actor=ACTOR, correlation_id="demo-seed")
        except Conflict:
            log.debug("demo payment of %s already seeded on an earlier day", customer_id)


def deliver_notices() -> None:
    """Hand every notice waiting on the notice queue to the notice sender (the replay's clock
    is the sender's: a warning counts as delivered on the day it was sent)."""
    from azure.storage.queue import QueueClient

    from shared.services.collections.notices import handle_notice
    from shared.services.collections.outbox import NoticeMessage
    from shared.settings import get_settings

    settings = get_settings()
    if not settings.storage_connection_string:
        return
    queue = QueueClient.from_connection_string(settings.storage_connection_string, settings.notice_queue_name)
    try:
        messages = list(queue.receive_messages(messages_per_page=32, visibility_timeout=60))
    except Exception as exc:  # the queue does not exist yet: nothing was published
        if "QueueNotFound" in str(exc):
            return
        raise
    for message in messages:
        body = base64.b64decode(message.content)
        handle_notice(wiring.collections(), NoticeMessage.model_validate_json(body))
        queue.delete_message(message)


def seed_with_history() -> None:
    """On a fresh store: seed with the clock set back, then one scan a day up to today."""
    deps = wiring.collections()
    now = clock.now()
    if deps.customers.load(next(iter(CUSTOMERS))).exists:
        seed(now.date())  # seeded before: finds everything, changes nothing
        return
    start = datetime(now.year, now.month, now.day, 2, 0, tzinfo=UTC) - timedelta(days=REPLAY_DAYS)
    replay = FixedClock(start)
    previous = clock.set_clock(replay)
    try:
        seed(now.date())
        for day in range(REPLAY_DAYS + 1):
            replay.set(min(start + timedelta(days=day), now))
            seed_payments(now.date())
            report = collections.run_scan(deps)
            deliver_notices()  # as the notice sender would have, that day
            if report.actions:
                log.debug("replayed scan of %s: %d actions", replay.now().date(), report.actions)
    finally:
        clock.set_clock(previous)
    log.info("replayed %d days of daily collections scans", REPLAY_DAYS)


def refresh_exposure() -> None:
    """One exposure refresh against the local simulator (its demo tenant's unbilled charges):
    11111111-... lands near its credit limit, and the usage spike of 22222222-... opens a fraud
    case. Only when PARTNER_CENTER_BASE_URL names a local simulator: the seed never calls the
    real Partner Center."""
    from shared.services.exposure.refresh import refresh_exposure as run
    from shared.settings import get_settings

    base = get_settings().partner_center_base_url or ""
    if not base.startswith(("http://127.0.0.1", "http://localhost")):
        log.info("no local Partner Center simulator: the demo exposure refresh is skipped")
        return
    result = run(wiring.exposure())
    log.info("demo exposure refresh: %s", "done" if result.finished else result.phase)


if __name__ == "__main__":
    from tools import logs

    if not logs.configure(["demo_ledger"]):
        # The replayed weeks are the demo's past: their alerts and mode switch are listed at
        # /api/alerts and in the audit trail, not news for the person starting the app.
        logging.getLogger("shared").setLevel(logging.CRITICAL)
    seed_with_history()
    refresh_exposure()
