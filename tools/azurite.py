"""Start and stop Azurite (the Azure Storage emulator from npm) on loopback ports.

Used by `make run` (fixed ports, data kept under `.azurite/`) and by the tests (free ports,
in-memory data, one instance per test session). Azurite is the real Table/Queue/Blob server
here; nothing in the tests replaces it with an in-memory fake.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite"

# The well-known development account of every Azure Storage emulator; not a secret.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connection_string(blob_port: int, queue_port: int, table_port: int, host: str = "127.0.0.1") -> str:
    """The storage connection string for an Azurite listening on the given ports."""
    return (
        "DefaultEndpointsProtocol=http;"
        f"AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{blob_port}/{ACCOUNT_NAME};"
        f"QueueEndpoint=http://{host}:{queue_port}/{ACCOUNT_NAME};"
        f"TableEndpoint=http://{host}:{table_port}/{ACCOUNT_NAME};"
    )


def _tail(stream: IO[bytes] | None, limit: int = 2000) -> str:
    """The last `limit` bytes Azurite wrote to stderr (for an error message)."""
    if stream is None:
        return ""
    try:
        stream.seek(0)
        return stream.read()[-limit:].decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""


def _wait_for_port(port: int, deadline: float, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Azurite exited early with code {proc.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"Azurite did not listen on port {port} in time")


@dataclass
class Azurite:
    """One running Azurite process."""

    blob_port: int
    queue_port: int
    table_port: int
    location: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # stderr goes to a file, never to a pipe that nobody reads (a full pipe would block Azurite)
    stderr_log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def connection_string(self) -> str:
        return connection_string(self.blob_port, self.queue_port, self.table_port)

    @classmethod
    def start(
        cls,
        *,
        blob_port: int | None = None,
        queue_port: int | None = None,
        table_port: int | None = None,
        location: Path | None = None,
        timeout: float = 30.0,
    ) -> Azurite:
        """Start Azurite; free ports unless given; in memory unless `location` is given."""
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"{AZURITE_BIN} is missing: run `npm ci` (or `make setup`) first")
        last_error: Exception | None = None
        for _ in range(3):  # a free port can be taken between probe and bind: retry
            ports = (blob_port or free_port(), queue_port or free_port(), table_port or free_port())
            args = [
                str(AZURITE_BIN),
                "--silent",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
                "--blobPort",
                str(ports[0]),
                "--queuePort",
                str(ports[1]),
                "--tablePort",
                str(ports[2]),
            ]
            if location is None:
                args += ["--inMemoryPersistence"]
            else:
                location.mkdir(parents=True, exist_ok=True)
                args += ["--location", str(location)]
            stderr_log = tempfile.TemporaryFile()
            proc = subprocess.Popen(
                args,
                cwd=tempfile.gettempdir(),  # Azurite may drop small files in its cwd
                stdout=subprocess.DEVNULL,
                stderr=stderr_log,
                start_new_session=True,  # Ctrl-C reaches us only; stop() ends its process group
            )
            instance = cls(*ports, location=location, process=proc, stderr_log=stderr_log)
            try:
                deadline = time.monotonic() + timeout
                for port in ports:
                    _wait_for_port(port, deadline, proc, stderr_log)
                return instance
            except (RuntimeError, TimeoutError) as exc:
                last_error = exc
                instance.stop()
                if blob_port or queue_port or table_port:
                    break
            except BaseException:  # Ctrl-C while waiting: its own session would outlive us
                instance.stop()
                raise
        raise RuntimeError(f"could not start Azurite: {last_error}")

    def stop(self) -> None:
        """Stop the process group (Azurite runs node children) and wait for it."""
        try:
            self._stop_process()
        finally:
            if self.stderr_log is not None:
                self.stderr_log.close()

    def _stop_process(self) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Azurite for local development.")
    parser.add_argument("--location", type=Path, default=REPO_ROOT / ".azurite")
    parser.add_argument("--blob-port", type=int, default=10000)
    parser.add_argument("--queue-port", type=int, default=10001)
    parser.add_argument("--table-port", type=int, default=10002)
    args = parser.parse_args(argv)
    if shutil.which("node") is None:
        print("node is not installed: Azurite needs Node.js 18+", file=sys.stderr)
        return 2
    azurite = Azurite.start(
        blob_port=args.blob_port,
        queue_port=args.queue_port,
        table_port=args.table_port,
        location=args.location,
    )
    print(azurite.connection_string, flush=True)
    try:
        assert azurite.process is not None
        azurite.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        azurite.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
