"""``Person`` -> Type-2 fields (the EBTS numbering of ``person``), saying what cannot be carried."""

from __future__ import annotations

from adapters.ansi_nist import codes
from adapters.ansi_nist.person import SEX_LETTERS, country_text, date_text, parse_date
from adapters.ansi_nist.values import Subfields, subfields_of
from adapters.base import EncodeBuilder
from liaison.v1 import common_pb2, nist_pb2, person_pb2, record_pb2

__all__ = ["person_fields"]

_UNCARRIED_PERSON_FIELDS = (
    "languages",
    "identifiers",
    "mother_names",
    "father_names",
    "occupation",
    "addresses",
)
_UNCARRIED_PLACE_FIELDS = ("name", "unlocode", "iata_code", "other_code")
_RESERVED = frozenset({1, 2})
"""2.001 LEN and 2.002 IDC are written from the record, never from unmapped fields."""


def person_fields(record: record_pb2.Record, out: EncodeBuilder) -> list[tuple[int, Subfields]]:
    """The Type-2 fields for ``record`` besides LEN and IDC, ordered by field number."""
    person = record.person
    fields: list[tuple[int, Subfields]] = []
    names = _ordered_names(person)
    if names:
        fields.append((18, [[_name_text(names[0], record, out)]]))
    if len(names) > 1:
        fields.append((19, [[_name_text(name, record, out)] for name in names[1:]]))
    if person.birth_place.HasField("country"):
        fields.append((20, [[country_text(person.birth_place.country)]]))
    if person.nationalities:
        fields.append((21, [[country_text(country)] for country in person.nationalities]))
    dates = [person.birth_date] if person.HasField("birth_date") else []
    dates.extend(person.alternative_birth_dates)
    dates = [date for date in dates if _write_date(date, record, out)]
    if dates:
        fields.append((22, [[date_text(date)] for date in dates]))
    if person.sex in SEX_LETTERS:
        fields.append((24, [[SEX_LETTERS[person.sex]]]))
    fields.extend(_unmapped(record, out))
    # Stable: a mapped field comes before a verbatim copy of the same number, as decoded.
    fields.sort(key=lambda pair: pair[0])
    _report_uncarried(record, out)
    return fields


def _ordered_names(person: person_pb2.Person) -> list[common_pb2.Name]:
    """The primary name first (it becomes 2.018 NAM), the others in order (2.019 AKA)."""
    names = list(person.names)
    primary = next(
        (i for i, name in enumerate(names) if name.type == common_pb2.NAME_TYPE_PRIMARY), 0
    )
    if names:
        names.insert(0, names.pop(primary))
    return names


def _name_text(name: common_pb2.Name, record: record_pb2.Record, out: EncodeBuilder) -> str:
    lost: list[str] = []
    if name.script or name.HasField("transliteration"):
        lost.append("script and transliteration")
    if name.type in (common_pb2.NAME_TYPE_BIRTH, common_pb2.NAME_TYPE_FORMER):
        lost.append("name type (written as an alias)")
    if name.qualification:
        lost.append("the name's qualification")
    if name.family or name.given or name.middle:
        if name.full:
            lost.append("the unsplit form of a split name")
        if name.middle:
            lost.append("the separate middle name (written with the given names)")
        text = _split_name_text(name, record, out)
    else:
        text = name.full
        if "," in text:
            out.warning(
                codes.NAME_UNREPRESENTABLE,
                "an unsplit name holds a comma; readers will split it as SURNAME,GIVEN NAMES",
                records=[record],
            )
    if lost:
        out.warning(
            codes.NOT_CARRIED,
            "2.018/2.019 names do not carry: " + "; ".join(lost),
            records=[record],
        )
    return text


def _split_name_text(name: common_pb2.Name, record: record_pb2.Record, out: EncodeBuilder) -> str:
    family = name.family
    if "," in family:
        out.error(
            codes.NAME_UNREPRESENTABLE,
            "a family name holds a comma, which SURNAME,GIVEN NAMES cannot carry; replaced by "
            "a space",
            records=[record],
        )
        family = family.replace(",", " ")
    given = " ".join(part for part in (name.given, name.middle) if part)
    return f"{family},{given}"


def _write_date(
    date: common_pb2.PartialDate, record: record_pb2.Record, out: EncodeBuilder
) -> bool:
    if parse_date(date_text(date)) is not None:
        return True
    out.error(
        codes.DATE_INVALID,
        "a birth date is not a valid partial date; not written",
        records=[record],
    )
    return False


def _unmapped(record: record_pb2.Record, out: EncodeBuilder) -> list[tuple[int, Subfields]]:
    source = record.provenance.nist
    fields: list[tuple[int, Subfields]] = []
    for field in source.unmapped_fields:
        if field.field_number in _RESERVED or field.field_number == 0:
            out.warning(
                codes.NOT_CARRIED,
                f"a kept field numbered 2.{field.field_number:03d} is reserved for LEN or IDC; "
                "not written",
                records=[record],
            )
            continue
        if field.record_type not in (0, 2):
            out.warning(
                codes.NOT_CARRIED,
                f"a kept field of record type {field.record_type} is written into Type-2",
                records=[record],
            )
        fields.append((field.field_number, _nonempty(field)))
    return fields


def _nonempty(field: nist_pb2.NistField) -> Subfields:
    """A field without subfields is written as one empty item, which is how it reads back."""
    return subfields_of(field) or [[""]]


def _report_uncarried(record: record_pb2.Record, out: EncodeBuilder) -> None:
    person = record.person
    lost = [name for name in _UNCARRIED_PERSON_FIELDS if getattr(person, name)]
    if person.HasField("residence_country"):
        lost.append("residence_country")
    if person.HasField("physical_description"):
        lost.append("physical_description")
    lost.extend(
        f"birth_place.{name}"
        for name in _UNCARRIED_PLACE_FIELDS
        if getattr(person.birth_place, name)
    )
    if record.HasField("handling"):
        lost.append("handling")
    if record.links:
        lost.append("links")
    if lost:
        out.warning(
            codes.NOT_CARRIED,
            "the Type-2 mapping has no place for: " + ", ".join(lost),
            records=[record],
        )
