"""What the fraud intake reads besides the request: body signatures, the triage rules and the
collections policy's protected list (both files re-read only when they change)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from pathlib import Path

from shared.domain.policy import Policy, PolicyError, load_policy
from shared.domain.triage import TriageConfig, TriageConfigError, load_triage
from shared.errors import ServiceUnavailable, Unauthorized
from shared.settings import AppSettings

log = logging.getLogger(__name__)


# --- signatures --------------------------------------------------------------------------------


def verify_signature(body: bytes, sender: str | None, signature: str | None, secrets: dict[str, str]) -> None:
    """HMAC-SHA256 of the raw body for machine senders; Unauthorized when it does not verify.

    Off when no secrets are configured. A request naming a sender (X-Sender) must be signed
    with that sender's secret; a signature without a known sender is refused too.
    """
    if not secrets:
        return
    if sender is None and signature is None:
        return  # an unsigned caller that authenticates with the function key only
    if not sender or sender not in secrets:
        raise Unauthorized("unknown or missing X-Sender for a signed request")
    if not signature or not signature.startswith("sha256="):
        raise Unauthorized(f"sender {sender!r} must sign the body: X-Signature: sha256=<hex>")
    expected = hmac.new(secrets[sender].encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    given = signature.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("the body signature does not verify")


# --- triage file (read once per change) -------------------------------------------------------

_triage_lock = threading.Lock()
_triage_cache: dict[Path, tuple[float, TriageConfig]] = {}


def current_triage(settings: AppSettings) -> TriageConfig:
    """The triage rules, re-read when the file changes; 503 when the file is invalid."""
    path = settings.resolved_triage_file()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise ServiceUnavailable(f"the triage file {path.name} cannot be read") from None
    with _triage_lock:
        cached = _triage_cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    try:
        config = load_triage(path)
    except TriageConfigError as exc:
        log.error("triage file invalid", extra={"error": str(exc)})
        raise ServiceUnavailable(f"the triage rules are invalid: {exc}") from None
    with _triage_lock:
        _triage_cache[path] = (mtime, config)
    return config


_policy_cache: dict[Path, tuple[float, Policy]] = {}


def current_policy(settings: AppSettings) -> Policy:
    """The collections policy (for its protected list), re-read when the file changes."""
    path = settings.resolved_policy_file()
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise PolicyError(f"{path.name}: cannot be read") from exc
    with _triage_lock:
        cached = _policy_cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    policy = load_policy(path)
    with _triage_lock:
        _policy_cache[path] = (mtime, policy)
    return policy
