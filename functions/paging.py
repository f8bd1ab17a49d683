"""Query parameters of the lists: only the ones a list knows (400 names the others), a present
parameter must have a value, `limit` from 1 to 100 (50 by default), and the opaque
`continuation_token` a previous page returned."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import azure.functions as func

from shared.errors import BadRequest, ValidationFailed

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
COMMON = {"limit", "continuation_token", "code"}  # `code`: a named key sent in the query


@dataclass(frozen=True)
class ListParams:
    limit: int
    token: str | None
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)


def page_params(req: func.HttpRequest, allowed: set[str], max_limit: int = MAX_LIMIT) -> ListParams:
    """The list's parameters, refused with the reason when unknown, empty or out of range."""
    unknown = sorted(set(req.params) - allowed - COMMON)
    if unknown:
        raise BadRequest(
            f"unknown query parameter(s): {', '.join(unknown)[:200]}; this list takes "
            f"{', '.join(sorted(allowed | {'limit', 'continuation_token'}))}"
        )
    empty = sorted(name for name, value in req.params.items() if name != "code" and value == "")
    if empty:
        raise BadRequest(f"query parameter(s) without a value: {', '.join(empty)[:200]}")
    text = req.params.get("limit", str(DEFAULT_LIMIT))
    if not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= max_limit:
        raise BadRequest(f"limit must be a whole number from 1 to {max_limit}")
    values = {k: v for k, v in req.params.items() if k in allowed}
    return ListParams(limit=int(text), token=req.params.get("continuation_token"), values=values)


def query_date(params: ListParams, name: str) -> date | None:
    """A date parameter (YYYY-MM-DD), refused with the reason when it is not one."""
    value = params.get(name)
    if value is None:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-03-02") from None


def read_query(req: func.HttpRequest, model: type[M], allowed: set[str]) -> M:
    """Validate the query parameters with a pydantic model: 400 for unknown or empty ones, 422
    with field paths for bad values."""
    from pydantic import ValidationError

    from functions.http_support import field_errors

    page_params(req, allowed)
    data = {k: v for k, v in req.params.items() if k != "code"}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("the query parameters are not valid", errors=field_errors(exc)) from None
