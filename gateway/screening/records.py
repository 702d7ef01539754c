"""From records to list entries and subjects.

:func:`entries_from_record` says what a stored record contributes to the lists;
:func:`subjects_from_records` turns records to screen (persons, travel documents, passenger
manifests with their travellers' records) into subjects, one per traveller, person, or document
that no person in the batch holds.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.screening.documents import normalize_number
from gateway.screening.lists import ListDefinition
from gateway.screening.model import (
    BirthDate,
    DocumentKey,
    ListEntry,
    NameRole,
    PersonName,
    Subject,
)
from gateway.screening.names import name_forms
from liaison.rules.errors import InvalidArgumentError
from liaison.v1 import common_pb2, person_pb2, record_pb2, travel_document_pb2

__all__ = [
    "DOCUMENT_IDENTIFIER_SCHEMES",
    "ScreeningInputError",
    "entries_from_record",
    "subject_identity_key",
    "subjects_from_records",
]

DOCUMENT_IDENTIFIER_SCHEMES = frozenset(
    {
        "PASSPORT",
        "PASSPORT_NUMBER",
        "ID_CARD",
        "IDENTITY_CARD",
        "NATIONAL_ID_CARD",
        "TRAVEL_DOCUMENT",
        "DOCUMENT_NUMBER",
    }
)
"""``Identifier.scheme`` values (upper-cased) that name a travel or identity document."""

ABSENT_NAMES = frozenset({"-", "--", "", "NULL", "NONE", "N/A", "UNKNOWN"})
"""Name parts that mean "no name" (INTERPOL publishes "-" or null)."""

_H3 = record_pb2.HANDLING_CODE_H3
_ROLES = {int(role): role for role in NameRole}


class ScreeningInputError(InvalidArgumentError, ValueError):
    """Records to screen that cannot be joined into subjects; the message names the place."""


def entries_from_record(
    record: record_pb2.Record, version: int, lists: Sequence[ListDefinition]
) -> list[ListEntry]:
    """What ``record`` at ``version`` contributes to ``lists`` (empty when it is no entry).

    A record handled at H3 is never an entry: its restrictions are free text the gateway cannot
    enforce, so screening yields nothing on it.
    """
    body = record.WhichOneof("body")
    if body is None or record.handling.code == _H3:
        return []
    status = record.travel_document.status if body == "travel_document" else 0
    centre = record.provenance.originating_centre
    member_of = tuple(spec.name for spec in lists if spec.includes(body, centre, status))
    if not member_of:
        return []
    # Positional arguments, in ListEntry's field order: a rebuild makes a million of these.
    if body == "travel_document":
        document = record.travel_document
        key = _document_key(document, "", 0)
        if not key.number:
            return []
        return [
            ListEntry(
                record.record_id,
                version,
                centre,
                member_of,
                body,
                _names((document.holder_name,)),
                _dates((document.holder_birth_date,)),
                document.holder_sex,
                _countries((document.holder_nationality,)),
                (key,),
                True,
            )
        ]
    person = _person_of(record, body)
    if person is None:
        return []
    others = person.alternative_birth_dates
    return [
        ListEntry(
            record.record_id,
            version,
            centre,
            member_of,
            body,
            _names(person.names),
            _dates((person.birth_date, *others) if others else (person.birth_date,)),
            person.sex,
            _countries(person.nationalities),
            _identifier_documents(person.identifiers) if person.identifiers else (),
        )
    ]


def _person_of(record: record_pb2.Record, body: str) -> person_pb2.Person | None:
    if body == "notice":
        return record.notice.subject
    if body == "person":
        return record.person
    return None


@dataclass(slots=True)
class _Traveller:
    person: record_pb2.Record | None
    documents: list[record_pb2.Record]
    manifest_record_id: str


def subjects_from_records(records: Iterable[record_pb2.Record]) -> list[Subject]:
    """One subject per traveller of each manifest, per person not on a manifest, and per
    travel document that no person in ``records`` holds.

    A traveller's documents are those the manifest lists and those linked to the person with a
    HOLDER link. Raises :class:`ScreeningInputError` when a traveller's person and documents
    are all missing from ``records``.
    """
    by_id: dict[str, record_pb2.Record] = {}
    order: list[record_pb2.Record] = []
    for record in records:
        by_id.setdefault(record.record_id, record)
        order.append(record)
    held_by: dict[str, list[record_pb2.Record]] = {}
    for record in order:
        if record.WhichOneof("body") == "travel_document":
            for link in record.links:
                if link.type == record_pb2.LINK_TYPE_HOLDER:
                    held_by.setdefault(link.target_record_id, []).append(record)
    travellers: list[_Traveller] = []
    covered: set[str] = set()
    for record in order:
        if record.WhichOneof("body") != "passenger_manifest":
            continue
        for position, traveller in enumerate(record.passenger_manifest.travellers):
            person = by_id.get(traveller.person_record_id) if traveller.person_record_id else None
            documents = [by_id[i] for i in traveller.document_record_ids if i in by_id]
            if person is not None:
                documents += [d for d in held_by.get(person.record_id, []) if d not in documents]
            if person is None and not documents:
                raise ScreeningInputError(
                    f"manifest {record.record_id} traveller #{position + 1}: neither its person "
                    f"record ({traveller.person_record_id or 'none given'}) nor any of its "
                    "document records is among the records to screen"
                )
            travellers.append(_Traveller(person, documents, record.record_id))
            covered.update(d.record_id for d in documents)
            if person is not None:
                covered.add(person.record_id)
    for record in order:
        if record.WhichOneof("body") == "person" and record.record_id not in covered:
            documents = held_by.get(record.record_id, [])
            travellers.append(_Traveller(record, documents, ""))
            covered.add(record.record_id)
            covered.update(d.record_id for d in documents)
    for record in order:
        if record.WhichOneof("body") == "travel_document" and record.record_id not in covered:
            travellers.append(_Traveller(None, [record], ""))
            covered.add(record.record_id)
    return [_subject(traveller) for traveller in travellers]


def _subject(traveller: _Traveller) -> Subject:
    names: list[PersonName] = []
    dates: list[BirthDate] = []
    nationalities: list[str] = []
    sex = 0
    if traveller.person is not None:
        person = traveller.person.person
        names.extend(_names(person.names))
        dates.extend(_dates([person.birth_date, *person.alternative_birth_dates]))
        nationalities.extend(_countries(person.nationalities))
        sex = person.sex
    documents: list[DocumentKey] = []
    for record in traveller.documents:
        document = record.travel_document
        key = _document_key(document, record.record_id, record.version)
        if key.number:
            documents.append(key)
        for name in _names([document.holder_name]):
            if name not in names:
                names.append(name)
        dates.extend(d for d in _dates([document.holder_birth_date]) if d not in dates)
        nationalities.extend(
            c for c in _countries([document.holder_nationality]) if c not in nationalities
        )
        sex = sex or document.holder_sex
    main = traveller.person if traveller.person is not None else traveller.documents[0]
    kind = "person" if traveller.person is not None else "travel_document"
    return Subject(
        identity_key=subject_identity_key(names, dates, documents),
        record_id=main.record_id,
        version=main.version,
        kind=kind,
        names=tuple(names),
        birth_dates=tuple(dates),
        sex=sex,
        nationalities=tuple(nationalities),
        documents=tuple(documents),
        manifest_record_id=traveller.manifest_record_id,
    )


def subject_identity_key(
    names: Iterable[PersonName], birth_dates: Iterable[BirthDate], documents: Iterable[DocumentKey]
) -> str:
    """A key for "the same person", stable across re-screenings and record versions.

    SHA-256 (first 16 bytes, hex) of the primary name's ICAO Latin tokens sorted, every birth
    date, and every document's number and issuing state, sorted. A decision of no match on a
    (subject key, entry, entry version) pair suppresses the pair while all three are unchanged;
    a corrected name, date or document makes a new key, and the pair is screened again.
    """
    tokens: list[str] = []
    for name in names:
        if name.role in (NameRole.PRIMARY, NameRole.UNSPECIFIED) and not name.is_empty:
            forms = name_forms(name.latin_family or name.family, name.latin_given or name.given)
            if forms:
                tokens = sorted(token.text for token in forms[0].significant)
                break
    parts = [
        " ".join(tokens),
        ";".join(sorted({str(date) for date in birth_dates})),
        ";".join(sorted({f"{d.number}/{d.issuing_state}" for d in documents})),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]


def _clean(text: str) -> str:
    """Strip, and drop control characters (the entry codec uses some as separators)."""
    if not text:
        return text
    stripped = text.strip()
    if stripped.upper() in ABSENT_NAMES:
        return ""
    if stripped.isprintable():
        return stripped
    return "".join(c for c in stripped if unicodedata.category(c)[0] != "C")


def _names(names: Iterable[common_pb2.Name]) -> tuple[PersonName, ...]:
    out: list[PersonName] = []
    for name in names:
        family, given = _parts(name.family, name.given, name.middle, name.full)
        latin_family = latin_given = ""
        if name.HasField("transliteration"):
            latin = name.transliteration
            latin_family, latin_given = _parts(latin.family, latin.given, latin.middle, latin.full)
        parsed = PersonName(
            _ROLES.get(name.type, NameRole.ALIAS), family, given, latin_family, latin_given
        )
        if not parsed.is_empty and parsed not in out:
            out.append(parsed)
    return tuple(out)


def _parts(family: str, given: str, middle: str, full: str) -> tuple[str, str]:
    """(family, given and middle names) cleaned; the full name as given when both are empty."""
    family, given, middle = _clean(family), _clean(given), _clean(middle)
    if middle:
        given = f"{given} {middle}" if given else middle
    if not family and not given:
        given = _clean(full)
    return family, given


def _dates(dates: Iterable[common_pb2.PartialDate]) -> tuple[BirthDate, ...]:
    out: list[BirthDate] = []
    for date in dates:
        # Stored records are validated (year 1-9999, month 0-12, a valid day); anything else is
        # left out rather than allowed to stop a rebuild.
        if 1 <= date.year <= 9999 and date.month <= 12 and date.day <= 31:
            parsed = BirthDate(date.year, date.month, date.day if date.month else 0)
            if parsed not in out:
                out.append(parsed)
    return tuple(out)


def _country(code: common_pb2.CountryCode) -> str:
    value = code.code or _clean(code.raw).upper()
    return "DEU" if value == "D" else value


def _countries(codes: Iterable[common_pb2.CountryCode]) -> tuple[str, ...]:
    out: list[str] = []
    for code in codes:
        country = _country(code)
        if country and country not in out:
            out.append(country)
    return tuple(out)


def _document_key(
    document: travel_document_pb2.TravelDocument, record_id: str, version: int
) -> DocumentKey:
    return DocumentKey(
        number=normalize_number(document.document_number),
        issuing_state=_country(document.issuing_state),
        document_type=document.document_type,
        status=document.status,
        record_id=record_id,
        version=version,
    )


def _identifier_documents(identifiers: Iterable[common_pb2.Identifier]) -> tuple[DocumentKey, ...]:
    out: list[DocumentKey] = []
    for identifier in identifiers:
        if identifier.scheme.upper() not in DOCUMENT_IDENTIFIER_SCHEMES:
            continue
        number = normalize_number(identifier.value)
        if number:
            key = DocumentKey(number, _country(identifier.issuer))
            if key not in out:
                out.append(key)
    return tuple(out)
