"""Hostile ANSI/NIST-ITL transactions of any size: many records, many fields, empty fields."""

from __future__ import annotations

from adapters.testing import PayloadBuilder
from tests.adapters.ansi_nist.build import GS, raw_record, record, type1

_PERSON = record(2, (2, "00"), (18, "DOE,JOHN"), (22, "19800101"))
_FACE = record(10, (2, "00"), (999, b"\xff\xd8\xff\xd9"))


def many_type2_records(size: int) -> bytes:
    """One transaction of as many Type-2 records (IDC 0-99 over and over) as fit in ``size``."""
    count = max(1, size // (len(_PERSON) + 6))
    entries = [(2, index % 100) for index in range(count)]
    records = b"".join(
        record(2, (2, f"{index % 100:02d}"), (18, "DOE,JOHN"), (22, "19800101"))
        for index in range(count)
    )
    return type1(*entries) + records


def many_tagged_records(size: int) -> bytes:
    """One person and as many small Type-10 records as fit in ``size``: one info each."""
    count = max(1, size // (len(_FACE) + 6))
    return type1((2, 0), *[(10, 0)] * count) + _PERSON + _FACE * count


def many_fields(size: int) -> bytes:
    """One Type-2 record with as many user-defined fields (2.999) as fit in ``size``."""
    count = max(1, size // 8)
    return type1((2, 0)) + raw_record(2, b"2.002:00", *([b"2.999:X"] * count))


def empty_fields(size: int) -> bytes:
    """One Type-2 record of nothing but field separators: an error per byte."""
    return type1((2, 0)) + raw_record(2, b"2.002:00" + GS * size)


HOSTILE_PAYLOADS: dict[str, PayloadBuilder] = {
    "many-type2-records": many_type2_records,
    "many-tagged-records": many_tagged_records,
    "many-fields": many_fields,
    "empty-fields": empty_fields,
}
