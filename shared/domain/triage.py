"""Triage: which reports put a `fraud` hold on a customer at once, and which go to review.

The rules are data (`policy/triage.toml`), validated by `TriageConfig`; the first rule whose
conditions all hold decides. Two safety rails sit above the rules: a protected customer never
gets an automatic hold (an alert instead), and dry-run records "would place a hold" only.
"""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date, datetime

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.domain.fraud import Case, Category, Severity, TriageAction, TriageDecision


class TriageConfigError(ValueError):
    """The triage file is missing or invalid; the message names the file and each problem."""


class TriageRule(BaseModel):
    """One rule: every condition given must hold for it to fire."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = Field(default="", max_length=500)
    severities: list[Severity] = Field(min_length=1)
    categories: list[Category] | None = Field(default=None, min_length=1)
    customer_younger_than_days: int | None = Field(default=None, ge=1, le=3650)
    action: TriageAction

    @field_validator("action")
    @classmethod
    def _rule_action(cls, value: TriageAction) -> TriageAction:
        if value not in (TriageAction.HOLD, TriageAction.REVIEW):
            raise ValueError("a rule's action is `hold` or `review`")
        return value


class TriageConfig(BaseModel):
    """The whole triage file. `version` is the file's own label; `digest` is computed."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    rules: list[TriageRule] = Field(min_length=1, max_length=100)
    _digest: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _unique_names(self) -> TriageConfig:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice")
            seen.add(rule.name)
        return self

    @property
    def label(self) -> str:
        """The version recorded with every decision: the file's label and its content hash."""
        return f"{self.version}#{self._digest}" if self._digest else self.version


def parse_triage(text: str, source: str = "triage file") -> TriageConfig:
    """Parse and validate triage TOML; TriageConfigError lists every problem with its path."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TriageConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        config = TriageConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            path = ".".join(str(p) for p in err.get("loc", ())) or "(file)"
            problems.append(f"{path}: {err['msg']}")
        raise TriageConfigError(f"{source}: " + "; ".join(problems)) from None
    config._digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return config


class CustomerFacts(BaseModel):
    """What triage knows about the customer (from the ledger profile, if there is one)."""

    known: bool = False
    protected: bool = False
    protected_because: str = "the customer is protected"
    customer_since: date | None = None


def _matches(rule: TriageRule, case: Case, facts: CustomerFacts, today: date) -> str | None:
    """Why the rule fires for this case (None when it does not)."""
    if case.severity not in rule.severities:
        return None
    reasons = [f"severity {case.severity.value}"]
    if rule.categories is not None:
        if case.category not in rule.categories:
            return None
        reasons.append(f"category {case.category.value}")
    if rule.customer_younger_than_days is not None:
        if facts.customer_since is None:
            return None
        age = (today - facts.customer_since).days
        if age >= rule.customer_younger_than_days:
            return None
        reasons.append(f"customer for {age} days (< {rule.customer_younger_than_days})")
    return ", ".join(reasons)


def triage(
    case: Case,
    facts: CustomerFacts,
    config: TriageConfig,
    *,
    at: datetime,
    today: date,
    dry_run: bool,
    hold_in_place: bool,
) -> TriageDecision:
    """Decide for a case as it stands after its latest report. Pure.

    `hold_in_place`: the case's own hold already exists, so nothing new is done.
    """

    def decision(action: TriageAction, rule: str, explanation: str, *, dry: bool = False) -> TriageDecision:
        return TriageDecision(
            action=action,
            rule=rule,
            explanation=explanation,
            severity=case.severity,
            dry_run=dry,
            triage_version=config.label,
            decided_at=at,
        )

    for rule in config.rules:
        why = _matches(rule, case, facts, today)
        if why is None:
            continue
        if rule.action is TriageAction.REVIEW:
            return decision(TriageAction.REVIEW, rule.name, f"rule {rule.name} ({why}): review queue")
        if hold_in_place:
            return decision(TriageAction.NONE, rule.name, f"rule {rule.name} ({why}): hold already in place")
        if facts.protected:
            return decision(
                TriageAction.ALERT,
                rule.name,
                f"rule {rule.name} ({why}) calls for a hold, but {facts.protected_because}: alert only",
            )
        if dry_run:
            return decision(
                TriageAction.HOLD,
                rule.name,
                f"rule {rule.name} ({why}): would place a fraud hold (dry run: none placed)",
                dry=True,
            )
        return decision(TriageAction.HOLD, rule.name, f"rule {rule.name} ({why}): fraud hold placed")
    return decision(
        TriageAction.REVIEW, "default", f"no rule matched severity {case.severity.value}: review queue"
    )
