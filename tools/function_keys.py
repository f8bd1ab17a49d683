"""Named keys for the key fallback (`FUNCTION_KEYS`): make one, or hash one you have.

    python -m tools.function_keys new billing-feed --role Collections.Write
    python -m tools.function_keys new monitoring --role Collections.Read --role Fraud.Report \\
        --existing "$(az keyvault secret show --vault-name <vault> -n function-keys --query value -o tsv)"
    python -m tools.function_keys hash local-dev-key

`new` prints the key once (hand it to the caller; it is not stored anywhere) and the FUNCTION_KEYS
JSON with the new entry (only the key's SHA-256 is kept). The key's name is who acted in the
audit; its roles are what it may do. Keys work only while FUNCTION_KEYS_ENABLED is true.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys

from shared.domain.roles import Role
from shared.settings import parse_function_keys


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add_key(existing: str, name: str, roles: list[str], key: str) -> str:
    """FUNCTION_KEYS with `name` added (or replaced); ValueError naming what is wrong."""
    data = json.loads(existing) if existing.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("--existing must be the FUNCTION_KEYS JSON object")
    data[name] = {"sha256": key_hash(key), "roles": roles}
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    parse_function_keys(text)  # the same checks the app makes
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.function_keys", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="make a key for a caller")
    new.add_argument("name")
    new.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    new.add_argument("--existing", default="", help="the current FUNCTION_KEYS JSON, to add to")
    hashed = commands.add_parser("hash", help="the SHA-256 of a key you have")
    hashed.add_argument("key")
    args = parser.parse_args(argv)
    if args.command == "hash":
        print(key_hash(args.key))
        return 0
    key = secrets.token_urlsafe(32)
    try:
        text = add_key(args.existing, args.name, args.role, key)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"key for {args.name} (give it to the caller; it is shown once): {key}")
    print(f"FUNCTION_KEYS={text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
