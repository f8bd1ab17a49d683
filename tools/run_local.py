"""`make run`: Azurite, the Partner Center simulator (demo tenant, 127.0.0.1:7081), the local SMTP
server and its mail viewer (127.0.0.1:1025, 127.0.0.1:7082), the demo ledger, then the local
Functions host on 127.0.0.1:7071, until Ctrl-C.

Data is kept under `.azurite/` (git-ignored) so that state survives restarts. Ctrl-C (or
SIGTERM) stops every child process. Ports and folders are flags so that a test can run the
very same thing on free ports.

The output is for a person: one line per component started, warnings only where something needs
doing, and a last block with the addresses, the demo users and a command to try. `--verbose`
shows every component's own log (tools/logs.py); the Azure SDK's HTTP header dumps stay off
unless `AZURE_SDK_HTTP_LOGGING=true`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tools import logs
from tools.azurite import REPO_ROOT, Azurite
from tools.devhost.easyauth import DEMO_USERS
from tools.mailsink import MailSink
from tools.mailviewer import MailViewer
from tools.pcsim import DEMO_TENANT, Simulator

log = logging.getLogger("run_local")


def _load_values(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
    return {str(k): str(v) for k, v in values.items()}


def _wait_healthy(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            time.sleep(0.25)
    return False


def _start_simulator(port: int, env: dict[str, str]) -> Simulator | None:
    """The Partner Center simulator with the demo tenant; the host's Partner Center calls go to it."""
    if port <= 0:
        return None
    env["PARTNER_CENTER_BASE_URL"] = f"http://127.0.0.1:{port}"
    env["PARTNER_CENTER_AUTH"] = "none"
    try:
        simulator = Simulator(DEMO_TENANT, port=port).start()
    except OSError as exc:
        log.warning(
            "Partner Center simulator not started (port %s: %s); using whatever answers there", port, exc
        )
        return None
    log.info("Partner Center simulator (demo tenant) on %s", simulator.base_url)
    return simulator


