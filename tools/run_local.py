"""`make run`: Azurite, then the local Functions host on 127.0.0.1:7071, until Ctrl-C.

Data is kept under `.azurite/` (git-ignored) so that state survives restarts. Ctrl-C (or
SIGTERM) stops every child process.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tools.azurite import REPO_ROOT, Azurite

log = logging.getLogger("run_local")

AZURITE_PORTS = (10000, 10001, 10002)


def _load_values(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
    return {str(k): str(v) for k, v in values.items()}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings_file = REPO_ROOT / "local.settings.json"
    env = dict(os.environ)
    for key, value in _load_values(settings_file).items():
        env.setdefault(key, value)

    azurite = Azurite.start(
        blob_port=AZURITE_PORTS[0],
        queue_port=AZURITE_PORTS[1],
        table_port=AZURITE_PORTS[2],
        location=REPO_ROOT / ".azurite",
    )
    log.info("Azurite listening on 127.0.0.1:%s (blob, queue, table)", ",".join(map(str, AZURITE_PORTS)))
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        host = subprocess.Popen(
            [sys.executable, "-m", "tools.devhost", "--settings", str(settings_file)],
            cwd=REPO_ROOT,
            env=env,
            start_new_session=True,
        )
        children.append(host)
        log.info("Functions host starting on http://127.0.0.1:7071 (Ctrl-C stops everything)")
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    log.error("%s exited with %s; stopping", child.args, child.returncode)
                    stopping = True
            time.sleep(0.2)
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        azurite.stop()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
