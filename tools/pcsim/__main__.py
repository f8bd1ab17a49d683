"""`python -m tools.pcsim --port 7081 --seed tools/pcsim/demo_tenant.json`"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from tools.pcsim.server import DEMO_TENANT, Simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Partner Center simulator (loopback HTTP)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7081)
    parser.add_argument("--seed", default=str(DEMO_TENANT), help="tenant data file (JSON)")
    parser.add_argument("--rate-limit", type=int, default=500, help="requests per minute per tenant")
    parser.add_argument("--random-seed", type=int, default=7, help="seed of the fault randomness")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sim = Simulator(
        args.seed, host=args.host, port=args.port, rate_limit=args.rate_limit, random_seed=args.random_seed
    ).start()
    logging.getLogger("pcsim").info(
        "Partner Center simulator on %s (state: %s/_sim/state)", sim.base_url, sim.base_url
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    stopping.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
