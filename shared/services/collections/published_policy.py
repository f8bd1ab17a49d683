"""Use case: the customer-facing collections policy, rendered from the policy file the scan uses,
in the language asked for (or the reader's browser language), with the days off of this year
and the next."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from pydantic import BaseModel

from shared.domain.policy import Policy, PolicyError
from shared.domain.policy_text import SUPPORTED_LANGUAGES, render_policy
from shared.errors import BadRequest, ServiceUnavailable

log = logging.getLogger(__name__)


class PublishedPolicy(BaseModel):
    version: str
    lang: str
    text: str
    # Days off (holidays) and make-up working days of this year and the next, by year.
    days_off: dict[str, list[date]] = {}
    make_up_workdays: dict[str, list[date]] = {}


def choose_language(lang: str | None, accept_language: str | None) -> str:
    """`lang` when given (BadRequest for another language); else the best of the reader's
    Accept-Language that we publish; else zh-CN."""
    if lang is not None:
        if lang not in SUPPORTED_LANGUAGES:
            raise BadRequest(f"lang must be one of {', '.join(SUPPORTED_LANGUAGES)}; got {lang!r}")
        return lang
    best, best_q = SUPPORTED_LANGUAGES[0], -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        try:
            q = float(params.strip().removeprefix("q=")) if params.strip().startswith("q=") else 1.0
        except ValueError:
            continue
        primary = tag.strip().lower().split("-")[0]
        found = {"zh": "zh-CN", "en": "en"}.get(primary)
        if found and q > best_q:
            best, best_q = found, q
    return best


def published_policy(
    policy_source: Callable[[], Policy],
    lang: str | None,
    *,
    now: datetime | None = None,
    accept_language: str | None = None,
) -> PublishedPolicy:
    """The policy text: BadRequest for another language, ServiceUnavailable when the policy
    file is invalid (with the PolicyError text). With `now`, the days off listed are those of
    the policy's current year and the next."""
    chosen = choose_language(lang, accept_language)
    try:
        policy = policy_source()
    except PolicyError as exc:
        log.error("collections policy invalid", extra={"error": str(exc)})
        raise ServiceUnavailable(str(exc)) from None
    calendar = policy.calendar()  # the days off the scan keeps: listed years, else the library's
    today = calendar.local_date(now) if now else None
    years = [today.year, today.year + 1] if today else sorted(policy.enforcement_window.listed_years())
    return PublishedPolicy(
        version=policy.version,
        lang=chosen,
        text=render_policy(policy, chosen, today),
        days_off={str(y): sorted(d for d in calendar.holidays if d.year == y) for y in years},
        make_up_workdays={str(y): sorted(d for d in calendar.make_up_workdays if d.year == y) for y in years},
    )
