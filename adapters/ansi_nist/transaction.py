"""Walking an ANSI/NIST-ITL 1-2011 traditional-encoding transaction one logical record at a time.

Traditional encoding (ANSI/NIST-ITL 1-2011 Update 2015, Annex B) marks structure with four
information separators: FS (0x1C) ends a record, GS (0x1D) ends a field, RS (0x1E) separates
repeated subfields and US (0x1F) separates information items. A tagged field starts with
``R.FFF:`` (record type, period, field number, colon).

Separators can only be trusted in records that hold nothing but text: Type-1 and Type-2. Image
records carry arbitrary bytes (a JPEG or WSQ stream is full of 0x1C..0x1F), so every other record
is stepped over by its length, never split:

* binary records (Types 3-8) start with a 4-byte big-endian length and a 1-byte IDC and have no
  tags; only field 1.003 CNT says which type such a record is;
* tagged records (Types 9-99) start with ``R.001:`` LEN; their x.999 data field is binary.

This module works on bytes only: it finds records and fields, checks LEN, 1.003 CNT (its fixed
layout, and that it lists exactly the records present) and record types against the standard,
and reports what is wrong as findings. Problems of the transaction as a whole are errors of
transaction scope, which leave the transaction without person records (``findings``). Type-2
fields are split only when their person is built (``TransactionReader.fields_of``), so a walk
holds one small entry per record, never every field of a large transaction.

Giving the text a meaning is the mappers' job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from adapters.ansi_nist import codes
from adapters.ansi_nist.findings import Findings, Scope

__all__ = [
    "BINARY_HEADER_SIZES",
    "FS",
    "GS",
    "RECORD_TYPES",
    "RS",
    "US",
    "RawField",
    "RawRecord",
    "TransactionReader",
]

FS = b"\x1c"
GS = b"\x1d"
RS = b"\x1e"
US = b"\x1f"
_FS = 0x1C
_GS = 0x1D

BINARY_HEADER_SIZES: dict[int, int] = {3: 18, 4: 18, 5: 18, 6: 18, 7: 5, 8: 12}
"""Binary record types and the size of their fixed header (1-2011 Section 8.4 and Annex B: Types
3-6 have LEN 4, IDC 1, IMP 1, FGP 6, ISR 1, HLL 2, VLL 2, GCA 1; Type-7 LEN 4, IDC 1; Type-8 LEN
4, IDC 1, SIG 1, SRT 1, ISR 1, HLL 2, VLL 2)."""

RECORD_TYPES: dict[int, str] = {
    1: "transaction information",
    2: "user-defined descriptive text",
    3: "low-resolution grayscale fingerprint image (deprecated)",
    4: "high-resolution grayscale fingerprint image",
    5: "low-resolution binary fingerprint image (deprecated)",
    6: "high-resolution binary fingerprint image (deprecated)",
    7: "user-defined image",
    8: "signature image",
    9: "minutiae data",
    10: "photographic body part imagery",
    11: "forensic and investigatory voice data",
    12: "forensic dental and oral data",
    13: "variable-resolution latent friction ridge image",
    14: "variable-resolution fingerprint image",
    15: "variable-resolution palmprint image",
    16: "user-defined variable-resolution testing image",
    17: "iris image",
    18: "DNA data",
    19: "variable-resolution plantar image",
    20: "source representation",
    21: "associated context",
    22: "non-photographic imagery",
    98: "information assurance",
    99: "CBEFF biometric data",
}
"""The record types ANSI/NIST-ITL 1-2011 Update 2015 defines (Table 3; 11, 12 and 22 since
Update 2013). Types 23-97 are reserved: a transaction with one is refused."""

_MAX_TYPE_DIGITS = 2
_MAX_IDC = 99
_MAX_TAG = 24
"""Longest ``R.FFF`` tag accepted (with leading zeros); bounds the search for the colon."""
_MAX_NUMBER_DIGITS = 9
_MAX_LEN_DIGITS = 12


@dataclass(slots=True)
class RawField:
    """One tagged field of a text record, its value still bytes."""

    number: int
    value: bytes
    offset: int
    """Byte offset of the field's tag."""
    value_offset: int
    """Byte offset of the first byte after the colon."""


