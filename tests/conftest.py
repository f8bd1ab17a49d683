"""Test fixtures shared by every suite: one real Azurite per test session, on free ports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tools.azurite import Azurite


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
