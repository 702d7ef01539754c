"""MRZ dates (Doc 9303 Part 3 §3.8, YYMMDD with fillers for unknown parts) and two-digit years."""

from __future__ import annotations

import datetime

import pytest

from adapters.icao_mrz.dates import (
    DateKind,
    DateProblem,
    DateReading,
    birth_year,
    expiry_year,
    format_date,
    read_date,
)

TODAY = datetime.date(2026, 1, 15)


@pytest.mark.parametrize(
    ("two_digits", "month", "day", "year"),
    [
        (74, 8, 12, 1974),
        (26, 1, 15, 2026),  # born today
        (26, 1, 16, 1926),  # tomorrow would be in the future: the century before
        (26, 1, 0, 2026),  # January 2026, day unknown: not after today
        (26, 2, 0, 1926),
        (26, 0, 0, 2026),  # only the year: this year is not in the future
        (27, 0, 0, 1927),
        (0, 2, 29, 2000),
    ],
)
def test_a_birth_date_is_never_in_the_future(
    two_digits: int, month: int, day: int, year: int
) -> None:
    assert birth_year(two_digits, month, day, TODAY) == year


@pytest.mark.parametrize(
    ("two_digits", "year"),
    [(12, 2012), (26, 2026), (46, 2046), (47, 1947), (96, 1996), (0, 2000)],
)
def test_an_expiry_year_is_at_most_twenty_years_ahead(two_digits: int, year: int) -> None:
    """Window [today - 79 years, today + 20 years]: 2046 is the latest for 2026."""
    assert expiry_year(two_digits, TODAY) == year


@pytest.mark.parametrize(
    ("field", "kind", "reading"),
    [
        ("740812", DateKind.BIRTH, DateReading(1974, 8, 12)),
        ("120415", DateKind.EXPIRY, DateReading(2012, 4, 15)),
        # Part 3 §3.8: unknown parts of a date of birth are fillers.
        ("74<<<<", DateKind.BIRTH, DateReading(1974)),
        ("7408<<", DateKind.BIRTH, DateReading(1974, 8)),
        ("<<<<<<", DateKind.BIRTH, DateReading()),
        # A known day without its month, or a known month without the year, cannot be a
        # PartialDate: what can be kept is, with a warning.
        ("74<<12", DateKind.BIRTH, DateReading(1974, problems=(DateProblem.UNREPRESENTABLE,))),
        ("<<0812", DateKind.BIRTH, DateReading(problems=(DateProblem.UNREPRESENTABLE,))),
        # 00 for unknown month or day: legacy practice, read as unknown with a warning.
        ("740000", DateKind.BIRTH, DateReading(1974, problems=(DateProblem.ZERO_PART,))),
        ("740800", DateKind.BIRTH, DateReading(1974, 8, problems=(DateProblem.ZERO_PART,))),
        ("000229", DateKind.BIRTH, DateReading(2000, 2, 29)),  # 2000 is a leap year
    ],
)
def test_read_date(field: str, kind: DateKind, reading: DateReading) -> None:
    assert read_date(field, kind, TODAY) == reading


@pytest.mark.parametrize(
    "field", ["741312", "740230", "740431", "7A0812", "7<0812", "74<812", "990229", "7408 1"]
)
def test_invalid_dates_are_reported_and_not_read(field: str) -> None:
    assert read_date(field, DateKind.BIRTH, TODAY) == DateReading(problems=(DateProblem.INVALID,))


@pytest.mark.parametrize(
    ("year", "month", "day", "field"),
    [(1974, 8, 12, "740812"), (1974, 8, 0, "7408<<"), (1974, 0, 0, "74<<<<"), (0, 0, 0, "<<<<<<")],
)
def test_format_date_writes_fillers_for_unknown_parts(
    year: int, month: int, day: int, field: str
) -> None:
    assert format_date(year, month, day) == field
