"""Statutory holidays of mainland China from the maintained `holidays` package (pinned in
requirements.txt), for the years the collections policy does not list.

The package gives the statutory public holidays and its own estimate of substitute days off; it
does not tell the State Council's make-up working days (调休) ahead of the notice, so those count
as unknown: the calendar keeps such a year's weekends as days off (a notice or hold waits a day
rather than land on a day that may be a rest day).
"""

from __future__ import annotations

import functools
from datetime import date

from shared.domain.policy import FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR, Policy


@functools.cache
def china_holidays() -> dict[int, tuple[date, ...]]:
    """Year -> the package's days off for mainland China, every year the policy may need."""
    import holidays

    calendar = holidays.country_holidays("CN", years=range(FIRST_CALENDAR_YEAR, LAST_CALENDAR_YEAR + 1))
    by_year: dict[int, list[date]] = {}
    for day in sorted(calendar):
        by_year.setdefault(day.year, []).append(day)
    return {year: tuple(days) for year, days in by_year.items()}


def library_name() -> str:
    """`holidays <version> (China)`, as the published policy names its source."""
    from importlib.metadata import version

    return f"holidays {version('holidays')} (China)"


def with_library_holidays(policy: Policy) -> Policy:
    """The policy with the library's holidays for the years it does not list."""
    return policy.model_copy(update={"library_holidays": china_holidays(), "library_name": library_name()})
