"""Field values as text: subfields (separated by RS) of information items (separated by US)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence

from liaison.rules.text import Forbidden, forbidden_in
from liaison.v1 import nist_pb2

__all__ = [
    "Subfields",
    "first_forbidden",
    "is_valid_date",
    "is_valid_gmt",
    "join_value",
    "nist_field",
    "split_value",
    "subfields_of",
]

Subfields = list[list[str]]
"""A field value: its subfields, each a list of information items."""

_RS = "\x1e"
_US = "\x1f"
_GMT = re.compile(r"\d{14}Z")


def split_value(text: str) -> Subfields:
    """``"a<US>b<RS>c"`` -> ``[["a", "b"], ["c"]]``; an empty value is one empty item."""
    return [subfield.split(_US) for subfield in text.split(_RS)]


def first_forbidden(subfields: Subfields, *, free_text: bool) -> Forbidden | None:
    """The first character of an item that no record's text may hold (``liaison.rules.text``);
    its position is within its item. The separators (RS, US) are not in items."""
    for items in subfields:
        for item in items:
            forbidden = forbidden_in(item, free_text=free_text)
            if forbidden is not None:
                return forbidden
    return None


def join_value(subfields: Iterable[Sequence[str]]) -> str:
    return _RS.join(_US.join(items) for items in subfields)


def nist_field(record_type: int, number: int, subfields: Subfields) -> nist_pb2.NistField:
    field = nist_pb2.NistField(record_type=record_type, field_number=number)
    for items in subfields:
        field.subfields.add().items.extend(items)
    return field


def subfields_of(field: nist_pb2.NistField) -> Subfields:
    return [list(subfield.items) for subfield in field.subfields]


def is_valid_date(text: str) -> bool:
    """``YYYYMMDD`` naming a real calendar day (1-2011 Section 7.7.2.3, local date)."""
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return False
    try:
        datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return False
    return True


def is_valid_gmt(text: str) -> bool:
    """``YYYYMMDDhhmmssZ`` (Field 1.014 GMT) naming a real instant."""
    if not _GMT.fullmatch(text) or not text.isascii():
        return False
    try:
        datetime.datetime(
            int(text[:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
        )
    except ValueError:
        return False
    return True
