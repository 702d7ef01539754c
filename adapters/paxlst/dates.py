"""DTM values: the date/time formats PAXLST uses, and two-digit years.

A DTM segment carries C507: 2005 (what the date is), 2380 (the value) and 2379 (its format,
UN/EDIFACT code list 2379). The guide writes dates of birth and expiry as ``YYMMDD`` without a
format code (``DTM+329:640217``) and flight times as ``YYMMDDHHMM`` with code 201
(``DTM+189:0704291230:201``); four-digit-year formats 102 and 203 are read and written when a
two-digit year would be ambiguous.

Two-digit years are resolved against a reference date, the interchange's date of preparation
(UNB S004), never the clock, so that a decode is reproducible: a date of birth or of issue is
the latest date not after the reference; any other date (expiry, departure, arrival) is the one
nearest the reference.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

__all__ = [
    "FORMATS",
    "DateValue",
    "YearRule",
    "format_date",
    "parse_date",
    "reference_date",
]


class YearRule(enum.Enum):
    """How a two-digit year is placed in a century."""

    PAST = "past"
    """Not after the reference date: dates of birth and of issue."""
    NEAREST = "nearest"
    """Nearest to the reference date: expiry, departure and arrival dates."""


@dataclass(frozen=True, slots=True)
class _Format:
    length: int
    year_digits: int
    has_time: bool
    label: str


# Code list 2379 (date or time or period format code) -> layout.
FORMATS: dict[str, _Format] = {
    "101": _Format(6, 2, False, "YYMMDD"),
    "102": _Format(8, 4, False, "CCYYMMDD"),
    "201": _Format(10, 2, True, "YYMMDDHHMM"),
    "203": _Format(12, 4, True, "CCYYMMDDHHMM"),
}
_BY_LENGTH = {layout.length: code for code, layout in FORMATS.items()}


@dataclass(frozen=True, slots=True)
class DateValue:
    """A date, with the time of day when the value has one."""

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    has_time: bool = False


def reference_date(value: str) -> datetime.date | None:
    """The date of a UNB S004 0017 value (``YYMMDD``, or ``CCYYMMDD`` in syntax version 4).

    EDIFACT interchanges postdate 1987, so a two-digit year below 80 is in the 2000s.
    """
    if not (value.isascii() and value.isdigit()) or len(value) not in (6, 8):
        return None
    if len(value) == 6:
        short = int(value[:2])
        year = 2000 + short if short < 80 else 1900 + short
        month, day = int(value[2:4]), int(value[4:6])
    else:
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def parse_date(
    value: str, format_code: str, rule: YearRule, reference: datetime.date
) -> DateValue | str:
    """Parse a DTM 2380 value; return the date, or why it is not one (no value quoted)."""
    if format_code:
        layout = FORMATS.get(format_code)
        if layout is None:
            return "the date format code (2379) is not one PAXLST uses (101, 102, 201, 203)"
    else:
        code = _BY_LENGTH.get(len(value))
        if code is None:
            return "the date has no format code and its length fits no PAXLST format"
        layout = FORMATS[code]
    if len(value) != layout.length or not (value.isascii() and value.isdigit()):
        return f"the date is not {layout.length} digits as format {layout.label} requires"
    digits = layout.year_digits
    year = int(value[:digits])
    month = int(value[digits : digits + 2])
    day = int(value[digits + 2 : digits + 4])
    hour = minute = 0
    if layout.has_time:
        hour = int(value[digits + 4 : digits + 6])
        minute = int(value[digits + 6 : digits + 8])
        if hour > 23 or minute > 59:
            return f"the time of day is not valid ({layout.label})"
    if digits == 2:
        resolved = _resolve_year(year, month, day, rule, reference)
        if resolved is None:
            return f"the value is not a calendar date ({layout.label})"
        year = resolved
    elif not _is_date(year, month, day):
        return f"the value is not a calendar date ({layout.label})"
    return DateValue(year, month, day, hour, minute, layout.has_time)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _resolve_year(
    short: int, month: int, day: int, rule: YearRule, reference: datetime.date
) -> int | None:
    century = reference.year - reference.year % 100
    candidates = [
        year
        for year in (century - 100 + short, century + short, century + 100 + short)
        if 1 <= year <= 9999 and _is_date(year, month, day)
    ]
    if not candidates:
        return None
    if rule is YearRule.PAST:
        past = [y for y in candidates if datetime.date(y, month, day) <= reference]
        return max(past) if past else min(candidates)
    # Nearest to the reference; on a tie (50 years either way) the later one.
    return min(candidates, key=lambda y: (abs(y - reference.year), -y))


def format_date(
    value: DateValue, rule: YearRule, reference: datetime.date, *, with_time: bool
) -> tuple[str, str]:
    """DTM 2380 and 2379 for ``value``: two-digit years when they resolve back to the same
    year (2379 empty for a date, 201 with a time), four digits otherwise (102, 203)."""
    short = value.year % 100
    two_digits = _resolve_year(short, value.month, value.day, rule, reference) == value.year
    date = f"{value.month:02d}{value.day:02d}"
    time = f"{value.hour:02d}{value.minute:02d}" if with_time else ""
    if two_digits:
        return f"{short:02d}{date}{time}", "201" if with_time else ""
    return f"{value.year:04d}{date}{time}", "203" if with_time else "102"
