"""Records -> one ANSI/NIST-ITL transaction: a Type-1 record, then one Type-2 record per person.

The Type-1 header is the ``NistTransactionHeader`` the records carry (the first one; records of
another transaction are reported). Person records without one (built from another format) get a
minimal header: version 0502 (ANSI/NIST-ITL 1-2011 Update 2015) and resolutions 00.00, the value
1-2011 gives NSR and NTR for a transaction without images; the mandatory values no record
provides are reported, never invented.

1.003 CNT is written from the records written; every LEN is the exact byte length of its
record, found as the fixed point of a length that counts its own digits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from adapters.ansi_nist import codes
from adapters.ansi_nist.charsets import (
    UTF_8_DECLARATION,
    character_set_indexes,
    encoding_for_text,
)
from adapters.ansi_nist.header import MNEMONICS, header_fields
from adapters.ansi_nist.person import IDC_MAX
from adapters.ansi_nist.person_writer import person_fields
from adapters.ansi_nist.values import Subfields, join_value
from adapters.base import EncodeBuilder, EncodeResult
from liaison.v1 import nist_pb2, record_pb2

__all__ = ["DEFAULT_VERSION", "encode_transaction", "with_length"]

DEFAULT_VERSION = "0502"
"""1.002 VER of ANSI/NIST-ITL 1-2011 Update 2015."""
_NO_IMAGES_RESOLUTION = "00.00"
_RESERVED_CHARACTERS = re.compile("[\x02\x03\x1c-\x1f]")
"""STX, ETX and the four separators are reserved in all encodings (1-2011 Section 5.5)."""
_GS = b"\x1d"
_FS = b"\x1c"
_HEADER_ATTRIBUTES = {
    2: "version",
    4: "transaction_type",
    5: "date",
    7: "destination_agency",
    8: "originating_agency",
    9: "control_number",
    11: "native_scanning_resolution",
    12: "nominal_transmitting_resolution",
}
"""Mandatory Type-1 values the header must provide (besides LEN and CNT, written here)."""


def with_length(record_type: int, fields: Sequence[bytes]) -> bytes:
    """A record of ``fields`` (each ``R.FFF:value``) behind a LEN field giving its byte length.

    LEN counts every byte of the record, its own digits included, so the digits are found as a
    fixed point: adding a digit to LEN can itself push the length over a power of ten.
    """
    tag = f"{record_type}.001:".encode("ascii")
    body = _GS + _GS.join(fields) + _FS if fields else _FS
    fixed = len(tag) + len(body)
    digits = len(str(fixed))
    while len(str(fixed + digits)) != digits:
        digits += 1
    return tag + str(fixed + digits).encode("ascii") + body


def encode_transaction(records: Sequence[record_pb2.Record]) -> EncodeResult:
    """Encode the person records of ``records``; say what cannot be carried."""
    out = EncodeBuilder()
    persons, header = _select(records, out)
    type2: list[tuple[int, list[tuple[int, Subfields]]]] = []
    for record, idc in _assign_idcs(persons, out):
        fields = [
            (number, _clean(value, record, out)) for number, value in person_fields(record, out)
        ]
        type2.append((idc, fields))
    texts = [
        item for _, fields in type2 for _, value in fields for items in value for item in items
    ]
    indexes = character_set_indexes(s.items for s in header.character_sets)
    encoding, declare = encoding_for_text(indexes, texts)
    if declare:
        header.character_sets.add().items.extend(UTF_8_DECLARATION)
    content: Subfields = [["1", str(len(type2))]]
    content.extend(["2", f"{idc:02d}"] for idc, _ in type2)
    type1 = [(3, content)]
    for number, value in header_fields(header):
        if number in (1, 3):
            out.warning(
                codes.NOT_CARRIED,
                f"a kept Type-1 field numbered 1.{number:03d} is written from the records; "
                "not copied",
            )
            continue
        type1.append((number, _clean(value, None, out)))
    type1.sort(key=lambda pair: pair[0])
    parts = [_record(1, type1, "ascii", out)]
    parts.extend(
        _record(2, [(2, [[f"{idc:02d}"]]), *fields], encoding, out) for idc, fields in type2
    )
    return out.result(b"".join(parts))


def _select(
    records: Sequence[record_pb2.Record], out: EncodeBuilder
) -> tuple[list[record_pb2.Record], nist_pb2.NistTransactionHeader]:
    persons: list[record_pb2.Record] = []
    header: nist_pb2.NistTransactionHeader | None = None
    for record in records:
        body = record.WhichOneof("body")
        if body != "person":
            out.warning(
                codes.NOT_CARRIED,
                f"a {body or 'body-less'} record has no Type-2 mapping; not written",
                records=[record],
            )
            continue
        persons.append(record)
        provenance = record.provenance
        if not (provenance.HasField("nist") and provenance.nist.HasField("header")):
            continue
        if header is None:
            header = provenance.nist.header
        elif provenance.nist.header != header:
            out.warning(
                codes.HEADER_CONFLICT,
                "a record comes from another transaction; the first record's Type-1 header is used",
                records=[record],
            )
    if not persons:
        out.warning(
            codes.NO_DESCRIPTIVE_TEXT,
            "no person record: the transaction holds only its Type-1 record",
        )
    written = nist_pb2.NistTransactionHeader()
    if header is None:
        written.version = DEFAULT_VERSION
        written.native_scanning_resolution = _NO_IMAGES_RESOLUTION
        written.nominal_transmitting_resolution = _NO_IMAGES_RESOLUTION
    else:
        written.CopyFrom(header)
    missing = [
        f"1.{number:03d} {MNEMONICS[number]}"
        for number, attribute in _HEADER_ATTRIBUTES.items()
        if not getattr(written, attribute)
    ]
    if missing:
        # A Type-1 record without them is invalid (1-2011 Section 8.1): decoding refuses it.
        out.error(
            codes.HEADER_INCOMPLETE,
            "no record provides the mandatory Type-1 fields "
            + ", ".join(missing)
            + "; the transaction written is invalid without them",
        )
    return persons, written


def _assign_idcs(
    persons: list[record_pb2.Record], out: EncodeBuilder
) -> list[tuple[record_pb2.Record, int]]:
    """Each person with its IDC: the one it came with when free, else the lowest free one."""
    wanted: list[int | None] = []
    used: set[int] = set()
    for record in persons:
        idc = record.provenance.nist.idc if record.provenance.HasField("nist") else None
        if idc is not None and (idc > IDC_MAX or idc in used):
            out.warning(
                codes.IDC_REASSIGNED,
                "the record's IDC is taken or above 99; another is assigned",
                records=[record],
            )
            idc = None
        if idc is not None:
            used.add(idc)
        wanted.append(idc)
    free = (idc for idc in range(IDC_MAX + 1) if idc not in used)
    assigned: list[tuple[record_pb2.Record, int]] = []
    for record, idc in zip(persons, wanted, strict=True):
        chosen = idc if idc is not None else next(free, None)
        if chosen is None:
            out.error(
                codes.IDC_INVALID,
                "more than 100 Type-2 records: no IDC is left; record not written",
                records=[record],
            )
            continue
        assigned.append((record, chosen))
    return assigned


def _clean(value: Subfields, record: record_pb2.Record | None, out: EncodeBuilder) -> Subfields:
    """``value`` without reserved characters, which would break the record structure."""
    if not any(_RESERVED_CHARACTERS.search(item) for items in value for item in items):
        return value
    out.error(
        codes.SEPARATOR_IN_DATA,
        "a value holds a separator or reserved control character (FS, GS, RS, US, STX, ETX); "
        "removed",
        records=[record] if record is not None else [],
    )
    return [[_RESERVED_CHARACTERS.sub("", item) for item in items] for items in value]


def _record(
    record_type: int, fields: list[tuple[int, Subfields]], encoding: str, out: EncodeBuilder
) -> bytes:
    encoded: list[bytes] = []
    for number, value in fields:
        text = join_value(value)
        if encoding == "ascii" and not text.isascii():
            out.error(
                codes.TYPE1_NOT_ASCII,
                f"field {record_type}.{number:03d} is not 7-bit ASCII, as Type-1 must be; "
                "other characters replaced by '?'",
            )
        data = text.encode(encoding, "replace")
        encoded.append(f"{record_type}.{number:03d}:".encode("ascii") + data)
    return with_length(record_type, encoded)