@dataclass(slots=True)
class RawRecord:
    """One logical record of the transaction."""

    record_type: int
    index: int
    """Position in the transaction; 0 is the Type-1 record."""
    offset: int
    length: int
    idc: int | None
    """The information designation character, when it could be read."""
    fields: list[RawField]
    """The Type-1 record's fields (LEN excluded); empty for every other record."""
    body: tuple[int, int] = (0, 0)
    """Text records: the offsets of the separator after LEN and of the final FS."""


_COMMON_TAGS: dict[bytes, tuple[int, int]] = {
    f"{record_type}.{number:03d}".encode("ascii"): (record_type, number)
    for record_type in (1, 2)
    for number in range(1, 1000)
}
"""Tags of the text records as encoders usually write them; read-only, a shortcut for the parser."""


def _parse_tag(tag: bytes) -> tuple[int, int] | None:
    """``b"2.018"`` -> ``(2, 18)``; None unless both parts are short decimal numbers above zero."""
    common = _COMMON_TAGS.get(tag)
    if common is not None:
        return common
    record_type, dot, number = tag.partition(b".")
    if not dot or not record_type.isdigit() or not number.isdigit():
        return None
    if len(record_type) > _MAX_NUMBER_DIGITS or len(number) > _MAX_NUMBER_DIGITS:
        return None
    parsed = int(record_type), int(number)
    return parsed if parsed[0] > 0 and parsed[1] > 0 else None


def _small_number(value: bytes) -> int | None:
    return int(value) if value.isdigit() and len(value) <= _MAX_NUMBER_DIGITS else None


