"""The Type-1 transaction information record <-> ``NistTransactionHeader`` (1-2011 Section 8.1).

Every field keeps its text exactly. Fields the header message has no place for, and mapped
fields whose structure or value the message cannot hold (two subfields in a one-value field, a
priority that is not 1 to 9, a second occurrence), are kept verbatim in ``other_fields`` so that
nothing the source sent is lost; ``other_fields`` is ordered by field number, which is how the
encoder writes them back.

Field 1.003 CNT is not kept: it describes the records of the transaction and is checked against
them on decode (``transaction``) and written from the records on encode, like LEN.

What makes the header invalid is an error of transaction scope, and the transaction then gives
no person record (1-2011 Section 8.1): a mandatory field (1.002-1.005, 1.007-1.009, 1.011, 1.012)
absent or empty, given twice, or with more subfields or items than it may; any other Type-1 field
given twice; a VER that is not four digits. Values of a readable form but an impossible content
(a date of 30 February, a priority of 0) are warnings and kept verbatim.
"""

from __future__ import annotations

import re

from adapters.ansi_nist import codes
from adapters.ansi_nist.findings import Findings, Scope
from adapters.ansi_nist.transaction import RawRecord
from adapters.ansi_nist.values import (
    Subfields,
    first_forbidden,
    is_valid_date,
    is_valid_gmt,
    nist_field,
    split_value,
    subfields_of,
)
from adapters.characters import FORBIDDEN_CHARACTER
from liaison.rules.text import describe
from liaison.v1 import nist_pb2

__all__ = ["MANDATORY", "MNEMONICS", "header_fields", "read_header"]

MNEMONICS: dict[int, str] = {
    1: "LEN",
    2: "VER",
    3: "CNT",
    4: "TOT",
    5: "DAT",
    6: "PRY",
    7: "DAI",
    8: "ORI",
    9: "TCN",
    10: "TCR",
    11: "NSR",
    12: "NTR",
    13: "DOM",
    14: "GMT",
    15: "DCS",
}
"""Type-1 field mnemonics, used in diagnostics."""

_SCALARS: dict[int, str] = {
    2: "version",
    4: "transaction_type",
    5: "date",
    7: "destination_agency",
    8: "originating_agency",
    9: "control_number",
    10: "control_reference",
    11: "native_scanning_resolution",
    12: "nominal_transmitting_resolution",
    14: "gmt",
}
"""Fields of one subfield with one item, and the header attribute that holds them."""

MANDATORY = (2, 3, 4, 5, 7, 8, 9, 11, 12)
"""Mandatory Type-1 fields besides LEN (1-2011 Section 8.1, Type-1 record layout)."""

_VERSION_DIGITS = 4
_RESOLUTION = re.compile(r"[0-9]{2}\.[0-9]{2}")
"""1.011 NSR and 1.012 NTR: two digits, a decimal point, two digits (1-2011 8.1.11, 8.1.12)."""


def read_header(type1: RawRecord, findings: Findings) -> nist_pb2.NistTransactionHeader:
    """Map the fields of the Type-1 record (already split by the tokenizer)."""
    header = nist_pb2.NistTransactionHeader()
    seen: set[int] = set()
    empty: set[int] = set()
    other: list[nist_pb2.NistField] = []
    if type1.fields and type1.fields[0].number != 2:
        findings.warning(
            codes.FIELD_ORDER,
            "1.002 VER is not the second field of the Type-1 record",
            type1.fields[0].offset,
            0,
            Scope.TRANSACTION,
        )
    for raw in type1.fields:
        number = raw.number
        if raw.value.isascii():
            text = raw.value.decode("ascii")
        else:
            findings.warning(
                codes.TYPE1_NOT_ASCII,
                f"field 1.{number:03d} is not 7-bit ASCII, as Type-1 must be",
                raw.value_offset,
                0,
                Scope.TRANSACTION,
            )
            text = _lenient_text(raw.value)
        subfields = split_value(text)
        forbidden = first_forbidden(subfields, free_text=False)
        if forbidden is not None:
            # Type-1 values go into the header of every person record: the transaction is invalid.
            findings.error(
                FORBIDDEN_CHARACTER,
                f"field 1.{number:03d}: an information item {describe(forbidden)}",
                raw.value_offset,
                0,
            )
        if not text:
            empty.add(number)
        if number == 3:
            if number in seen:
                findings.error(
                    codes.DUPLICATE_FIELD,
                    "1.003 CNT occurs twice; the first is used",
                    raw.offset,
                    0,
                )
            seen.add(number)
            continue
        if number in seen:
            label = f"1.{number:03d}" + (f" {MNEMONICS[number]}" if number in MNEMONICS else "")
            findings.error(
                codes.DUPLICATE_FIELD,
                f"{label} occurs twice in the Type-1 record; the second is kept verbatim",
                raw.offset,
                0,
            )
            other.append(nist_field(1, number, subfields))
            continue
        seen.add(number)
        if not _map_field(header, number, subfields, findings, raw.offset):
            other.append(nist_field(1, number, subfields))
    other.sort(key=lambda f: f.field_number)
    header.other_fields.extend(other)
    for number in MANDATORY:
        if number not in seen:
            findings.error(
                codes.FIELD_MISSING,
                f"mandatory field 1.{number:03d} {MNEMONICS[number]} is missing",
                type1.offset,
                0,
            )
        elif number in empty:
            offset = next(f.offset for f in type1.fields if f.number == number)
            findings.error(
                codes.FIELD_MISSING,
                f"mandatory field 1.{number:03d} {MNEMONICS[number]} has no value",
                offset,
                0,
            )
    return header


