"""Verified identities for tests that call use cases directly (the HTTP layer builds these from
the sign-in principal or a named key)."""

from __future__ import annotations

from shared.domain.identity import Actor, ActorKind
from shared.domain.roles import Role

ALL_ROLES = frozenset(Role)


def person(name: str, *roles: Role, object_id: str | None = None) -> Actor:
    """A person signed in with Entra ID (a stable object id derived from the name)."""
    oid = object_id or "0000" + name.encode().hex().rjust(28, "0")[-28:]
    oid = f"{oid[:8]}-{oid[8:12]}-4{oid[13:16]}-8{oid[17:20]}-{oid[20:32]}"
    return Actor(kind=ActorKind.USER, id=oid, name=name, upn=f"{name}@contoso.cn", roles=frozenset(roles))


TEST_ACTOR = person("tester", *ALL_ROLES)
ALICE = person("alice", Role.COLLECTIONS_READ, Role.COLLECTIONS_WRITE)
BOB = person("bob", Role.COLLECTIONS_READ, Role.COLLECTIONS_APPROVE)
CAROL = person("carol", Role.COLLECTIONS_READ, Role.COLLECTIONS_APPROVE)
