"""Type-2 user-defined descriptive text <-> ``Person``, with the FBI EBTS field numbering.

ANSI/NIST-ITL 1-2011 Section 8.2 leaves the content of Type-2 to the domain (1.013 DOM); the FBI
EBTS numbering, which INTERPOL's INT-I and most national profiles follow for the person fields,
is mapped here:

=====  ====  =====================================================  ===========================
Field  Name  Form                                                   Person
=====  ====  =====================================================  ===========================
2.018  NAM   ``SURNAME,GIVEN NAMES``                                ``names[0]`` (primary)
2.019  AKA   one ``SURNAME,GIVEN NAMES`` per subfield               ``names`` (aliases)
2.020  POB   country code                                           ``birth_place.country``
2.021  CTZ   one country code per subfield                          ``nationalities``
2.022  DOB   one ``YYYYMMDD`` per subfield, ``00`` for an           ``birth_date``, then
             unknown month or day                                   ``alternative_birth_dates``
2.024  SEX   ``M``, ``F``, ``X``; ``U`` (unknown) is kept verbatim  ``sex``
=====  ====  =====================================================  ===========================

Country codes are read as ISO 3166-1 alpha-3 or ICAO 9303 codes, or ISO alpha-2 codes mapped to
alpha-3 (the source value kept in ``raw``); anything else is kept in ``raw`` as unmapped.

Every other field, and every mapped field whose structure or value the mapping cannot read, is
kept verbatim in ``NistSource.unmapped_fields`` (ordered by field number), with a warning for the
latter: nothing the source sent is dropped, and encoding writes it back.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from adapters.ansi_nist import codes
from adapters.ansi_nist.charsets import TextCodec
from adapters.ansi_nist.findings import Findings, Scope
from adapters.ansi_nist.transaction import RawField, RawRecord
from adapters.ansi_nist.values import Subfields, first_forbidden, split_value
from adapters.characters import FORBIDDEN_CHARACTER
from liaison.codes import ICAO_CODES, ISO_ALPHA2_TO_ALPHA3, ISO_ALPHA3
from liaison.rules.text import describe
from liaison.v1 import common_pb2, nist_pb2, person_pb2

__all__ = [
    "IDC_MAX",
    "MNEMONICS",
    "SEX_LETTERS",
    "country_text",
    "date_text",
    "parse_country",
    "parse_date",
    "parse_name",
    "read_person",
]

IDC_MAX = 99
MNEMONICS: dict[int, str] = {
    2: "IDC",
    18: "NAM",
    19: "AKA",
    20: "POB",
    21: "CTZ",
    22: "DOB",
    24: "SEX",
}

_SEX_CODES: dict[str, common_pb2.Sex.ValueType] = {
    "M": common_pb2.SEX_MALE,
    "F": common_pb2.SEX_FEMALE,
    "X": common_pb2.SEX_X,
}
SEX_LETTERS: dict[common_pb2.Sex.ValueType, str] = {
    value: letter for letter, value in _SEX_CODES.items()
}
_SEX_KEPT = frozenset({"U"})
"""EBTS sex codes with no contract value: kept verbatim without a warning."""


class _Kept(enum.Enum):
    """A field kept verbatim on purpose, with nothing to report."""

    SILENTLY = "silently"


@dataclass(frozen=True, slots=True)
class _Problem:
    """What a mapper found: a warning, and whether the field is kept verbatim (not mapped)."""

    code: str
    message: str
    kept: bool = True


_Outcome = _Problem | _Kept | None
"""None: mapped cleanly."""


@dataclass(slots=True)
class _Draft:
    """A person being read: names are ordered (primary first) only once all fields are seen."""

    person: person_pb2.Person
    source: nist_pb2.NistSource
    primary: list[common_pb2.Name] = field(default_factory=list)
    aliases: list[common_pb2.Name] = field(default_factory=list)


def parse_name(
    text: str, name_type: common_pb2.NameType.ValueType
) -> tuple[common_pb2.Name | None, bool]:
    """``"DOE,JOHN PAUL"`` -> Name(family="DOE", given="JOHN PAUL"); and whether it had a comma.

    Without a comma the whole text is kept as ``full``; a name with no letters at all is None.
    """
    family, comma, given = text.partition(",")
    if comma:
        family, given = family.strip(), " ".join(given.split())
        if not (family or given):
            return None, True
        return common_pb2.Name(type=name_type, family=family, given=given), True
    full = " ".join(text.split())
    return (common_pb2.Name(type=name_type, full=full) if full else None), False


def parse_country(text: str) -> common_pb2.CountryCode | None:
    """A country code as the contract holds it; None for an empty value."""
    if not text.strip():
        return None
    upper = text.upper()
    raw = "" if upper == text else text
    if upper in ISO_ALPHA3:
        return common_pb2.CountryCode(
            code=upper, system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, raw=raw
        )
    if upper in ICAO_CODES:
        return common_pb2.CountryCode(
            code=upper, system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, raw=raw
        )
    alpha3 = ISO_ALPHA2_TO_ALPHA3.get(upper)
    if alpha3 is not None:
        return common_pb2.CountryCode(
            code=alpha3, system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, raw=text
        )
    return common_pb2.CountryCode(system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, raw=text)


def country_text(country: common_pb2.CountryCode) -> str:
    """The source value when known, else the code."""
    return country.raw or country.code


def parse_date(text: str) -> common_pb2.PartialDate | None:
    """``YYYYMMDD`` with ``00`` for an unknown day, or month and day; None when invalid."""
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not year or month > 12 or (day and not month):
        return None
    if day and day > calendar.monthrange(year, month)[1]:
        return None
    return common_pb2.PartialDate(year=year, month=month, day=day)


def date_text(date: common_pb2.PartialDate) -> str:
    return f"{date.year:04d}{date.month:02d}{date.day:02d}"


def read_person(
    raw: RawRecord,
    fields: Iterable[RawField],
    codec: TextCodec,
    person: person_pb2.Person,
    source: nist_pb2.NistSource,
    findings: Findings,
) -> None:
    """Fill ``person`` and ``source`` (IDC, unmapped fields) from one Type-2 record's fields.

    The fields are read one at a time and kept fields go straight into ``source``: a record of
    many fields costs its protobuf fields, not a Python list of them as well.
    """
    index = raw.index
    draft = _Draft(person, source)
    seen: set[int] = set()
    kept = _KeptFields(source)
    first = True
    for raw_field in fields:
        number = raw_field.number
        if first and number != 2:
            findings.warning(
                codes.FIELD_ORDER,
                f"2.002 IDC is not the second field of Type-2 record {index}",
                raw_field.offset,
                index,
            )
        first = False
        text = codec.decode(raw_field.value)
        if text is None:
            findings.error(
                codes.TEXT_ENCODING,
                f"field 2.{number:03d} is not text in the character encoding 1.015 DCS declares",
                raw_field.value_offset,
                index,
                Scope.RECORD,
            )
            text = raw_field.value.decode("utf-8", "replace")
        subfields = split_value(text)
        mapper = _MAPPERS.get(number)
        # Mapped fields become names, places, codes: single-line; the others are kept verbatim.
        forbidden = first_forbidden(subfields, free_text=mapper is None)
        if forbidden is not None:
            findings.error(
                FORBIDDEN_CHARACTER,
                f"field 2.{number:03d}: an information item {describe(forbidden)}",
                raw_field.value_offset,
                index,
                Scope.RECORD,
            )
        if mapper is None:
            kept.add(number, subfields)
            continue
        if number in seen:
            findings.warning(
                codes.DUPLICATE_FIELD,
                f"2.{number:03d} {MNEMONICS[number]} occurs twice; the second is kept verbatim",
                raw_field.offset,
                index,
            )
            kept.add(number, subfields)
            continue
        seen.add(number)
        outcome = mapper(draft, subfields)
        if outcome is None:
            continue
        if isinstance(outcome, _Kept) or outcome.kept:
            kept.add(number, subfields)
        if isinstance(outcome, _Problem):
            if outcome.code == codes.IDC_INVALID:
                findings.error(
                    outcome.code, outcome.message, raw_field.value_offset, index, Scope.RECORD
                )
            else:
                findings.warning(outcome.code, outcome.message, raw_field.value_offset, index)
    person.names.extend(draft.primary)
    person.names.extend(draft.aliases)
    kept.order()
    if 2 not in seen:
        findings.error(
            codes.FIELD_MISSING,
            f"mandatory field 2.002 IDC is missing from Type-2 record {index}",
            raw.offset,
            index,
            Scope.RECORD,
        )
    if not person.names:
        # Section 8.2 leaves Type-2 content to the domain: a name is not required. The person is
        # identified by the transaction's biometric records (``Provenance.nist``).
        findings.warning(
            codes.NAME_MISSING,
            f"Type-2 record {index} gives no name (2.018 NAM, 2.019 AKA); the person is "
            "identified by the transaction's other records",
            raw.offset,
            index,
        )


class _KeptFields:
    """``NistSource.unmapped_fields``, filled in payload order and sorted by number at the end."""

    __slots__ = ("_fields", "_last", "_sorted")

    def __init__(self, source: nist_pb2.NistSource) -> None:
        self._fields = source.unmapped_fields
        self._last = 0
        self._sorted = True

    def add(self, number: int, subfields: Subfields) -> None:
        field = self._fields.add(record_type=2, field_number=number)
        for items in subfields:
            field.subfields.add().items.extend(items)
        self._sorted = self._sorted and number >= self._last
        self._last = number

    def order(self) -> None:
        """Sort by field number (stable), when the record gave them out of order."""
        if self._sorted:
            return
        ordered = []
        for kept in sorted(self._fields, key=lambda f: f.field_number):
            copy = nist_pb2.NistField()
            copy.CopyFrom(kept)
            ordered.append(copy)
        del self._fields[:]
        self._fields.extend(ordered)


def _single(subfields: Subfields) -> str | None:
    return subfields[0][0] if len(subfields) == 1 and len(subfields[0]) == 1 else None


def _repeated(subfields: Subfields) -> list[str] | None:
    if any(len(items) != 1 for items in subfields):
        return None
    return [items[0] for items in subfields]


def _structure(number: int) -> _Problem:
    return _Problem(
        codes.FIELD_STRUCTURE,
        f"2.{number:03d} {MNEMONICS[number]} has more subfields or items than it may; "
        "kept verbatim",
    )


def _idc(draft: _Draft, subfields: Subfields) -> _Outcome:
    value = _single(subfields)
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 2:
        return _Problem(
            codes.IDC_INVALID, "2.002 IDC is not an integer from 0 to 99; kept verbatim"
        )
    draft.source.idc = int(value)
    return None


def _names(texts: list[str] | None, number: int, into: list[common_pb2.Name]) -> _Outcome:
    if texts is None:
        return _structure(number)
    name_type = common_pb2.NAME_TYPE_PRIMARY if number == 18 else common_pb2.NAME_TYPE_ALIAS
    names: list[common_pb2.Name] = []
    unsplit = False
    for text in texts:
        name, comma = parse_name(text, name_type)
        if name is None:
            return _Problem(
                codes.NAME_FORMAT,
                f"2.{number:03d} {MNEMONICS[number]} has an empty name; kept verbatim",
            )
        unsplit = unsplit or not comma
        names.append(name)
    into.extend(names)
    if unsplit:
        return _Problem(
            codes.NAME_FORMAT,
            f"2.{number:03d} {MNEMONICS[number]} is not SURNAME,GIVEN NAMES; read as a full name",
            kept=False,
        )
    return None


def _primary_name(draft: _Draft, subfields: Subfields) -> _Outcome:
    value = _single(subfields)
    return _names(None if value is None else [value], 18, draft.primary)


def _aliases(draft: _Draft, subfields: Subfields) -> _Outcome:
    return _names(_repeated(subfields), 19, draft.aliases)


def _birth_place(draft: _Draft, subfields: Subfields) -> _Outcome:
    value = _single(subfields)
    if value is None:
        return _structure(20)
    country = parse_country(value)
    if country is None:
        return _Problem(codes.COUNTRY_CODE, "2.020 POB is empty; kept verbatim")
    draft.person.birth_place.country.CopyFrom(country)
    return None


def _citizenships(draft: _Draft, subfields: Subfields) -> _Outcome:
    values = _repeated(subfields)
    if values is None:
        return _structure(21)
    countries = [parse_country(value) for value in values]
    if any(country is None for country in countries):
        return _Problem(codes.COUNTRY_CODE, "2.021 CTZ has an empty country code; kept verbatim")
    draft.person.nationalities.extend(c for c in countries if c is not None)
    return None


def _birth_dates(draft: _Draft, subfields: Subfields) -> _Outcome:
    values = _repeated(subfields)
    if values is None:
        return _structure(22)
    dates = [parse_date(value) for value in values]
    if any(date is None for date in dates):
        return _Problem(
            codes.DATE_INVALID, "2.022 DOB has a value that is not a YYYYMMDD date; kept verbatim"
        )
    first, *others = (d for d in dates if d is not None)
    draft.person.birth_date.CopyFrom(first)
    draft.person.alternative_birth_dates.extend(others)
    return None


def _sex(draft: _Draft, subfields: Subfields) -> _Outcome:
    value = _single(subfields)
    if value is None:
        return _structure(24)
    sex = _SEX_CODES.get(value)
    if sex is not None:
        draft.person.sex = sex
        return None
    if value in _SEX_KEPT:
        return _Kept.SILENTLY
    return _Problem(codes.SEX_CODE, "2.024 SEX is not M, F, X or U; kept verbatim")


_Mapper = Callable[[_Draft, Subfields], _Outcome]
_MAPPERS: dict[int, _Mapper] = {
    2: _idc,
    18: _primary_name,
    19: _aliases,
    20: _birth_place,
    21: _citizenships,
    22: _birth_dates,
    24: _sex,
}
