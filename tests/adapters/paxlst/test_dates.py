"""DTM values (C507 2380 with format 2379) and two-digit years.

The guide writes dates of birth and expiry as YYMMDD without a format code (4.13, 4.22) and
flight times as YYMMDDHHMM with 2379 = 201 (4.10); code list 2379 also has 101 (YYMMDD), 102
(CCYYMMDD) and 203 (CCYYMMDDHHMM). Two-digit years are resolved against the interchange date.
"""

from __future__ import annotations

import datetime

import pytest

from adapters.paxlst.dates import DateValue, YearRule, format_date, parse_date, reference_date

REFERENCE = datetime.date(2025, 11, 27)


@pytest.mark.parametrize(
    ("value", "code", "expected"),
    [
        ("640217", "", DateValue(1964, 2, 17)),
        ("640217", "101", DateValue(1964, 2, 17)),
        ("19640217", "102", DateValue(1964, 2, 17)),
        ("19640217", "", DateValue(1964, 2, 17)),
        ("2511271030", "201", DateValue(2025, 11, 27, 10, 30, True)),
        ("2511271030", "", DateValue(2025, 11, 27, 10, 30, True)),
        ("202511271030", "203", DateValue(2025, 11, 27, 10, 30, True)),
    ],
)
def test_formats(value: str, code: str, expected: DateValue) -> None:
    assert (
        parse_date(value, code, YearRule.NEAREST if expected.has_time else YearRule.PAST, REFERENCE)
        == expected
    )


@pytest.mark.parametrize(
    ("value", "code", "reason"),
    [
        ("640217", "999", "format code"),
        ("6402", "", "length fits no"),
        ("64021", "101", "6 digits"),
        ("64O217", "", "6 digits"),
        ("641317", "", "calendar date"),
        ("640230", "", "calendar date"),
        ("19640230", "102", "calendar date"),
        ("2511272460", "201", "time of day"),
        ("2511271060", "201", "time of day"),
        ("\uff16\uff14\uff10\uff12\uff11\uff17", "", "6 digits"),  # full-width digits
    ],
)
def test_invalid_values_say_why_without_quoting_them(value: str, code: str, reason: str) -> None:
    result = parse_date(value, code, YearRule.PAST, REFERENCE)
    assert isinstance(result, str)
    assert reason in result
    assert value not in result


def test_a_date_of_birth_is_not_after_the_reference() -> None:
    assert parse_date("251127", "", YearRule.PAST, REFERENCE) == DateValue(2025, 11, 27)
    assert parse_date("251128", "", YearRule.PAST, REFERENCE) == DateValue(1925, 11, 28)
    assert parse_date("000101", "", YearRule.PAST, REFERENCE) == DateValue(2000, 1, 1)


def test_other_dates_are_the_nearest_to_the_reference() -> None:
    """An expiry ten years ahead and one expired years ago both resolve near the reference."""
    assert parse_date("351127", "", YearRule.NEAREST, REFERENCE) == DateValue(2035, 11, 27)
    assert parse_date("990101", "", YearRule.NEAREST, REFERENCE) == DateValue(1999, 1, 1)
    assert parse_date("750101", "", YearRule.NEAREST, REFERENCE) == DateValue(2075, 1, 1)


def test_29_february_needs_a_leap_year_in_the_chosen_century() -> None:
    reference = datetime.date(2001, 1, 1)
    assert parse_date("000229", "", YearRule.PAST, reference) == DateValue(2000, 2, 29)
    assert isinstance(parse_date("010229", "", YearRule.PAST, reference), str)


def test_reference_date_of_the_unb() -> None:
    assert reference_date("251127") == datetime.date(2025, 11, 27)
    assert reference_date("870101") == datetime.date(1987, 1, 1)
    assert reference_date("20251127") == datetime.date(2025, 11, 27)
    for bad in ("", "2511", "251131", "25112A", "\uff12\uff15\uff11\uff11\uff12\uff17"):
        assert reference_date(bad) is None


def test_format_uses_two_digit_years_when_they_resolve_back() -> None:
    assert format_date(DateValue(1964, 2, 17), YearRule.PAST, REFERENCE, with_time=False) == (
        "640217",
        "",
    )
    flight = DateValue(2025, 11, 27, 9, 5, True)
    assert format_date(flight, YearRule.NEAREST, REFERENCE, with_time=True) == ("2511270905", "201")


def test_format_uses_four_digit_years_otherwise() -> None:
    """A birth more than a century ago, or a date far from the reference, needs 102 / 203."""
    assert format_date(DateValue(1900, 1, 1), YearRule.PAST, REFERENCE, with_time=False) == (
        "19000101",
        "102",
    )
    far = DateValue(2099, 1, 1, 12, 0, True)
    assert format_date(far, YearRule.NEAREST, REFERENCE, with_time=True) == ("209901011200", "203")
    ancient = DateValue(1066, 10, 14)
    value, code = format_date(ancient, YearRule.NEAREST, REFERENCE, with_time=False)
    assert parse_date(value, code, YearRule.NEAREST, REFERENCE) == ancient
