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


def test_run_local_starts_everything_answers_health_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    settings = tmp_path / "local.settings.json"
    shutil.copyfile(REPO_ROOT / "local.settings.example.json", settings)
    ports = [free_port() for _ in range(4)]
    env = {k: v for k, v in os.environ.items() if k != "AzureWebJobsStorage"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.run_local",
            "--port",
            str(ports[0]),
            "--azurite-ports",
            *map(str, ports[1:]),
            "--data-dir",
            str(tmp_path / "azurite"),
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
    ports = [free_port() for _ in range(5)]
    env = {k: v for k, v in os.environ.items() if k != "AzureWebJobsStorage"}
    command = [sys.executable, "-m", "tools.run_local", "--port", str(ports[0]), "--azurite-ports"]
    command += [*map(str, ports[1:4]), "--pcsim-port", str(ports[4])]
    command += ["--data-dir", str(tmp_path / "azurite"), "--settings", str(settings)]
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _listening(ports[3]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _listening(ports[3]), "Azurite did not start"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(_listening(p) for p in ports) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_listening(p) for p in ports), "a child process outlived Ctrl-C during start-up"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
