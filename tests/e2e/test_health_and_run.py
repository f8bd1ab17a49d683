"""GET /api/health through the local host, and `make run`'s launcher from a cold start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import runtime
from shared.settings import default_app_settings
from tools.azurite import REPO_ROOT, Azurite, connection_string, free_port
from tools.devhost import DevHost
from tools.devhost.settings import with_app_http


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def app_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:
    hosts: list[DevHost] = []

    def start(storage: str) -> DevHost:
        monkeypatch.setenv("AzureWebJobsStorage", storage)
        monkeypatch.setenv("QUEUE_TRANSPORT", "storage")
        runtime.reset()
        import function_app

        # Only the HTTP function under test: queue pollers would need the storage to answer.
        host = DevHost(
            function_app.app,
            port=0,
            settings_defaults=default_app_settings(),
            host_json=with_app_http({"functions": ["health"]}),
        )
        host.start()
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        host.stop()
    runtime.reset()


def test_health_answers_200_when_storage_answers(app_host: callable, azurite: Azurite) -> None:
    host = app_host(azurite.connection_string)
    status, body = get(f"{host.base_url}/api/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["queue_transport"] == "storage"
    assert body["version"]
    assert body["checks"]["table_storage"]["ok"] is True


def test_health_answers_503_when_storage_does_not(app_host: callable) -> None:
    dead = free_port()
    host = app_host(connection_string(dead, dead, dead))
    status, body = get(f"{host.base_url}/api/health")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["table_storage"]["ok"] is False
    assert "does not answer" in body["checks"]["table_storage"]["detail"]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _launcher(ports: list[int], tmp_path: Path) -> list[str]:
    """`make run`'s command on seven free ports: host, Azurite x3, simulator, SMTP, mail viewer."""
    return [
        sys.executable,
        "-m",
        "tools.run_local",
        "--port",
        str(ports[0]),
        "--azurite-ports",
        *map(str, ports[1:4]),
        "--pcsim-port",
        str(ports[4]),
        "--smtp-port",
        str(ports[5]),
        "--mail-viewer-port",
        str(ports[6]),
        "--data-dir",
        str(tmp_path / "azurite"),
        "--mail-dir",
        str(tmp_path / "mail"),
    ]


def test_run_local_starts_everything_answers_health_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    settings = tmp_path / "local.settings.json"
    shutil.copyfile(REPO_ROOT / "local.settings.example.json", settings)
    ports = [free_port() for _ in range(7)]
    env = {k: v for k, v in os.environ.items() if k != "AzureWebJobsStorage"}
    proc = subprocess.Popen(
        [
            *_launcher(ports, tmp_path),
            "--settings",
            str(settings),
        ],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status, _ = get(f"http://127.0.0.1:{ports[0]}/api/health")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200, "the local host did not answer /api/health within a minute"
        assert (tmp_path / "azurite").exists()  # data kept in the data folder
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not any(_listening(p) for p in ports), "a child process outlived Ctrl-C"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_ctrl_c_while_starting_up_leaves_no_process_behind(tmp_path: Path) -> None:
    """Ctrl-C as soon as Azurite listens (the demo seed is running): Azurite runs in its own
    session, so nothing but run_local itself can stop it."""
    settings = tmp_path / "local.settings.json"
    shutil.copyfile(REPO_ROOT / "local.settings.example.json", settings)
    ports = [free_port() for _ in range(7)]
    env = {k: v for k, v in os.environ.items() if k != "AzureWebJobsStorage"}
    command = [*_launcher(ports, tmp_path), "--settings", str(settings)]
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _listening(ports[3]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _listening(ports[3]), "Azurite did not start"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30  # a generous deadline: a loaded machine stops slowly
        while any(_listening(p) for p in ports) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_listening(p) for p in ports), "a child process outlived Ctrl-C during start-up"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_cold_start_prints_under_60_lines_for_a_person_and_ends_with_the_addresses(tmp_path: Path) -> None:
    """`make run`'s launcher on an empty store (the demo seed replays weeks of scans): one line per
    component, no Azure SDK header dumps, and a last block naming the API, the simulator, the mail
    viewer, a command to try and the demo users."""
    import threading

    from tools.devhost.easyauth import DEMO_USERS

    settings = tmp_path / "local.settings.json"
    shutil.copyfile(REPO_ROOT / "local.settings.example.json", settings)
    ports = [free_port() for _ in range(7)]
    env = {k: v for k, v in os.environ.items() if k not in ("AzureWebJobsStorage", "LOCAL_RUN_VERBOSE")}
    command = [*_launcher(ports, tmp_path), "--settings", str(settings)]
    proc = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []
    block_done = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
            if lines[-1].lstrip().startswith(("sign in", "console")):
                block_done.set()
        block_done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert block_done.wait(120), "the launcher printed no ready block within two minutes"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    start_up = lines[
        : next(i for i, line in enumerate(lines) if line.lstrip().startswith(("sign in", "console"))) + 1
    ]
    text = "\n".join(start_up)
    assert len(start_up) < 60, text
    assert "http_logging_policy" not in text and "Request headers" not in text, text
    assert "Traceback" not in text and "ERROR" not in text, text
    ready = start_up[start_up.index("Collections Guard is running locally (Ctrl-C stops everything):") :]
    assert any(f"http://127.0.0.1:{ports[0]}/api/health" in line for line in ready)
    assert any(f"http://127.0.0.1:{ports[4]}" in line for line in ready)  # the simulator
    assert any(f"http://127.0.0.1:{ports[6]}" in line for line in ready)  # the mail viewer
    assert any(line.lstrip().startswith("try ") and "curl" in line for line in ready)
    assert all(user.key in ready[-1] for user in DEMO_USERS), ready[-1]
