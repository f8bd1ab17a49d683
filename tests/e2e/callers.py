"""Callers of the app under the local host: a named key (the fallback, as a machine) and
people signed in through the host's App Service Authentication emulation."""

from __future__ import annotations

import hashlib
import json

import requests

from shared.domain.roles import Role

MACHINE_KEY_NAME = "e2e-machine"


def named_key_env(key: str, name: str = MACHINE_KEY_NAME, roles: list[Role] | None = None) -> dict[str, str]:
    """App settings that switch the named-key fallback on with one key (every role by default)."""
    entry = {"sha256": hashlib.sha256(key.encode()).hexdigest(), "roles": [r.value for r in roles or Role]}
    return {"FUNCTION_KEYS_ENABLED": "true", "FUNCTION_KEYS": json.dumps({name: entry})}


def sign_in(
    base_url: str, user: str | None = None, *, app: str | None = None, **custom: object
) -> dict[str, str]:
    """Headers of a caller signed in through the host (`/.auth/login/aad`, client-directed):
    a demo user by key, a demo app, or `roles=[...]` and `name=...` for a custom person."""
    body: dict[str, object] = {"app": app} if app else ({"user": user} if user else dict(custom))
    answer = requests.post(f"{base_url}/.auth/login/aad", json=body, timeout=30)
    answer.raise_for_status()
    return {"X-ZUMO-AUTH": answer.json()["authenticationToken"]}
