"""Continuation tokens: the one way a list says where its next page starts.

A token is opaque to the caller: base64url of the position (Table storage's next PartitionKey
and RowKey, or a list's own cursor) and a fingerprint of the filters it was made for, so a
token cannot be replayed against other filters (it is refused with the reason, not misread).
Every list reads at most one page of its index per request: O(page), never a table scan.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shared.errors import BadRequest

MAX_TOKEN_CHARS = 2000


def fingerprint(**filters: Any) -> str:
    """A short hash of the filters a list was asked with (None values left out)."""
    canonical = json.dumps({k: v for k, v in filters.items() if v is not None}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def encode_token(position: Mapping[str, str] | None, filters: str) -> str | None:
    """The token for `position` under the filters' fingerprint; None at the end of the list."""
    if not position:
        return None
    text = json.dumps({"p": dict(position), "f": filters}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode_token(token: str | None, filters: str) -> dict[str, str] | None:
    """The position a token names; BadRequest when it is not one of ours or the filters differ."""
    if token is None:
        return None
    refused = BadRequest("continuation_token is not one this list returned (or the filters changed)")
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise refused
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError):
        raise refused from None
    if not isinstance(data, dict):
        raise refused
    position = data.get("p")
    if data.get("f") != filters or not isinstance(position, dict):
        raise refused
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in position.items()):
        raise refused
    return position
