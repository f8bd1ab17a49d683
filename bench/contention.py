"""Twenty writers at one customer at once: with the per-customer serialisation of attempts
(`retry_on_conflict(..., key=customer)`) against the bare ETag retry, in one run, on one Azurite.

Each round posts `--writers` different invoices to ONE customer from as many threads released
together (a barrier), through the real use case (`ledger.post_invoice`: read the partition,
decide, one entity-group transaction under ETags). Prints, per variant, how many writes landed,
how many were refused (`Contended`: 409 + Retry-After), the ETag conflicts met on the way and the
wall time of a round, and the ratio serialised/bare.

    .venv/bin/python -m bench.contention [--writers 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from unittest import mock

from shared import runtime, wiring
from shared.adapters import conflicts
from shared.domain.customer import CustomerProfile
from shared.domain.ledger import InvoiceIn
from shared.domain.money import Money
from shared.errors import Contended
from shared.services.collections import ledger
from tools.azurite import Azurite


def _round(writers: int) -> tuple[int, int, float]:
    deps = wiring.collections()
    cid = str(uuid.uuid4())
    ledger.put_customer(deps, cid, CustomerProfile(name="Bench"), actor="bench", correlation_id="b")
    barrier = threading.Barrier(writers)
    landed: list[int] = []
    refused: list[int] = []

    def write(n: int) -> None:
        body = InvoiceIn(
            invoice_id=f"B-{n}",
            customer_id=cid,
            number=f"B-{n}",
            amount=Money(amount=Decimal(100)),
            issued_on=date(2026, 11, 1),
            due_date=date(2026, 12, 30),
        )
        barrier.wait()
        try:
            ledger.post_invoice(deps, body, actor="bench", correlation_id=f"b{n}")
            landed.append(n)
        except Contended:
            refused.append(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(landed), len(refused), time.perf_counter() - start


def _variant(serialised: bool, writers: int, rounds: int, before: bool = False) -> dict[str, float]:
    conflicts_met = [0]
    real_backoff = conflicts.backoff_seconds

    def counting_backoff(failures: int, rng: object = None) -> float:
        conflicts_met[0] += 1
        return real_backoff(failures)

    original = conflicts.retry_on_conflict

    def bare(*args: object, **kwargs: object) -> object:
        kwargs.pop("key", None)
        if before:
            kwargs["attempts"] = 10
        return original(*args, **kwargs)  # type: ignore[arg-type]

    patches = [mock.patch.object(conflicts, "backoff_seconds", counting_backoff)]
    if before:  # the helper as it was: 10 attempts, back-off up to 0.25 s
        patches.append(mock.patch.object(conflicts, "BACKOFF_CAP_SECONDS", 0.25))
    if not serialised:
        patches.append(mock.patch("shared.services.collections.customer_change.retry_on_conflict", bare))
    for patch in patches:
        patch.start()
    try:
        results = [_round(writers) for _ in range(rounds)]
    finally:
        for patch in patches:
            patch.stop()
    return {
        "landed": sum(r[0] for r in results),
        "refused": sum(r[1] for r in results),
        "conflicts": conflicts_met[0],
        "seconds": statistics.median(r[2] for r in results),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    azurite = Azurite.start()
    try:
        os.environ.update(
            {
                "AzureWebJobsStorage": azurite.connection_string,
                "QUEUE_TRANSPORT": "storage",
                "TABLE_PREFIX": "b" + uuid.uuid4().hex[:8],
                "ENFORCEMENT_MODE": "enforce",
            }
        )
        runtime.reset()
        total = args.writers * args.rounds
        old = _variant(False, args.writers, args.rounds, before=True)
        bare = _variant(False, args.writers, args.rounds)
        serial = _variant(True, args.writers, args.rounds)
        variants = (
            ("before (10 tries, <=0.25 s)", old),
            ("ETag retry (16, <=0.5 s)", bare),
            ("+ serialised per customer", serial),
        )
        for name, figures in variants:
            landed, refused = figures["landed"], figures["refused"]
            print(
                f"{name:>28}: {landed:.0f}/{total} landed, {refused:.0f} refused (409), "
                f"{figures['conflicts']:.0f} ETag conflicts, median round {figures['seconds'] * 1000:.0f} ms"
            )
        ratio = serial["seconds"] / bare["seconds"] if bare["seconds"] else float("nan")
        print(f"serialised/bare round time: {ratio:.2f}x")
    finally:
        runtime.reset()
        azurite.stop()


if __name__ == "__main__":
    main()