def _lenient_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _map_field(
    header: nist_pb2.NistTransactionHeader,
    number: int,
    subfields: Subfields,
    findings: Findings,
    offset: int,
) -> bool:
    """Put one field into ``header``; False when it belongs in ``other_fields``."""
    if number == 15:
        for items in subfields:
            header.character_sets.add().items.extend(items)
        return True
    if number == 13:
        if len(subfields) != 1:
            return _structure(findings, number, offset)
        header.domain.extend(subfields[0])
        return True
    if number == 6:
        return _priority(header, subfields, findings, offset)
    attribute = _SCALARS.get(number)
    if attribute is None:
        return False
    if len(subfields) != 1 or len(subfields[0]) != 1:
        return _structure(findings, number, offset)
    value = subfields[0][0]
    setattr(header, attribute, value)
    _check_value(number, value, findings, offset)
    return True


def _structure(findings: Findings, number: int, offset: int) -> bool:
    message = (
        f"1.{number:03d} {MNEMONICS[number]} has more subfields or items than it may; kept verbatim"
    )
    if number in MANDATORY:
        findings.error(codes.FIELD_STRUCTURE, message, offset, 0)
    else:
        findings.warning(codes.FIELD_STRUCTURE, message, offset, 0, Scope.TRANSACTION)
    return False


def _priority(
    header: nist_pb2.NistTransactionHeader, subfields: Subfields, findings: Findings, offset: int
) -> bool:
    value = subfields[0][0] if len(subfields) == 1 and len(subfields[0]) == 1 else ""
    if len(value) == 1 and value in "123456789":
        header.priority = int(value)
        return True
    findings.warning(
        codes.PRIORITY_INVALID,
        "1.006 PRY is not a priority from 1 to 9; kept verbatim",
        offset,
        0,
        Scope.TRANSACTION,
    )
    return False


def _check_value(number: int, value: str, findings: Findings, offset: int) -> None:
    if number == 2 and not (len(value) == _VERSION_DIGITS and value.isascii() and value.isdigit()):
        if value:
            findings.error(codes.VERSION_INVALID, "1.002 VER is not four digits", offset, 0)
    elif number == 2 and value not in codes.PUBLISHED_VERSIONS:
        findings.warning(
            codes.VERSION_UNKNOWN,
            "1.002 VER names no published version of ANSI/NIST-ITL (0200, 0201, 0300, 0400, "
            "0500, 0501, 0502, 0600); the transaction is read as 1-2011",
            offset,
            0,
            Scope.TRANSACTION,
        )
    elif number == 5 and value and not is_valid_date(value):
        findings.warning(
            codes.DATE_INVALID,
            "1.005 DAT is not a valid YYYYMMDD date",
            offset,
            0,
            Scope.TRANSACTION,
        )
    elif number in (11, 12) and value and not _RESOLUTION.fullmatch(value):
        findings.warning(
            codes.RESOLUTION_INVALID,
            f"1.{number:03d} {MNEMONICS[number]} is not a resolution NN.NN in pixels per "
            "millimetre (00.00 without images); kept verbatim",
            offset,
            0,
            Scope.TRANSACTION,
        )
    elif number == 14 and not is_valid_gmt(value):
        findings.warning(
            codes.TIME_INVALID,
            "1.014 GMT is not a valid YYYYMMDDhhmmssZ time",
            offset,
            0,
            Scope.TRANSACTION,
        )


def header_fields(header: nist_pb2.NistTransactionHeader) -> list[tuple[int, Subfields]]:
    """The Type-1 fields of ``header`` besides LEN and CNT, ordered by field number."""
    fields: list[tuple[int, Subfields]] = []
    for number, attribute in _SCALARS.items():
        value = getattr(header, attribute)
        if value:
            fields.append((number, [[value]]))
    if header.priority:
        fields.append((6, [[str(header.priority)]]))
    if header.domain:
        fields.append((13, [list(header.domain)]))
    if header.character_sets:
        fields.append((15, [list(s.items) for s in header.character_sets]))
    fields.extend((f.field_number, subfields_of(f)) for f in header.other_fields)
    # Stable: a mapped field comes before a verbatim copy of the same number, as decoded.
    fields.sort(key=lambda pair: pair[0])
    return fields
