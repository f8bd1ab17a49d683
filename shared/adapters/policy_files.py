"""The policy files on disk: the collections policy and the fraud triage rules, read and
validated by the domain's parsers, and re-read only when a file changes (its mtime or size)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from shared.adapters.holiday_library import with_library_holidays
from shared.domain.policy import Policy, PolicyError, parse_policy
from shared.domain.triage import TriageConfig, TriageConfigError, parse_triage

T = TypeVar("T")


def load_policy(path: Path | str) -> Policy:
    """Read and validate the policy file; raise PolicyError (file, field path, reason) if invalid."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc.strerror or exc}") from None
    return with_library_holidays(parse_policy(content, source=str(path)))


def load_triage(path: Path | str) -> TriageConfig:
    """Read and validate the triage rules; raise TriageConfigError if invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TriageConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_triage(text, str(path))


class _Cached(Generic[T]):
    """One file, parsed again whenever its mtime or size changed (an invalid file raises every
    time it is asked for, so a fix is picked up at once)."""

    def __init__(self, path: Path, load: Callable[[Path], T], unreadable: Callable[[str], Exception]) -> None:
        self.path = path
        self._load = load
        self._unreadable = unreadable
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int], T] | None = None

    def get(self) -> T:
        try:
            stat = self.path.stat()
        except OSError:
            raise self._unreadable(f"{self.path}: cannot be read") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._cached is not None and self._cached[0] == stamp:
                return self._cached[1]
        value = self._load(self.path)
        with self._lock:
            self._cached = (stamp, value)
        return value


class PolicyFiles:
    """The collections policy and the triage rules the app decides by."""

    def __init__(self, policy_path: Path, triage_path: Path) -> None:
        self._policy = _Cached(policy_path, load_policy, PolicyError)
        self._triage = _Cached(triage_path, load_triage, TriageConfigError)

    def policy(self) -> Policy:
        """The collections policy; PolicyError when the file is missing or invalid."""
        return self._policy.get()

    def triage(self) -> TriageConfig:
        """The fraud triage rules; TriageConfigError when the file is missing or invalid."""
        return self._triage.get()
