"""MRZ dates: ``YYMMDD`` with two-digit years, and fillers for parts that are not known.

Doc 9303 Part 3 (representation of dates, §3.8 and the MRZ data structures of Parts 4-7) writes
dates as ``YYMMDD``; a date of birth that is unknown or partly unknown has filler characters in
place of the unknown parts (``74<<<<``: only the year is known; ``7408<<``: year and month).

The MRZ does not carry the century. It is chosen relative to a reference date ("today"):

* a **date of birth** is never in the future: the latest century that puts it on or before today;
* a **date of expiry** is at most ``EXPIRY_YEARS_AHEAD`` (20) years ahead: the year ending in the
  two digits within [today's year - 79, today's year + 20]. No MRTD is valid for twenty years or
  more, while expired documents of any age turn up in records.
"""

from __future__ import annotations

import calendar
import datetime
import enum
from dataclasses import dataclass

__all__ = [
    "EXPIRY_YEARS_AHEAD",
    "DateKind",
    "DateProblem",
    "DateReading",
    "birth_year",
    "expiry_year",
    "format_date",
    "read_date",
]

EXPIRY_YEARS_AHEAD = 20
"""The furthest into the future a two-digit expiry year is placed."""


class DateKind(enum.Enum):
    """Which date a field holds: it decides how the century is chosen."""

    BIRTH = "date of birth"
    EXPIRY = "date of expiry"


class DateProblem(enum.Enum):
    """What can be wrong with a date field; ``INVALID`` is an error, the others warnings."""

    INVALID = "is not a valid date"
    ZERO_PART = "uses 00 for an unknown month or day instead of fillers"
    UNREPRESENTABLE = "has a known day without its month, or a known month or day without its year"


@dataclass(frozen=True, slots=True)
class DateReading:
    """A date field read: year, month and day with zero for not known (all zero: absent)."""

    year: int = 0
    month: int = 0
    day: int = 0
    problems: tuple[DateProblem, ...] = ()


def birth_year(two_digits: int, month: int, day: int, today: datetime.date) -> int:
    """The full year of a date of birth: the latest one on or before ``today``.

    Unknown parts (zero) compare as the earliest possible, so a birth year equal to this year
    stays in this century.
    """
    year = today.year - today.year % 100 + two_digits
    if (year, month, day) > (today.year, today.month if month else 0, today.day if day else 0):
        year -= 100
    return year


def expiry_year(two_digits: int, today: datetime.date) -> int:
    """The full year of a date of expiry: the one in [today - 79 years, today + 20 years]."""
    latest = today.year + EXPIRY_YEARS_AHEAD
    return latest - (latest - two_digits) % 100


_MALFORMED = -1


def _part(text: str) -> int | None:
    """A two-character part: its number, None when filled (unknown), ``_MALFORMED`` otherwise."""
    if text == "<<":
        return None
    if text.isdigit() and text.isascii():
        return int(text)
    return _MALFORMED


def _resolve(
    two_digits: int, month: int, day: int, kind: DateKind, today: datetime.date
) -> int | None:
    """The full year of a date whose known month and day are valid, else None."""
    if month > 12:
        return None
    if kind is DateKind.BIRTH:
        year = birth_year(two_digits, month, day, today)
    else:
        year = expiry_year(two_digits, today)
    if day > 28 and day > calendar.monthrange(year, month)[1]:
        return None
    return year


def read_date(field: str, kind: DateKind, today: datetime.date) -> DateReading:
    """Read a six-character ``YYMMDD`` field (fillers for unknown parts)."""
    if field.isdigit() and field.isascii() and "00" not in (field[2:4], field[4:6]):
        # The common case, a complete date, without the per-part handling below.
        month, day = int(field[2:4]), int(field[4:6])
        year = _resolve(int(field[0:2]), month, day, kind, today)
        if year is None:
            return DateReading(problems=(DateProblem.INVALID,))
        return DateReading(year, month, day)
    return _read_partial(field, kind, today)


def _read_partial(field: str, kind: DateKind, today: datetime.date) -> DateReading:
    two_digits, month, day = _part(field[0:2]), _part(field[2:4]), _part(field[4:6])
    if _MALFORMED in (two_digits, month, day):
        return DateReading(problems=(DateProblem.INVALID,))
    problems: list[DateProblem] = []
    if month == 0 or day == 0:
        # Some issuers wrote 00 for an unknown part before fillers were specified; kept readable.
        problems.append(DateProblem.ZERO_PART)
        month = month or None
        day = day or None
    if two_digits is None:
        if month is not None or day is not None:
            problems.append(DateProblem.UNREPRESENTABLE)
        return DateReading(problems=tuple(problems))
    if month is None and day is not None:
        problems.append(DateProblem.UNREPRESENTABLE)
        day = None
    known_month, known_day = month or 0, day or 0
    year = _resolve(two_digits, known_month, known_day, kind, today)
    if year is None:
        return DateReading(problems=(*problems, DateProblem.INVALID))
    return DateReading(year, known_month, known_day, tuple(problems))


def format_date(year: int, month: int, day: int) -> str:
    """``YYMMDD`` for a (partial) date, fillers for unknown parts; all fillers when absent."""
    if not year:
        return "<<<<<<"
    return (
        f"{year % 100:02d}"
        + (f"{month:02d}" if month else "<<")
        + (f"{day:02d}" if month and day else "<<")
    )