class TransactionReader:
    """One walk over one payload (not shared between threads).

    ``read_type1`` first (the header is mapped before the rest is walked, so that diagnostics
    come in payload order), then ``read_records``; ``fields_of`` splits a Type-2 record's fields
    when its person is built.
    """

    def __init__(self, payload: bytes, findings: Findings) -> None:
        self.payload = payload
        self.size = len(payload)
        self.findings = findings
        self.failed = False
        """Set when a structural error stopped the walk."""

    def _stop(self, code: str, message: str, offset: int, index: int) -> None:
        """Report an error that hides where the next record starts; the walk ends here."""
        self.findings.error(code, message, offset, index)
        self.failed = True

    def read_type1(self) -> RawRecord | None:
        """The Type-1 record with its fields; None (and an error) when there is none."""
        if not self.payload:
            self.findings.error(codes.EMPTY, "the payload is empty", 0, 0)
            return None
        header = self._length_field(0, 0)
        if header is None:
            return None
        if header[0] != 1:
            self.findings.error(
                codes.TAG_INVALID, "a transaction must start with the Type-1 record (1.001)", 0, 0
            )
            return None
        type1 = self._text_record(0, 0, header)
        if type1 is not None:
            type1.fields = list(self._fields(1, 0, *type1.body, Scope.TRANSACTION))
        return type1

    def read_records(self, type1: RawRecord) -> list[RawRecord]:
        """The records after Type-1, walked by 1.003 CNT and their LEN fields, CNT checked."""
        content = self._content(type1)
        records: list[RawRecord] = []
        walked = self._walk_records(type1.offset + type1.length, content, records)
        if walked and content is not None:
            self._check_content(content, records)
        return records

    # -- the records after Type-1 ------------------------------------------------------------

    def _walk_records(
        self, offset: int, content: list[tuple[int, int]] | None, records: list[RawRecord]
    ) -> bool:
        """Read records up to the end; False when a structural error stopped the walk."""
        index = 1
        while offset < self.size:
            listed = (
                content[index - 1][0] if content is not None and index <= len(content) else None
            )
            record = self._next_record(offset, index, listed, content is not None)
            if record is None:
                return not self.failed
            records.append(record)
            offset += record.length
            index += 1
        return True

    def _next_record(
        self, offset: int, index: int, listed: int | None, have_content: bool
    ) -> RawRecord | None:
        if listed in BINARY_HEADER_SIZES:
            return self._binary_record(offset, index, listed)
        if self._peek_record_tag(offset) is None:
            if listed is None and have_content:
                self.findings.warning(
                    codes.TRAILING_DATA,
                    f"{self.size - offset} bytes after the last record listed in 1.003 CNT "
                    "are not a record; ignored",
                    offset,
                    index,
                    Scope.NONE,
                )
                return None
            if listed is None:
                self._stop(
                    codes.TAG_INVALID,
                    f"record {index} does not start with a tag and 1.003 CNT does not give its "
                    "type",
                    offset,
                    index,
                )
                return None
        header = self._length_field(offset, index)
        if header is None:
            return None
        if listed is None and have_content:
            self.findings.error(
                codes.CNT_MISMATCH,
                f"record {index} (Type-{header[0]}) is not listed in 1.003 CNT",
                offset,
                index,
            )
        if header[0] == 1:
            self._stop(
                codes.TAG_INVALID, f"record {index} is a second Type-1 record", offset, index
            )
            return None
        if header[0] not in RECORD_TYPES:
            self.findings.error(
                codes.RECORD_TYPE,
                f"record {index} is of type {header[0]}, which ANSI/NIST-ITL 1-2011 does not "
                "define",
                offset,
                index,
            )
        if header[0] == 2:
            return self._text_record(offset, index, header)
        return self._tagged_record(offset, index, header)

    def _binary_record(self, offset: int, index: int, record_type: int) -> RawRecord | None:
        remaining = self.size - offset
        if remaining < 5:
            self._stop(
                codes.TRUNCATED,
                f"Type-{record_type} record {index}: {remaining} bytes left, its LEN and IDC "
                "need 5",
                offset,
                index,
            )
            return None
        length = int.from_bytes(self.payload[offset : offset + 4], "big")
        if length > remaining and self._peek_record_tag(offset) is not None:
            # 1.003 CNT says binary but a tag is here: an ASCII digit as the first LEN byte would
            # mean a record of more than 800 MB, so the tag is the truth (CNT is checked later).
            header = self._length_field(offset, index)
            if header is None:
                return None
            if header[0] == 2:
                return self._text_record(offset, index, header)
            return self._tagged_record(offset, index, header)
        minimum = BINARY_HEADER_SIZES[record_type]
        if length < minimum:
            self._stop(
                codes.LEN_INVALID,
                f"Type-{record_type} record {index}: LEN {length} is shorter than the "
                f"{minimum}-byte record header",
                offset,
                index,
            )
            return None
        if length > remaining:
            self._stop(
                codes.LEN_BEYOND_END,
                f"Type-{record_type} record {index}: LEN {length} goes past the end of the "
                f"payload ({remaining} bytes left)",
                offset,
                index,
            )
            return None
        idc = self.payload[offset + 4]
        self.findings.info(
            codes.RECORD_SKIPPED,
            f"binary Type-{record_type} record {index} ({length} bytes) skipped by its LEN",
            offset,
            index,
        )
        return RawRecord(record_type, index, offset, length, idc, [])

    def _tagged_record(
        self, offset: int, index: int, header: tuple[int, int, int]
    ) -> RawRecord | None:
        record_type, length, after = header
        if length <= after - offset:
            self._stop(
                codes.LEN_INVALID,
                f"Type-{record_type} record {index}: LEN {length} is shorter than its own field",
                offset,
                index,
            )
            return None
        if length > self.size - offset:
            self._stop(
                codes.LEN_BEYOND_END,
                f"Type-{record_type} record {index}: LEN {length} goes past the end of the "
                f"payload ({self.size - offset} bytes left)",
                offset,
                index,
            )
            return None
        if self.payload[offset + length - 1] != _FS:
            self._stop(
                codes.LEN_MISMATCH,
                f"Type-{record_type} record {index}: no FS at the end LEN {length} gives",
                offset,
                index,
            )
            return None
        idc = self._tagged_idc(after, offset + length, record_type)
        self.findings.info(
            codes.RECORD_SKIPPED,
            f"Type-{record_type} record {index} ({length} bytes) skipped by its LEN",
            offset,
            index,
        )
        return RawRecord(record_type, index, offset, length, idc, [])

    def _tagged_idc(self, after: int, end: int, record_type: int) -> int | None:
        """The x.002 IDC when it directly follows LEN, as the standard places it."""
        if self.payload[after] != _GS:
            return None
        start = after + 1
        colon = self.payload.find(b":", start, min(end, start + _MAX_TAG))
        if colon < 0 or _parse_tag(self.payload[start:colon]) != (record_type, 2):
            return None
        value_end = colon + 1
        limit = min(end, value_end + _MAX_NUMBER_DIGITS + 1)
        while value_end < limit and self.payload[value_end] not in (_GS, _FS):
            value_end += 1
        return _small_number(self.payload[colon + 1 : value_end])

    # -- text records ------------------------------------------------------------------------

    def _text_record(
        self, offset: int, index: int, header: tuple[int, int, int]
    ) -> RawRecord | None:
        record_type, declared, after = header
        scope = Scope.RECORD if record_type == 2 else Scope.TRANSACTION
        end = self.payload.find(FS, after)
        if end < 0:
            self._stop(
                codes.TRUNCATED,
                f"Type-{record_type} record {index} is not terminated by FS",
                offset,
                index,
            )
            return None
        actual = end - offset + 1
        if declared != actual:
            # Text records cannot contain FS, so the FS is where the record ends; LEN is wrong.
            self.findings.error(
                codes.LEN_MISMATCH,
                f"Type-{record_type} record {index}: LEN is {declared}, the record is {actual} "
                "bytes",
                offset,
                index,
                scope,
            )
        idc = self._tagged_idc(after, end + 1, record_type) if record_type == 2 else None
        return RawRecord(record_type, index, offset, actual, idc, [], (after, end))

    def fields_of(self, record: RawRecord) -> Iterator[RawField]:
        """The fields of a Type-2 record (LEN excluded), one at a time, problems reported as
        found: a record of a hundred thousand fields is never held as a list."""
        return self._fields(record.record_type, record.index, *record.body, Scope.RECORD)

    def _fields(
        self, record_type: int, index: int, after: int, end: int, scope: Scope
    ) -> Iterator[RawField]:
        if after >= end:
            return
        payload = self.payload
        position = after + 1
        while position <= end:
            # One field at a time (find, not split): no list of every part is ever built.
            stop = payload.find(GS, position, end)
            if stop < 0:
                stop = end
            start = position
            part = payload[start:stop]
            position = stop + 1
            colon = part.find(b":", 0, _MAX_TAG)
            tag = _parse_tag(part[:colon]) if colon > 0 else None
            if tag is None:
                self.findings.error(
                    codes.TAG_INVALID,
                    f"a field of Type-{record_type} record {index} has no valid R.FFF: tag",
                    start,
                    index,
                    scope,
                )
                continue
            if tag[0] != record_type:
                self.findings.error(
                    codes.TAG_INVALID,
                    f"field {tag[0]}.{tag[1]:03d} names another record type inside Type-"
                    f"{record_type} record {index}",
                    start,
                    index,
                    scope,
                )
                continue
            if tag[1] == 1:
                self.findings.warning(
                    codes.DUPLICATE_FIELD,
                    f"Type-{record_type} record {index} has a second LEN field; ignored",
                    start,
                    index,
                    scope,
                )
                continue
            yield RawField(tag[1], part[colon + 1 :], start, start + colon + 1)

    # -- LEN ---------------------------------------------------------------------------------

    def _peek_record_tag(self, offset: int) -> int | None:
        """The record type when a ``R.001:`` tag starts at ``offset``."""
        colon = self.payload.find(b":", offset, min(self.size, offset + _MAX_TAG))
        if colon < 0:
            return None
        tag = _parse_tag(self.payload[offset:colon])
        return tag[0] if tag is not None and tag[1] == 1 else None

    def _length_field(self, offset: int, index: int) -> tuple[int, int, int] | None:
        """Parse ``R.001:<digits>`` at ``offset``: (record type, LEN, offset of the GS/FS after).

        The digits are read within a bound, so a corrupt LEN costs constant time.
        """
        payload = self.payload
        colon = payload.find(b":", offset, min(self.size, offset + _MAX_TAG))
        tag = _parse_tag(payload[offset:colon]) if colon >= 0 else None
        if tag is None or tag[1] != 1:
            self._stop(
                codes.TAG_INVALID,
                f"record {index} does not start with an R.001: (LEN) tag",
                offset,
                index,
            )
            return None
        start = colon + 1
        limit = min(self.size, start + _MAX_LEN_DIGITS + 1)
        stop = start
        while stop < limit and payload[stop] not in (_GS, _FS):
            stop += 1
        if stop == self.size:
            self._stop(
                codes.TRUNCATED, f"the payload ends inside the LEN of record {index}", offset, index
            )
            return None
        digits = payload[start:stop]
        if stop == limit or not digits.isdigit():
            self._stop(
                codes.LEN_INVALID,
                f"LEN of record {index} (Type-{tag[0]}) is not a number",
                colon + 1,
                index,
            )
            return None
        return tag[0], int(digits), stop

    # -- 1.003 CNT ---------------------------------------------------------------------------

    def _content(self, type1: RawRecord) -> list[tuple[int, int]] | None:
        """The (record type, IDC) pairs 1.003 lists after its first subfield, when well formed.

        Field 1.003 CNT has a fixed layout (1-2011 Section 8.1.3): a first subfield ``1<US>n``,
        n the number of records after Type-1, then one ``type<US>IDC`` subfield per record, in
        order; the types are those of Table 3 (never Type-1 again), IDCs 0 to 99. Without a CNT
        (reported by the header mapper), or with a malformed one, records are found by their
        tags alone.
        """
        field = next((f for f in type1.fields if f.number == 3), None)
        if field is None:
            return None
        subfields = [subfield.split(US) for subfield in field.value.split(RS)]
        first = subfields[0]
        count = _small_number(first[1]) if len(first) == 2 else None
        entries: list[tuple[int, int]] = []
        problem = None
        if not (len(first) == 2 and _small_number(first[0]) == 1 and count is not None):
            problem = "its first subfield is not '1<US>' and the number of records"
        for position, items in enumerate(subfields[1:], start=1):
            if problem is not None:
                break
            record_type = _small_number(items[0]) if len(items) == 2 else None
            idc = _small_number(items[1]) if len(items) == 2 else None
            if record_type is None or idc is None or len(items[0]) > _MAX_TYPE_DIGITS:
                problem = f"subfield {position + 1} is not 'type<US>IDC' with numeric items"
            elif idc > _MAX_IDC:
                problem = f"subfield {position + 1} gives an IDC above {_MAX_IDC}"
            elif record_type == 1:
                problem = f"subfield {position + 1} lists a second Type-1 record"
            else:
                entries.append((record_type, idc))
        if problem is not None:
            self.findings.error(
                codes.CNT_INVALID,
                f"1.003 CNT is not in its fixed layout: {problem}; records are found by their "
                "tags alone",
                field.offset,
                0,
            )
            return None
        for position, (record_type, _) in enumerate(entries, start=2):
            if record_type not in RECORD_TYPES:
                self.findings.error(
                    codes.RECORD_TYPE,
                    f"1.003 CNT subfield {position} lists a record of type {record_type}, which "
                    "ANSI/NIST-ITL 1-2011 does not define",
                    field.offset,
                    0,
                )
        if count != len(entries):
            self.findings.error(
                codes.CNT_MISMATCH,
                f"1.003 CNT gives a count of {count} but lists {len(entries)} records",
                field.offset,
                0,
            )
        return entries

    def _check_content(self, content: list[tuple[int, int]], records: list[RawRecord]) -> None:
        """Errors where the records present differ from those 1.003 CNT lists."""
        for record in records[: len(content)]:
            listed_type, listed_idc = content[record.index - 1]
            if listed_type != record.record_type:
                self.findings.error(
                    codes.CNT_MISMATCH,
                    f"1.003 CNT lists record {record.index} as Type-{listed_type}; it is "
                    f"Type-{record.record_type}",
                    record.offset,
                    record.index,
                )
            elif record.idc is not None and listed_idc != record.idc:
                self.findings.error(
                    codes.CNT_MISMATCH,
                    f"1.003 CNT lists record {record.index} with IDC {listed_idc}; the record "
                    f"has IDC {record.idc}",
                    record.offset,
                    record.index,
                )
        if len(content) > len(records):
            self.findings.error(
                codes.CNT_MISMATCH,
                f"1.003 CNT lists {len(content)} records after Type-1, but the transaction has "
                f"{len(records)}",
                self.size,
                len(records),
            )
