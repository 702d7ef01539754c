"""Argument types of the ``liaison`` command: each turns a string into a value or explains
(``argparse.ArgumentTypeError``) what it expected."""

from __future__ import annotations

import argparse
import calendar
import re
from datetime import UTC, datetime
from typing import Final

from google.protobuf import timestamp_pb2

from liaison.rules.ids import CENTRE_ID_PATTERN
from liaison.v1 import common_pb2, record_pb2

__all__ = [
    "KIND_NAMES",
    "add_kind_option",
    "centre_id",
    "listen_address",
    "non_negative_int",
    "partial_date",
    "positive_float",
    "positive_int",
    "timestamp",
]

_KIND_PREFIX = "RECORD_KIND_"
KIND_NAMES: Final[dict[str, record_pb2.RecordKind.ValueType]] = {
    value.name.removeprefix(_KIND_PREFIX).lower(): record_pb2.RecordKind.ValueType(value.number)
    for value in record_pb2.RecordKind.DESCRIPTOR.values
    if value.number != record_pb2.RECORD_KIND_UNSPECIFIED
}
"""Record kinds as the command line names them (``person``, ``travel_document``, ...)."""

_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def add_kind_option(parser: argparse.ArgumentParser) -> None:
    """``--kind KIND ...``: only records of these kinds (``args.kinds``, names)."""
    parser.add_argument(
        "--kind",
        dest="kinds",
        type=str.lower,
        choices=list(KIND_NAMES),
        action="extend",
        nargs="+",
        default=[],
        metavar="KIND",
        help=f"only these kinds: {', '.join(KIND_NAMES)}",
    )


def positive_float(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """0, 1, 2, ... in ASCII digits."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"not a non-negative integer: {text!r}")
    return int(text)


def positive_int(text: str) -> int:
    """1, 2, 3, ..."""
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def listen_address(text: str) -> str:
    """``HOST:PORT``, port 0 to 65535."""
    host, _, port = text.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return text


def centre_id(text: str) -> str:
    """A centre id: 1-64 upper-case letters, digits or hyphens."""
    if not CENTRE_ID_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"a centre id is 1-64 upper-case letters, digits or hyphens, got {text!r}"
        )
    return text


def partial_date(text: str) -> common_pb2.PartialDate:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, a date that exists."""
    match = _PARTIAL_DATE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")
    year_text, month_text, day_text = match.groups()
    year, month, day = int(year_text), int(month_text or 0), int(day_text or 0)
    if year == 0:
        raise argparse.ArgumentTypeError("the year must be 0001 to 9999")
    # Zero means "unknown" in a PartialDate; an unknown part is left out, not written as 00.
    if month_text and not 1 <= month <= 12:
        raise argparse.ArgumentTypeError(f"no month {month_text}")
    if day_text and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise argparse.ArgumentTypeError(f"no day {day_text} in {year_text}-{month_text}")
    return common_pb2.PartialDate(year=year, month=month, day=day)


def timestamp(text: str) -> timestamp_pb2.Timestamp:
    """An ISO 8601 date or time; UTC when it names no offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value
