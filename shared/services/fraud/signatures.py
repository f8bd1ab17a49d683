"""Signed fraud reports: the HMAC-SHA256 body signature of a machine sender."""

from __future__ import annotations

import hashlib
import hmac

from shared.errors import Unauthorized


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
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    given = signature.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("the body signature does not verify")
