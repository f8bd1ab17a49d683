"""Test fixtures shared by every suite: one real Azurite per test session, on free ports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tools.azurite import Azurite
from tools.mailsink import MailSink


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """A real Azurite (Table, Queue, Blob) on free loopback ports, in memory, for this session."""
    instance = Azurite.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def storage_connection_string(azurite: Azurite) -> str:
    return azurite.connection_string


@pytest.fixture
def unique_name() -> str:
    """A short name usable for a table or queue that no other test uses (letters and digits)."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    """A real SMTP server on a free loopback port that keeps what it receives (tools/mailsink)."""
    sink = MailSink().start()
    try:
        yield sink
    finally:
        sink.stop()


def smtp_settings(sink: MailSink) -> dict[str, str]:
    """The app settings that send e-mail notices through `sink`."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": "collections@example.cn",
    }
