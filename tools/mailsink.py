"""A real SMTP server on loopback that keeps every message it receives, for `make run` and tests.

Built on aiosmtpd (pinned in requirements-dev.txt). Each accepted message is written as an
`.eml` file (the raw message, openable in any mail client) into the mail folder, with one line
per message in `index.txt` (time, sender, recipients, subject). Recipients whose address
contains `refuse` are refused with 550, and those containing `later` with 451, so the app's
refused and deferred paths can be seen on purpose.

    python -m tools.mailsink --port 1025 --dir .mail
"""

from __future__ import annotations

import argparse
import email
import email.policy
import logging
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

log = logging.getLogger("mailsink")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    folder: Path | None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if "refuse" in address:
            return "550 5.1.1 mailbox unavailable"
        if "later" in address:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            number = len(self.received) + 1
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{number:04d}.eml"
            (self.folder / name).write_bytes(raw)
            line = f"{name}\t{envelope.mail_from}\t{','.join(envelope.rcpt_tos)}\t{message['Subject']}\n"
            with (self.folder / "index.txt").open("a", encoding="utf-8") as index:
                index.write(line)
        return f"250 2.0.0 Ok: queued as sink-{number:04d}"


class MailSink:
    """The sink, started on 127.0.0.1 (port 0 = a free port); `received` lists what came in."""

    def __init__(self, port: int = 0, folder: Path | None = None) -> None:
        self._handler = _Handler(folder)
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=port or _free_port())
        self.port = self._controller.port

    @property
    def received(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path(".mail"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mailsink %(message)s")
    sink = MailSink(args.port, args.dir).start()
    log.info("SMTP sink on 127.0.0.1:%d, keeping mail in %s", sink.port, args.dir.resolve())
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
