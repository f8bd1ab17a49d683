"""What a use case that writes reports back: the thing as stored, and what the request did to it.

Refusals are raised (`shared.errors`); everything else is one of these effects. Only
`functions/` turn an effect into an HTTP answer (`functions/http_support.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Effect(StrEnum):
    CREATED = "created"  # it did not exist; now it does
    UPDATED = "updated"  # it existed and was changed
    UNCHANGED = "unchanged"  # the same request had been applied already (a replay): nothing written
    REMOVED = "removed"  # it existed and is gone
    PENDING = "pending"  # four-eyes: asked for, waiting for a second person (nothing applied yet)


@dataclass(frozen=True)
class Written(Generic[T]):
    """The stored value (None once removed) and the request's effect on it."""

    value: T
    effect: Effect

    @property
    def created(self) -> bool:
        return self.effect is Effect.CREATED
