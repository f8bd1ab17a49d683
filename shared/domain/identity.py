"""Who acted: a verified identity, never what a caller says it is.

The HTTP layer builds an `Actor` from the principal App Service Authentication puts in
`X-MS-CLIENT-PRINCIPAL` (a person, or a machine with a client-credential token), or from a named
key when the key fallback is switched on; timers and queue consumers act as the app itself
(`Actor.system`). Use cases take it as `actor=` and write its id and name into every audit
entry, decision and approval. Two actors are the same person when kind and id match (a person's
Entra object id, an app's client id, a key's name): that is what four-eyes compares.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from shared.domain.roles import Role


class ActorKind(StrEnum):
    USER = "user"  # a person signed in with Entra ID (object id)
    APP = "app"  # a machine with a client-credential token (client id)
    KEY = "key"  # a caller with a named key (the fallback; the key's name)
    SYSTEM = "system"  # the app itself: the scan, the executor, intake's triage


class ActorRef(BaseModel):
    """An actor as stored with what it did (no roles: those are the caller's at the time)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActorKind
    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)

    def same_as(self, other: ActorRef) -> bool:
        """The same person or machine (ids compared case-insensitively: GUIDs, key names)."""
        return self.kind is other.kind and self.id.lower() == other.id.lower()


class Actor(ActorRef):
    """A verified caller: who it is, and the roles it holds for this request."""

    upn: str | None = Field(default=None, max_length=200)
    roles: frozenset[Role] = frozenset()

    @classmethod
    def system(cls, name: str) -> Actor:
        """The app itself, named by the part that acts (`collections-scan`, `fraud-intake`)."""
        return cls(kind=ActorKind.SYSTEM, id=name, name=name)

    @property
    def ref(self) -> ActorRef:
        return ActorRef(kind=self.kind, id=self.id, name=self.name)

    @property
    def label(self) -> str:
        """How the actor is shown: the display name, with the UPN when it differs."""
        if self.upn and self.upn != self.name:
            return f"{self.name} ({self.upn})"[:200]
        return self.name

    def has(self, role: Role) -> bool:
        return role in self.roles


def _refuse_claimed_actor(value: Any) -> None:
    raise ValueError("who acted comes from the sign-in, never from the request body: remove this field")


# A body field that once named who acted (`resolved_by`, `prepared_by`, `updated_by`): refused
# with a reason if sent, so that no caller believes it still decides anything.
ClaimedActor = Annotated[None, BeforeValidator(_refuse_claimed_actor)]
