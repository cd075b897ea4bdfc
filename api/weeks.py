"""ISO weeks as the ledger and the allocation job read them: ``2026-W49``, its Monday, ranges.

Every week the service is given is read here, so a bad one is refused in the same words
(:class:`WeekError`, naming the field) wherever it was sent.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date, timedelta

from optimizer.errors import InvalidInputError, quoted
from optimizer.inputs import YEARS

#: Longest week range one request may name (two years).
MAX_WEEKS = 104
WEEK_PATTERN = r"^[0-9]{4}-W[0-9]{2}$"
FIRST_YEAR, LAST_YEAR = YEARS  # as every date Shudao reads


class WeekError(InvalidInputError):
    """A week or week range is invalid."""


def week_monday(week: str, field: str = "week") -> date:
    """The Monday of an ISO week written ``YYYY-Www`` (``2026-W49`` -> 2026-11-30).

    Examples
    --------
    >>> week_monday("2026-W49")
    datetime.date(2026, 11, 30)
    >>> try:
    ...     week_monday("2026-11-30")
    ... except WeekError as error:
    ...     print(error.field, "|", str(error).split("; ")[1])
    week | expected an ISO week like 2026-W49 (for the week of 2026-11-30 send 2026-W49)
    """
    if not isinstance(week, str) or not re.fullmatch(WEEK_PATTERN, week):
        hint = ""
        with contextlib.suppress(TypeError, ValueError):
            day = date.fromisoformat(week)
            hint = f" (for the week of {day.isoformat()} send {iso_week(day)})"
        raise WeekError(field, week, f"an ISO week like 2026-W49{hint}")
    year, number = int(week[:4]), int(week[6:])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WeekError(
            field, week, f"a year {FIRST_YEAR} to {LAST_YEAR}",
            message=f"got {quoted(week)}; the year must be {FIRST_YEAR} to {LAST_YEAR}",
        )  # fmt: skip
    try:
        return date.fromisocalendar(year, number, 1)
    except ValueError:
        last = date(year, 12, 28).isocalendar().week
        raise WeekError(
            field, week, f"weeks W01 to W{last:02d}",
            message=f"got {quoted(week)}; {year} has weeks W01 to W{last:02d}",
        ) from None  # fmt: skip


def iso_week(day: date) -> str:
    """The ISO week of a date, ``YYYY-Www``."""
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def week_range(
    first: str, last: str, first_field: str = "first_week", last_field: str = "last_week"
) -> list[str]:
    """Every ISO week from ``first`` to ``last`` inclusive (at most :data:`MAX_WEEKS`).

    Examples
    --------
    >>> week_range("2026-W52", "2027-W02")
    ['2026-W52', '2026-W53', '2027-W01', '2027-W02']
    """
    start, end = week_monday(first, first_field), week_monday(last, last_field)
    if end < start:
        raise WeekError(
            last_field, last, f"{first_field} {first} or later",
            message=f"{last} is before {first_field} {first}",
        )  # fmt: skip
    count = (end - start).days // 7 + 1
    if count > MAX_WEEKS:
        raise WeekError(
            last_field, last, f"at most {MAX_WEEKS} weeks",
            message=f"{first}..{last} is {count} weeks; at most {MAX_WEEKS}",
        )  # fmt: skip
    return [iso_week(start + timedelta(weeks=i)) for i in range(count)]
