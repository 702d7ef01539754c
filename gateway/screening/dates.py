"""Birth dates compared at the precision each side knows them.

A notice may know only the year (1975) or the year and month (1975-03); a document knows the
day. Dates agree at the coarser precision of the two; a full date whose day and month are
swapped (1975-03-12 against 1975-12-03) is a classic clerical error and counts, less. Dates that
disagree count against, the more the further apart their years.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.screening.model import BirthDate

__all__ = ["DateComparison", "compare_birth_dates"]

WEIGHTS = {
    "exact": 3.0,
    "partial_date_month": 2.0,
    "partial_date_year": 1.2,
    "day_month_swapped": 2.0,
    "contradiction_day": -2.0,
    "contradiction_year_1": -1.5,
    "contradiction_year": -3.0,
}
"""Log-odds weight of each outcome (see docs/screening.md)."""


@dataclass(frozen=True, slots=True)
class DateComparison:
    """The best agreement between two sets of birth dates."""

    outcome: str
    """"exact", "partial_date", "day_month_swapped" or "contradiction"."""
    weight: float
    detail: str


def compare_birth_dates(
    subject: Iterable[BirthDate], entry: Iterable[BirthDate]
) -> DateComparison | None:
    """The strongest comparison between any subject date and any entry date; None if either
    side has no date."""
    best: DateComparison | None = None
    entry_dates = [date for date in entry if date.year]
    for mine in subject:
        if not mine.year:
            continue
        for theirs in entry_dates:
            comparison = _compare(mine, theirs)
            if best is None or comparison.weight > best.weight:
                best = comparison
    return best


def _compare(mine: BirthDate, theirs: BirthDate) -> DateComparison:
    pair = f"{mine} ~ {theirs}"
    if mine.year != theirs.year:
        apart = abs(mine.year - theirs.year)
        key = "contradiction_year_1" if apart == 1 else "contradiction_year"
        return DateComparison("contradiction", WEIGHTS[key], f"{pair}: years {apart} apart")
    if not mine.month or not theirs.month:
        return DateComparison(
            "partial_date", WEIGHTS["partial_date_year"], f"{pair}: same year (year known only)"
        )
    if mine.month == theirs.month:
        if not mine.day or not theirs.day:
            return DateComparison(
                "partial_date", WEIGHTS["partial_date_month"], f"{pair}: same year and month"
            )
        if mine.day == theirs.day:
            return DateComparison("exact", WEIGHTS["exact"], f"{pair}: same date")
        return DateComparison("contradiction", WEIGHTS["contradiction_day"], f"{pair}: other day")
    if mine.day and theirs.day and mine.month == theirs.day and mine.day == theirs.month:
        return DateComparison(
            "day_month_swapped", WEIGHTS["day_month_swapped"], f"{pair}: day and month swapped"
        )
    return DateComparison("contradiction", WEIGHTS["contradiction_day"], f"{pair}: other month")
