"""Refresh the console screenshots in docs/console/ (`python -m tools.console_screenshots`): runs
the browser tests with CONSOLE_SCREENSHOTS pointing there. `make test` writes them to a
temporary folder instead, so the work tree stays clean."""

from __future__ import annotations

import os
import subprocess
import sys

from tools.azurite import REPO_ROOT


def main() -> int:
    env = {**os.environ, "CONSOLE_SCREENSHOTS": str(REPO_ROOT / "docs" / "console")}
    test = "tests/e2e/test_console_browser.py"
    return subprocess.run(
        [sys.executable, "-m", "pytest", test, "-q"], cwd=REPO_ROOT, env=env, check=False
    ).returncode


if __name__ == "__main__":
    raise SystemExit(main())
