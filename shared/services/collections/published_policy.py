"""Use case: the customer-facing collections policy, rendered from the policy file the scan uses."""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel

from shared.domain.policy import Policy, PolicyError
from shared.domain.policy_text import SUPPORTED_LANGUAGES, render_policy
from shared.errors import BadRequest, ServiceUnavailable

log = logging.getLogger(__name__)


class PublishedPolicy(BaseModel):
    version: str
    lang: str
    text: str


def published_policy(policy_source: Callable[[], Policy], lang: str | None) -> PublishedPolicy:
    """The policy text in `lang` (zh-CN by default): BadRequest for another language,
    ServiceUnavailable when the policy file is invalid (with the PolicyError text)."""
    chosen = lang or SUPPORTED_LANGUAGES[0]
    if chosen not in SUPPORTED_LANGUAGES:
        raise BadRequest(f"lang must be one of {', '.join(SUPPORTED_LANGUAGES)}; got {chosen!r}")
    try:
        policy = policy_source()
    except PolicyError as exc:
        log.error("collections policy invalid", extra={"error": str(exc)})
        raise ServiceUnavailable(str(exc)) from None
    return PublishedPolicy(version=policy.version, lang=chosen, text=render_policy(policy, chosen))
