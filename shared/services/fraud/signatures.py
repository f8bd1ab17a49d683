"""Signed fraud reports: the HMAC-SHA256 body signature of a machine sender."""

from __future__ import annotations

import hashlib
import hmac

from shared.errors import Unauthorized


def verify_signature(
    body: bytes,
    sender: str | None,
    signature: str | None,
    secrets: dict[str, str],
    *,
    machine: bool,
) -> None:
    """HMAC-SHA256 of the raw body for machine senders; Unauthorized when it does not verify.

    Off when no secrets are configured. Once they are, a machine caller (a client-credential
    token or a named key) must sign: there is no anonymous path to a suspension. A person signed
    in with Entra ID reports under their own identity and need not sign. A request naming a
    sender (X-Sender) must be signed with that sender's secret; a signature without a known
    sender is refused too.
    """
    if not secrets:
        return
    if sender is None and signature is None:
        if machine:
            raise Unauthorized(
                "signatures are required of machine senders: send X-Sender and "
                "X-Signature: sha256=<hex> (HMAC-SHA256 of the body with the sender's secret)",
                localized={
                    "zh-CN": "机器调用方必须签名：请发送 X-Sender 和 X-Signature: sha256=<hex>。",
                    "en": "Machine senders must sign: send X-Sender and X-Signature: sha256=<hex>.",
                },
            )
        return  # a person signed in with Entra ID
    if not sender or sender not in secrets:
        raise Unauthorized("unknown or missing X-Sender for a signed request")
    if not signature or not signature.startswith("sha256="):
        raise Unauthorized(f"sender {sender!r} must sign the body: X-Signature: sha256=<hex>")
    expected = hmac.new(secrets[sender].encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    given = signature.removeprefix("sha256=").strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise Unauthorized("the body signature does not verify")
