"""Cold start: `import function_app` against a minimal one-route `FunctionApp`, same run.

Every cold instance of the function app imports `function_app` before it can index and answer,
so what that import loads is paid on every scale-out. Each sample is a fresh Python process
(nothing cached in memory; the files are in the OS cache after the first run, as on a warm
host), timed inside the process around the import alone. The two kinds of process alternate
(app, minimal, app, minimal, ...) so that a busy moment of the machine falls on both; the
figure is the median of the per-pair ratios. Target: <= 2.5x.

`--app PATH` measures another checkout (for a before/after comparison).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 2.5

MINIMAL_APP = """
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("ok")
"""

TIMER = (
    "import time, sys; started = time.perf_counter(); import {module}; "
    "assert {module}.app.get_functions(); "
    "sys.stdout.write(repr(time.perf_counter() - started))"
)


def sample(app_dir: Path, module: str) -> float:
    """Seconds to import `module` (and list its functions) in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(app_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(module=module)],
        cwd=app_dir,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="pairs of processes (default 15)")
    parser.add_argument("--app", type=Path, default=ROOT, help="the checkout whose function_app is measured")
    args = parser.parse_args(argv)
    app_dir = args.app.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        minimal_dir = Path(tmp)
        (minimal_dir / "minimal_app.py").write_text(MINIMAL_APP, encoding="utf-8")
        sample(app_dir, "function_app")  # warm the OS file cache and the bytecode of both
        sample(minimal_dir, "minimal_app")
        apps, minimals, ratios = [], [], []
        for _ in range(args.runs):
            app_seconds = sample(app_dir, "function_app")
            minimal_seconds = sample(minimal_dir, "minimal_app")
            apps.append(app_seconds)
            minimals.append(minimal_seconds)
            ratios.append(app_seconds / minimal_seconds)
    ratio = statistics.median(ratios)
    print(f"checkout:                      {app_dir}")
    print(f"pairs of fresh processes:      {args.runs}")
    print(f"import function_app, median:   {statistics.median(apps) * 1000:.0f} ms")
    print(f"minimal one-route app, median: {statistics.median(minimals) * 1000:.0f} ms")
    print(f"median ratio app / minimal:    {ratio:.2f} (target <= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
