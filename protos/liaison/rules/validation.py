"""Validation of records before they are stored: every refused field is reported, not the first.

Two kinds of rules apply. Generic rules walk every field that is set, guided by the descriptors:
enum values must be defined by the contract (proto3 keeps unknown numbers, the gateway does not),
and value types (``PartialDate``, ``CountryCode``, ``Quantity``, ``Timestamp``, ...) are checked
wherever they occur. Envelope and body rules then check what each kind of record needs.

Every string field is checked for the characters no text may hold (:mod:`liaison.rules.text`):
control characters, bidi overrides and isolates, noncharacters; free-text fields may have lines.

Paths are the proto field names from the record, with list indexes: ``person.names[0].family``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from liaison.codes import ICAO_CODES, ISO_ALPHA3
from liaison.rules.errors import FieldViolation
from liaison.rules.ids import CENTRE_ID_PATTERN, LIST_NAME_PATTERN, MAX_VERSION, RECORD_ID_PATTERN
from liaison.rules.text import FREE_TEXT_FIELDS, describe, forbidden_in
from liaison.v1 import common_pb2, record_pb2

__all__ = ["validate_partial_date", "validate_record", "validate_timestamp"]


_DECIMAL = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_UNIT = re.compile(r"^[A-Z0-9]{2,3}$")
_HS_CODE = re.compile(r"^[0-9]{6}(?:[0-9]{2}){0,2}$")
_SCRIPT = re.compile(r"^[A-Z][a-z]{3}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}$")
_ENTITY_ID = re.compile(r"^[0-9]{4}/[0-9]+$")
_UNLOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
_IATA = re.compile(r"^[A-Z]{3}$")
# google.protobuf.Timestamp's documented range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
_TIMESTAMP_MIN, _TIMESTAMP_MAX = -62135596800, 253402300799

# Module-level enum numbers: attribute access on the generated enum wrapper is slow in a hot path.
_SYSTEM_UNSPECIFIED = common_pb2.COUNTRY_CODE_SYSTEM_UNSPECIFIED
_SYSTEM_UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED
_SYSTEM_ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
_SYSTEM_ICAO = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303

Violations = list[FieldViolation]
_TypeCheck = Callable[[Any, str, Violations], None]


def validate_record(record: record_pb2.Record) -> Violations:
    """Return every violation in ``record`` (an empty list when it may be stored)."""
    violations: Violations = []
    if not record.record_id:
        violations.append(FieldViolation("record_id", "is required"))
    elif not RECORD_ID_PATTERN.fullmatch(record.record_id):
        violations.append(
            FieldViolation(
                "record_id",
                "must be 1-128 letters, digits, '.', '_', ':' or '-', "
                "starting and ending with a letter or digit",
            )
        )
    if record.version > MAX_VERSION:
        violations.append(FieldViolation("version", f"must be at most {MAX_VERSION}"))
    body = record.WhichOneof("body")
    if body is None:
        violations.append(
            FieldViolation(
                "body",
                "exactly one body (person, travel_document, "
                "vehicle, seizure, notice, passenger_manifest, "
                "cultural_object, screening_hit, withdrawal, request, reply, receipt) is required",
            )
        )
    _walk(record, "", violations)
    if body is not None:
        _BODY_RULES[body](getattr(record, body), body, violations)
    if body == "person":
        _identified(record.person, "person", violations, record=record)
    elif body == "notice" and record.notice.HasField("subject"):
        _identified(record.notice.subject, "notice.subject", violations, notice=record.notice)
    elif body == "request":
        releasable = record.handling.releasable_to
        if not releasable:
            violations.append(
                FieldViolation(
                    "handling.releasable_to", "names the addressed centres: a request needs one"
                )
            )
    _lifecycle(record, violations)
    return violations


def _lifecycle(record: record_pb2.Record, violations: Violations) -> None:
    review, expires = record.review_due, record.expires_at
    both = record.HasField("review_due") and record.HasField("expires_at")
    if both and (review.seconds, review.nanos) > (expires.seconds, expires.nanos):
        violations.append(FieldViolation("review_due", "must not be after expires_at"))


def _walk(message: Message, prefix: str, violations: Violations) -> None:
    """Check enums, typed values and text in every field of ``message`` that can hold one.

    Each message type is walked by a plan computed once from its descriptor, which skips every
    field whose subtree holds nothing to check (numbers, bytes, booleans).
    """
    for name, known, check, sub_plan, repeated, enum_name, text in _plan_of(message.DESCRIPTOR):
        if text is not None:
            value = getattr(message, name)
            if repeated:
                for index, item in enumerate(value):
                    _check_text(item, f"{prefix}{name}[{index}]", text, violations)
            elif value:
                _check_text(value, prefix + name, text, violations)
        elif known is not None:
            value = getattr(message, name)
            if repeated:
                for index, item in enumerate(value):
                    if item not in known:
                        violations.append(
                            _unknown_enum(f"{prefix}{name}[{index}]", item, enum_name)
                        )
            elif value not in known:
                violations.append(_unknown_enum(prefix + name, value, enum_name))
        elif repeated:
            for index, item in enumerate(getattr(message, name)):
                path = f"{prefix}{name}[{index}]"
                if check is not None:
                    check(item, path, violations)
                if sub_plan:
                    _walk(item, path + ".", violations)
        elif message.HasField(name):
            value = getattr(message, name)
            if check is not None:
                check(value, prefix + name, violations)
            if sub_plan:
                _walk(value, f"{prefix}{name}.", violations)


def _check_text(value: str, path: str, free_text: bool, violations: Violations) -> None:
    if value.isascii() and value.isprintable():  # most values: no regex search needed
        return
    forbidden = forbidden_in(value, free_text=free_text)
    if forbidden is not None:
        violations.append(FieldViolation(path, describe(forbidden)))


# One step per field worth visiting: (name, known enum numbers or None, typed check or None,
# whether the nested message has steps of its own, repeated, enum full name, and for a string
# field whether it is free text - None for any other field).
_Step = tuple[str, frozenset[int] | None, "_TypeCheck | None", bool, bool, str, bool | None]
_PLANS: dict[str, tuple[_Step, ...]] = {}


def _plan_of(descriptor: Any) -> tuple[_Step, ...]:
    # Any: protobuf types DESCRIPTOR as a union of its pure-Python and upb descriptor classes.
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        _PLANS[descriptor.full_name] = ()  # recursive types stop here while being planned
        plan = _PLANS[descriptor.full_name] = tuple(_steps(descriptor))
    return plan


def _steps(descriptor: Descriptor) -> Iterator[_Step]:
    for field in descriptor.fields:
        repeated = field.is_repeated
        if field.type == FieldDescriptor.TYPE_STRING:
            free_text = field.full_name in FREE_TEXT_FIELDS
            yield field.name, None, None, False, repeated, "", free_text
        elif field.enum_type is not None:
            known = frozenset(field.enum_type.values_by_number)
            yield field.name, known, None, False, repeated, field.enum_type.full_name, None
        elif field.message_type is not None:
            check = _TYPE_CHECKS.get(field.message_type.full_name)
            has_steps = bool(_plan_of(field.message_type))
            if check is not None or has_steps:
                yield field.name, None, check, has_steps, repeated, "", None


def _unknown_enum(path: str, number: int, enum_name: str) -> FieldViolation:
    return FieldViolation(path, f"unknown value {number} for {enum_name}")


def validate_partial_date(date: common_pb2.PartialDate, path: str, violations: Violations) -> None:
    """Append a violation to ``violations`` when ``date`` is not a valid partial date."""
    year, month, day = date.year, date.month, date.day
    if not (year or month or day):
        return
    if not 1 <= year <= 9999:
        violations.append(FieldViolation(f"{path}.year", "must be 1 to 9999 when a date is given"))
        return
    if month > 12:
        violations.append(FieldViolation(f"{path}.month", "must be 1 to 12, or 0 when unknown"))
        return
    if day and not month:
        violations.append(FieldViolation(f"{path}.day", "a day needs a month"))
    elif day > 28 and day > _days_in_month(year, month):
        # The date itself is not quoted: birth dates are personal data, and refusals reach logs.
        violations.append(FieldViolation(f"{path}.day", "is past the end of its month"))


def _days_in_month(year: int, month: int) -> int:
    # Only reached for days 29-31; calendar.monthrange would also compute the weekday.
    if month == 2:
        return 29 if calendar.isleap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _check_country(country: common_pb2.CountryCode, path: str, violations: Violations) -> None:
    code, system = country.code, country.system
    if not code:
        if system not in (_SYSTEM_UNSPECIFIED, _SYSTEM_UNMAPPED):
            violations.append(FieldViolation(f"{path}.code", "is required with this system"))
        elif not country.raw:
            violations.append(
                FieldViolation(f"{path}.raw", "an unmapped country code needs its raw value")
            )
        return
    if code in ISO_ALPHA3:
        expected = _SYSTEM_ISO
    elif code in ICAO_CODES:
        expected = _SYSTEM_ICAO
    else:
        violations.append(
            FieldViolation(
                f"{path}.code",
                f"{code!r} is neither an ISO 3166-1 alpha-3 nor an ICAO 9303 code; "
                "put an unmappable value in raw with system UNMAPPED",
            )
        )
        return
    if system not in (_SYSTEM_UNSPECIFIED, expected):
        name = common_pb2.CountryCodeSystem.Name(expected)
        violations.append(FieldViolation(f"{path}.system", f"{code} belongs to {name}"))


def _check_quantity(quantity: common_pb2.Quantity, path: str, violations: Violations) -> None:
    if not (quantity.amount or quantity.unit):
        return
    if not _DECIMAL.fullmatch(quantity.amount):
        violations.append(FieldViolation(f"{path}.amount", "must be a decimal number like 12.500"))
    if not _UNIT.fullmatch(quantity.unit):
        violations.append(
            FieldViolation(
                f"{path}.unit", "must be a UN/ECE Rec. 20 unit or ISO 4217 currency code"
            )
        )


def validate_timestamp(stamp: Any, path: str, violations: Violations) -> None:
    """Append a violation when ``stamp`` (a ``google.protobuf.Timestamp``) is out of range."""
    if not _TIMESTAMP_MIN <= stamp.seconds <= _TIMESTAMP_MAX:
        violations.append(FieldViolation(f"{path}.seconds", "is outside 0001-01-01..9999-12-31"))
    if not 0 <= stamp.nanos <= 999_999_999:
        violations.append(FieldViolation(f"{path}.nanos", "must be 0 to 999999999"))


def _check_name(name: common_pb2.Name, path: str, violations: Violations) -> None:
    if not (name.family or name.given or name.middle or name.full):
        violations.append(FieldViolation(path, "a name needs a family, given, middle or full part"))
    if name.script and not _SCRIPT.fullmatch(name.script):
        violations.append(FieldViolation(f"{path}.script", "must be an ISO 15924 code like Latn"))


def _check_place(place: common_pb2.Place, path: str, violations: Violations) -> None:
    if place.unlocode and not _UNLOCODE.fullmatch(place.unlocode):
        violations.append(FieldViolation(f"{path}.unlocode", "must be a UN/LOCODE like FRLYS"))
    if place.iata_code and not _IATA.fullmatch(place.iata_code):
        violations.append(FieldViolation(f"{path}.iata_code", "must be three capital letters"))


def _check_link(link: record_pb2.Link, path: str, violations: Violations) -> None:
    if link.type == record_pb2.LINK_TYPE_UNSPECIFIED:
        violations.append(FieldViolation(f"{path}.type", "is required"))
    if not RECORD_ID_PATTERN.fullmatch(link.target_record_id):
        violations.append(FieldViolation(f"{path}.target_record_id", "must be a valid record id"))


def _check_provenance(provenance: record_pb2.Provenance, path: str, violations: Violations) -> None:
    centre = provenance.originating_centre
    if centre and not CENTRE_ID_PATTERN.fullmatch(centre):
        violations.append(
            FieldViolation(f"{path}.originating_centre", "must be a centre id like WCO-I2C")
        )
    if provenance.payload_sha256 and len(provenance.payload_sha256) != 32:
        violations.append(FieldViolation(f"{path}.payload_sha256", "must be 32 bytes"))


def _check_handling(handling: record_pb2.Handling, path: str, violations: Violations) -> None:
    if handling.code == record_pb2.HANDLING_CODE_H3 and not handling.restrictions:
        violations.append(
            FieldViolation(f"{path}.restrictions", "H3 needs its restrictions stated")
        )
    for index, centre in enumerate(handling.releasable_to):
        if not CENTRE_ID_PATTERN.fullmatch(centre):
            violations.append(
                FieldViolation(f"{path}.releasable_to[{index}]", "must be a centre id like WCO-I2C")
            )


_TYPE_CHECKS: dict[str, _TypeCheck] = {
    "liaison.v1.PartialDate": validate_partial_date,
    "liaison.v1.CountryCode": _check_country,
    "liaison.v1.Quantity": _check_quantity,
    "liaison.v1.Name": _check_name,
    "liaison.v1.Place": _check_place,
    "liaison.v1.Link": _check_link,
    "liaison.v1.Provenance": _check_provenance,
    "liaison.v1.Handling": _check_handling,
    "google.protobuf.Timestamp": validate_timestamp,
}


def _required(
    violations: Violations, path: str, present: object, what: str = "is required"
) -> None:
    if not present:
        violations.append(FieldViolation(path, what))


_DOCUMENT_LINKS = frozenset({record_pb2.LINK_TYPE_DOCUMENT, record_pb2.LINK_TYPE_HOLDER})
_UNIDENTIFIED = (
    "a person needs at least one identifying element: a name, a birth date (at least its "
    "year), a document link (an identifier, or a DOCUMENT or HOLDER link) or a biometric "
    "reference (ANSI/NIST source detail)"
)


def _identified(
    person: Any,
    path: str,
    violations: Violations,
    *,
    record: record_pb2.Record | None = None,
    notice: Any = None,
) -> None:
    """The person rule: at least one identifying element, not necessarily a name.

    A person record may be identified by its own record (a link to the travel document it holds,
    the ANSI/NIST transaction whose biometric records it describes); a notice subject by its
    notice, which is about one person and publishes the subject's photographs and nationality.
    See ``docs/contract.md`` ("Who is a person").
    """
    if (
        person.names
        or person.birth_date.year
        or any(d.year for d in person.alternative_birth_dates)
    ):
        return
    if any(identifier.value for identifier in person.identifiers):
        return
    if record is not None:
        if any(link.type in _DOCUMENT_LINKS for link in record.links):
            return
        if record.provenance.HasField("nist"):
            return
    if notice is not None and (notice.image_uris or person.nationalities):
        return
    what = _UNIDENTIFIED
    if notice is not None:
        what += ", or for a notice subject the notice's images or a nationality"
    violations.append(FieldViolation(f"{path}.names", what))


def _person(person: Any, path: str, violations: Violations) -> None:
    """What every person must satisfy besides being identified (``_identified``)."""
    for index, language in enumerate(person.languages):
        if not _LANGUAGE.fullmatch(language):
            violations.append(
                FieldViolation(f"{path}.languages[{index}]", "must be an ISO 639 code")
            )
    physical = person.physical_description
    for key in ("height_m", "weight_kg"):
        value = getattr(physical, key)
        if value != value or value < 0:  # NaN is the only value unequal to itself
            violations.append(
                FieldViolation(f"{path}.physical_description.{key}", "must be a positive number")
            )


def _travel_document(document: Any, path: str, violations: Violations) -> None:
    _required(violations, f"{path}.document_number", document.document_number)
    _required(violations, f"{path}.document_type", document.document_type)


def _vehicle(vehicle: Any, path: str, violations: Violations) -> None:
    _required(
        violations,
        f"{path}.identification_number",
        vehicle.identification_number or vehicle.registration_number,
        "an identification number or a registration number is required",
    )


def _seizure(seizure: Any, path: str, violations: Violations) -> None:
    _required(violations, f"{path}.commodity_category", seizure.commodity_category)
    _required(
        violations,
        f"{path}.date",
        seizure.date.year,
        "the seizure date (at least its year) is required",
    )
    if seizure.hs_code and not _HS_CODE.fullmatch(seizure.hs_code):
        violations.append(FieldViolation(f"{path}.hs_code", "must be 6, 8 or 10 digits"))


def _notice(notice: Any, path: str, violations: Violations) -> None:
    _required(violations, f"{path}.notice_type", notice.notice_type)
    if notice.entity_id and not _ENTITY_ID.fullmatch(notice.entity_id):
        violations.append(FieldViolation(f"{path}.entity_id", "must look like 2019/12345"))
    if notice.HasField("subject"):
        _person(notice.subject, f"{path}.subject", violations)


def _passenger_manifest(manifest: Any, path: str, violations: Violations) -> None:
    _required(violations, f"{path}.manifest_type", manifest.manifest_type)
    _required(violations, f"{path}.flight_number", manifest.flight_number)
    for index, traveller in enumerate(manifest.travellers):
        where = f"{path}.travellers[{index}]"
        _required(violations, f"{where}.role", traveller.role)
        ids = [("person_record_id", traveller.person_record_id)] + [
            (f"document_record_ids[{i}]", value)
            for i, value in enumerate(traveller.document_record_ids)
        ]
        for name, value in ids:
            if value and not RECORD_ID_PATTERN.fullmatch(value):
                violations.append(FieldViolation(f"{where}.{name}", "must be a valid record id"))


def _cultural_object(item: Any, path: str, violations: Violations) -> None:
    _required(
        violations,
        f"{path}.object_type",
        item.object_type or item.description,
        "the type of object (or at least a description) is required by the Object ID checklist",
    )


_SUBJECT_KEY = re.compile(r"[0-9a-f]{32}")


def _screening_hit(hit: Any, path: str, violations: Violations) -> None:
    for name in ("subject_record_id", "entry_record_id"):
        value = getattr(hit, name)
        if not RECORD_ID_PATTERN.fullmatch(value):
            violations.append(FieldViolation(f"{path}.{name}", "must be a valid record id"))
    if hit.manifest_record_id and not RECORD_ID_PATTERN.fullmatch(hit.manifest_record_id):
        violations.append(FieldViolation(f"{path}.manifest_record_id", "must be a valid record id"))
    for name in ("subject_version", "entry_version"):
        _required(violations, f"{path}.{name}", getattr(hit, name), "must be 1 or more")
    if not LIST_NAME_PATTERN.fullmatch(hit.list):
        violations.append(
            FieldViolation(f"{path}.list", "must be a list name: lower-case letters, digits, '-'")
        )
    if not 0.0 <= hit.score <= 1.0:  # NaN fails both comparisons
        violations.append(FieldViolation(f"{path}.score", "must be between 0 and 1"))
    _required(violations, f"{path}.band", hit.band)
    if not CENTRE_ID_PATTERN.fullmatch(hit.entry_centre):
        violations.append(FieldViolation(f"{path}.entry_centre", "must be a centre id"))
    if hit.subject_key and not _SUBJECT_KEY.fullmatch(hit.subject_key):
        violations.append(
            FieldViolation(f"{path}.subject_key", "must be 32 lower-case hexadecimal digits")
        )
    for index, evidence in enumerate(hit.explanation):
        if evidence.weight != evidence.weight:
            violations.append(
                FieldViolation(f"{path}.explanation[{index}].weight", "must be a number")
            )


_NOTE_LENGTH = 2000
_SUBJECT_LENGTH = 200
_TEXT_LENGTH = 100_000


def _withdrawal(withdrawal: Any, path: str, violations: Violations) -> None:
    _required(violations, f"{path}.reason", withdrawal.reason)
    if withdrawal.reason == record_pb2.WITHDRAWAL_REASON_OTHER and not withdrawal.note.strip():
        violations.append(FieldViolation(f"{path}.note", "is required with reason OTHER"))
    if len(withdrawal.note) > _NOTE_LENGTH:
        violations.append(FieldViolation(f"{path}.note", f"must be {_NOTE_LENGTH} chars or fewer"))
    if not withdrawal.HasField("withdrawn_at"):
        violations.append(FieldViolation(f"{path}.withdrawn_at", "is required"))
    if withdrawal.withdrawn_kind in (
        record_pb2.RECORD_KIND_UNSPECIFIED,
        record_pb2.RECORD_KIND_WITHDRAWAL,
    ):
        violations.append(FieldViolation(f"{path}.withdrawn_kind", "must name a record kind"))


def _linked(ids: Any, path: str, violations: Violations) -> None:
    for index, value in enumerate(ids):
        if not RECORD_ID_PATTERN.fullmatch(value):
            violations.append(FieldViolation(f"{path}[{index}]", "must be a valid record id"))


def _thread_text(message: Any, path: str, violations: Violations) -> None:
    if not RECORD_ID_PATTERN.fullmatch(message.thread_id):
        violations.append(
            FieldViolation(f"{path}.thread_id", "must be a thread id (a record id pattern)")
        )
    if not message.body.strip():
        violations.append(FieldViolation(f"{path}.body", "is required"))
    elif len(message.body) > _TEXT_LENGTH:
        violations.append(FieldViolation(f"{path}.body", f"must be {_TEXT_LENGTH} chars or fewer"))
    _linked(message.linked_record_ids, f"{path}.linked_record_ids", violations)


def _request(request: Any, path: str, violations: Violations) -> None:
    _thread_text(request, path, violations)
    if not request.subject.strip():
        violations.append(FieldViolation(f"{path}.subject", "is required"))
    elif len(request.subject) > _SUBJECT_LENGTH:
        violations.append(
            FieldViolation(f"{path}.subject", f"must be {_SUBJECT_LENGTH} chars or fewer")
        )


def _reply(reply: Any, path: str, violations: Violations) -> None:
    _thread_text(reply, path, violations)


def _receipt(receipt: Any, path: str, violations: Violations) -> None:
    for name in ("thread_id", "request_record_id"):
        if not RECORD_ID_PATTERN.fullmatch(getattr(receipt, name)):
            violations.append(FieldViolation(f"{path}.{name}", "must be a valid record id"))
    if not receipt.requesting_centre:
        violations.append(FieldViolation(f"{path}.requesting_centre", "is required"))
    if not receipt.HasField("delivered_at"):
        violations.append(FieldViolation(f"{path}.delivered_at", "is required"))
    _linked(receipt.reply_record_ids, f"{path}.reply_record_ids", violations)


_BODY_RULES: dict[str, _TypeCheck] = {
    "person": _person,
    "travel_document": _travel_document,
    "vehicle": _vehicle,
    "seizure": _seizure,
    "notice": _notice,
    "passenger_manifest": _passenger_manifest,
    "cultural_object": _cultural_object,
    "screening_hit": _screening_hit,
    "withdrawal": _withdrawal,
    "request": _request,
    "reply": _reply,
    "receipt": _receipt,
}