def _answers(url: str) -> bool:
    """True when `url` answers anything but 404 (a console route exists in this app)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return bool(resp.status < 400)
    except urllib.error.HTTPError as exc:
        return exc.code != 404
    except OSError:
        return False


def ready_block(base: str, simulator: Simulator | None, mail: str | None, smtp: str | None) -> list[str]:
    """What the person needs once everything runs; the last line names the console and the users."""
    users = ", ".join(f"{u.key} ({u.title_en} / {u.title_zh})" for u in DEMO_USERS)
    lines = [
        "Collections Guard is running locally (Ctrl-C stops everything):",
        f"  API         {base}/api/health  (reference: {base}/api/openapi.json)",
    ]
    if simulator is not None:
        lines.append(f"  simulator   {simulator.base_url}/_sim/state  (Partner Center, demo tenant)")
    if mail is not None:
        lines.append(f"  mail        {mail}  (notices sent to the SMTP server on {smtp})")
    lines.append(
        f"  try         curl -H 'x-functions-key: local-dev-key' {base}/api/customers   (docs/local-run.md)"
    )
    lines.append(f"  exposure    {base}/api/exposure  (customers near their credit limit; docs/exposure.md)")
    sign_in = f"{base}/.auth/login/aad"
    if _answers(f"{base}/console"):
        lines.append(f"  console     {base}/console  sign in as a demo user: {users}")
    else:
        lines.append(f"  sign in     {sign_in}  as a demo user: {users}")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run Collections Guard locally.")
    parser.add_argument("--port", type=int, default=7071, help="local Functions host port")
    parser.add_argument(
        "--azurite-ports",
        type=int,
        nargs=3,
        default=(10000, 10001, 10002),
        metavar=("BLOB", "QUEUE", "TABLE"),
    )
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / ".azurite")
    parser.add_argument("--settings", type=Path, default=REPO_ROOT / "local.settings.json")
    parser.add_argument(
        "--pcsim-port", type=int, default=7081, help="Partner Center simulator port (0: do not start it)"
    )
    parser.add_argument(
        "--smtp-port", type=int, default=1025, help="local SMTP server port (0: do not start it)"
    )
    parser.add_argument(
        "--mail-dir", type=Path, default=REPO_ROOT / ".mail", help="where the local SMTP server keeps mail"
    )
    parser.add_argument(
        "--mail-viewer-port", type=int, default=7082, help="mail viewer page port (0: do not start it)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="every component's own log lines (LOCAL_RUN_VERBOSE=1)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.verbose:
        os.environ[logs.VERBOSE_ENV] = "1"  # the demo seed and the host inherit it
    logs.configure(["run_local"])
    log.info("starting Collections Guard locally (--verbose, or make run RUN_ARGS=--verbose, shows more)")
    example = REPO_ROOT / "local.settings.example.json"
    if not args.settings.exists() and args.settings == REPO_ROOT / "local.settings.json":
        shutil.copyfile(example, args.settings)
        log.info("created %s from %s", args.settings.name, example.name)

    azurite: Azurite | None = None
    children: list[subprocess.Popen[bytes]] = []
    simulator: Simulator | None = None
    sink: MailSink | None = None
    viewer: MailViewer | None = None
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # From here on, whatever happens (Ctrl-C during the demo seed included), Azurite, the
    # simulator and the host are stopped: Azurite runs in its own session and would outlive us.
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM unwinds like Ctrl-C
    try:
        # Started inside the try: a Ctrl-C the moment Azurite answers still stops it.
        azurite = Azurite.start(
            blob_port=args.azurite_ports[0],
            queue_port=args.azurite_ports[1],
            table_port=args.azurite_ports[2],
            location=args.data_dir,
        )
        log.info(
            "Azurite storage on 127.0.0.1:%s (blob, queue, table), data in %s",
            ",".join(map(str, args.azurite_ports)),
            args.data_dir,
        )
        env = dict(os.environ)
        for key, value in _load_values(args.settings).items():
            env.setdefault(key, value)
        # A local.settings.json made before a setting existed lacks it (e.g. the named local key):
        # the template's value applies, so the documented curl examples keep working.
        for key, value in _load_values(example).items():
            if key not in env:
                env[key] = value
                log.debug("%s is not in %s: using %s's value", key, args.settings.name, example.name)
        # The storage the host uses is the Azurite started here, whatever the settings file says.
        env["AzureWebJobsStorage"] = azurite.connection_string
        env["LOCAL_RUN_LAUNCHER"] = "1"  # the host: these overrides are deliberate
        simulator = _start_simulator(args.pcsim_port, env)
        if args.smtp_port:
            # A real SMTP server on loopback: every e-mail notice lands in .mail/ as an .eml file.
            sink = MailSink(args.smtp_port, args.mail_dir).start()
            env["SMTP_PORT"] = str(sink.port)
            # A settings file from before e-mail notices: send to the local server all the same.
            env.setdefault("SMTP_HOST", "127.0.0.1")
            env.setdefault("SMTP_SECURITY", "none")
            env.setdefault("SMTP_FROM", "collections@example.cn")
            log.info("SMTP server on 127.0.0.1:%d, mail kept in %s", sink.port, args.mail_dir)
            if args.mail_viewer_port:
                try:
                    viewer = MailViewer(args.mail_dir, args.mail_viewer_port).start()
                    log.info("mail viewer on %s", viewer.base_url)
                except OSError as exc:
                    log.warning("mail viewer not started (port %s: %s)", args.mail_viewer_port, exc)

        # Demo ledger (idempotent): the three demo customers, so the scan has work to show.
        seed = [sys.executable, "-m", "tools.demo_ledger"]
        seeded = subprocess.run(seed, cwd=REPO_ROOT, env=env, check=False)
        if seeded.returncode != 0:
            log.error("demo ledger seed failed (exit %s); the app still starts", seeded.returncode)
        # A store kept from before the staff lists existed has customers without index rows.
        indexed = subprocess.run([sys.executable, "-m", "tools.reindex"], cwd=REPO_ROOT, env=env, check=False)
        if indexed.returncode != 0:
            log.error("list index rebuild failed (exit %s); the app still starts", indexed.returncode)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        host = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.devhost",
                "--settings",
                str(args.settings),
                "--port",
                str(args.port),
            ],
            cwd=REPO_ROOT,
            env=env,
            start_new_session=True,
        )
        children.append(host)
        base = f"http://127.0.0.1:{args.port}"
        if _wait_healthy(f"{base}/api/health", 60, host):
            smtp = f"127.0.0.1:{sink.port}" if sink is not None else None
            block = ready_block(base, simulator, viewer.base_url if viewer else None, smtp)
            print("\n".join(block), file=sys.stderr, flush=True)
        elif host.poll() is None:
            log.warning("%s/api/health does not answer 200 yet; see the host log above", base)
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    log.error("%s exited with %s; stopping", child.args, child.returncode)
                    stopping = True
            time.sleep(0.2)
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        if simulator is not None:
            simulator.stop()
        if viewer is not None:
            viewer.stop()
        if sink is not None:
            sink.stop()
        if azurite is not None:
            azurite.stop()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
