"""Hypothesis strategies: PAXLST records in the form the adapter decodes them to.

A generated interchange holds one or two manifests (passenger or crew lists, possibly sent as a
multi-part message, with legs of further flights and a final destination) with their
travellers' persons (with addresses) and documents, ids from ``adapters.paxlst.ids``, links
and the documents' holder data filled as decode fills them. Text values include the service
characters (``'``, ``+``, ``:``, ``?``) so that release escaping is exercised.
``passenger_list_payload`` builds the 500-traveller list of the throughput measurement.
"""

from __future__ import annotations

import datetime
import string

from hypothesis import strategies as st

from adapters.paxlst import PaxlstAdapter
from adapters.paxlst.codes import DOCUMENT_TYPE_BY_CODE
from adapters.paxlst.ids import document_record_id, manifest_record_id, person_record_id
from liaison.codes import ICAO_CODES, ISO_ALPHA2_TO_ALPHA3, ISO_ALPHA3
from liaison.rules.text import forbidden_in
from liaison.v1 import common_pb2, manifest_pb2, record_pb2, travel_document_pb2

__all__ = ["manifest_records", "passenger_list_payload"]

_ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
_ICAO = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
_UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED

_UPPER = string.ascii_uppercase
_CODE_CHARACTERS = _UPPER + string.digits
# Upper-case letters, digits, space and the service characters: the UNOA repertoire.
_LEVEL_A = _UPPER + string.digits + " .,-()/='+:?!\"%&*;<>"


def _text(syntax: str, min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    if syntax.startswith("UNOA"):
        return st.text(alphabet=_LEVEL_A, min_size=min_size, max_size=max_size)
    # Any character a record's text may hold (liaison.rules.text); the others are refused.
    return st.text(
        alphabet=st.characters(exclude_categories=["Cs", "Cc"]).filter(
            lambda character: forbidden_in(character) is None
        ),
        min_size=min_size,
        max_size=max_size,
    )


def _nonblank(syntax: str, max_size: int = 12) -> st.SearchStrategy[str]:
    return _text(syntax, 1, max_size)


def _code(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=_CODE_CHARACTERS, min_size=min_size, max_size=max_size)


@st.composite
def _country(draw: st.DrawFn) -> common_pb2.CountryCode:
    kind = draw(st.sampled_from(["iso", "icao", "alpha2", "unmapped"]))
    if kind == "iso":
        return common_pb2.CountryCode(code=draw(st.sampled_from(sorted(ISO_ALPHA3))), system=_ISO)
    if kind == "icao":
        return common_pb2.CountryCode(code=draw(st.sampled_from(sorted(ICAO_CODES))), system=_ICAO)
    if kind == "alpha2":
        alpha2 = draw(st.sampled_from(sorted(ISO_ALPHA2_TO_ALPHA3)))
        return common_pb2.CountryCode(code=ISO_ALPHA2_TO_ALPHA3[alpha2], system=_ISO, raw=alpha2)
    known = ISO_ALPHA3 | set(ICAO_CODES) | set(ISO_ALPHA2_TO_ALPHA3)
    raw = draw(_code(4, 6).filter(lambda value: value not in known))
    return common_pb2.CountryCode(raw=raw, system=_UNMAPPED)


@st.composite
def _airport(draw: st.DrawFn, syntax: str) -> common_pb2.Place:
    place = common_pb2.Place()
    kind = draw(st.sampled_from(["iata", "unlocode", "other", "name"]))
    if kind == "iata":
        place.iata_code = draw(st.text(alphabet=_UPPER, min_size=3, max_size=3))
    elif kind == "unlocode":
        place.unlocode = draw(st.text(alphabet=_UPPER, min_size=5, max_size=5))
    elif kind == "other":
        place.other_code = draw(st.sampled_from(["12A", "XY", "ABCDEF", "A1"]))
    if kind == "name" or draw(st.booleans()):
        place.name = draw(_nonblank(syntax))
    return place


@st.composite
def _date(draw: st.DrawFn) -> common_pb2.PartialDate:
    value = draw(st.dates(min_value=datetime.date(1000, 1, 1)))
    return common_pb2.PartialDate(year=value.year, month=value.month, day=value.day)


@st.composite
def _local(draw: st.DrawFn) -> manifest_pb2.LocalDateTime:
    moment = manifest_pb2.LocalDateTime(date=draw(_date()))
    if draw(st.booleans()):
        moment.has_time = True
        moment.hour = draw(st.integers(0, 23))
        moment.minute = draw(st.integers(0, 59))
    return moment


@st.composite
def _leg(draw: st.DrawFn, syntax: str, manifest_flight: str) -> manifest_pb2.FlightLeg:
    leg = manifest_pb2.FlightLeg(departure=draw(_airport(syntax)), arrival=draw(_airport(syntax)))
    if draw(st.booleans()):
        # A flight of its own (a further TDT group), with the carrier TDT C040 names.
        leg.flight_number = draw(_code(3, 8).filter(lambda flight: flight != manifest_flight))
        leg.carrier_code = draw(_code(2, 3))
    if draw(st.booleans()):
        leg.scheduled_departure.CopyFrom(draw(_local()))
    if draw(st.booleans()):
        leg.scheduled_arrival.CopyFrom(draw(_local()))
    leg.routing.extend(draw(st.lists(_airport(syntax), max_size=2)))
    return leg


@st.composite
def _traveller(
    draw: st.DrawFn, syntax: str
) -> tuple[manifest_pb2.ManifestTraveller, record_pb2.Record, list[record_pb2.Record]]:
    entry = manifest_pb2.ManifestTraveller(
        role=draw(st.sampled_from(list(manifest_pb2.TravellerRole.values())[1:]))
    )
    for name in ("embarkation", "debarkation", "final_destination"):
        if draw(st.booleans()):
            getattr(entry, name).CopyFrom(draw(_airport(syntax)))
    entry.pnr_locator = draw(_text(syntax, 0, 8))
    qualifiers = _code(1, 3).filter(lambda q: q != "AVF")
    entry.references.extend(
        draw(
            st.lists(st.builds(lambda q, v: f"{q}:{v}", qualifiers, _nonblank(syntax)), max_size=2)
        )
    )
    entry.notes.extend(
        draw(st.lists(_nonblank(syntax).filter(lambda note: not note.endswith(":")), max_size=2))
    )
    person_record = record_pb2.Record()
    person = person_record.person
    person.names.add(
        type=common_pb2.NAME_TYPE_PRIMARY,
        family=draw(_nonblank(syntax)),
        given=draw(_text(syntax)),
        middle=draw(_text(syntax)),
    )
    person.sex = draw(st.sampled_from(list(common_pb2.Sex.values())))
    if draw(st.booleans()):
        person.birth_date.CopyFrom(draw(_date()))
    if draw(st.booleans()):
        place = person.birth_place
        if draw(st.booleans()):
            place.country.CopyFrom(draw(_country()))
        if not place.HasField("country") or draw(st.booleans()):
            place.name = draw(_nonblank(syntax))
    person.nationalities.extend(draw(st.lists(_country(), max_size=2)))
    if draw(st.booleans()):
        address = common_pb2.Address(
            street_lines=draw(st.lists(_nonblank(syntax), max_size=4)),
            city=draw(_text(syntax)),
            country_subdivision=draw(_text(syntax, 0, 20)),
            postal_code=draw(_text(syntax, 0, 9)),
        )
        if draw(st.booleans()):
            address.country.CopyFrom(draw(_country()))
        if address.ListFields():
            person.addresses.append(address)
    if draw(st.booleans()):
        person.residence_country.CopyFrom(draw(_country()))
    documents = []
    for _ in range(draw(st.integers(0, 2))):
        document_record = record_pb2.Record()
        document = document_record.travel_document
        code = draw(st.sampled_from([*DOCUMENT_TYPE_BY_CODE, "F", "M", "IN"]))
        document.document_code = code
        document.document_type = DOCUMENT_TYPE_BY_CODE.get(  # type: ignore[assignment]
            code, travel_document_pb2.DOCUMENT_TYPE_OTHER
        )
        document.document_number = draw(_nonblank(syntax))
        if draw(st.booleans()):
            document.expiry_date.CopyFrom(draw(_date()))
        if draw(st.booleans()):
            document.issue_date.CopyFrom(draw(_date()))
        if draw(st.booleans()):
            document.issuing_state.CopyFrom(draw(_country()))
            document.issue_place.country.CopyFrom(document.issuing_state)
        if draw(st.booleans()):
            document.issue_place.name = draw(_nonblank(syntax))
        document.holder_name.CopyFrom(person.names[0])
        if person.nationalities:
            document.holder_nationality.CopyFrom(person.nationalities[0])
        if person.HasField("birth_date"):
            document.holder_birth_date.CopyFrom(person.birth_date)
        document.holder_sex = person.sex
        documents.append(document_record)
    return entry, person_record, documents


def _envelope_id() -> st.SearchStrategy[str]:
    qualifier = st.sampled_from(["", ":ZZ", ":1"])
    return st.builds(lambda value, suffix: value + suffix, _code(1, 10), qualifier)


@st.composite
def manifest_records(draw: st.DrawFn) -> list[record_pb2.Record]:
    """One interchange's records: one or two manifests, each followed by its travellers'."""
    syntax = draw(st.sampled_from(["UNOA:4", "UNOY:4"]))
    interchange = manifest_pb2.EdifactEnvelope(
        syntax_identifier=syntax,
        sender=draw(_envelope_id()),
        recipient=draw(_envelope_id()),
        prepared_at=draw(st.dates(datetime.date(2000, 1, 1), datetime.date(2079, 12, 31))).strftime(
            "%y%m%d:"
        )
        + draw(st.sampled_from(["0000", "0930", "2359"])),
        interchange_reference=draw(_code(1, 14)),
    )
    if draw(st.booleans()):
        interchange.group_sender = draw(_envelope_id())
        interchange.group_recipient = draw(_envelope_id())
    records: list[record_pb2.Record] = []
    for ordinal in range(draw(st.integers(1, 2))):
        record = record_pb2.Record()
        manifest = record.passenger_manifest
        manifest.manifest_type = draw(
            st.sampled_from([manifest_pb2.MANIFEST_TYPE_PASSENGER, manifest_pb2.MANIFEST_TYPE_CREW])
        )
        manifest.flight_number = draw(_code(3, 8))
        manifest.carrier_code = draw(_code(2, 3))
        manifest.legs.extend(draw(st.lists(_leg(syntax, manifest.flight_number), max_size=3)))
        if draw(st.booleans()):
            manifest.final_destination.CopyFrom(draw(_airport(syntax)))
        party = manifest.reporting_party
        party.name = draw(_text(syntax))
        party.telephone = draw(_text(syntax))
        party.fax = draw(_text(syntax))
        party.email = draw(_text(syntax))
        if not party.ListFields():
            manifest.ClearField("reporting_party")
        envelope = manifest.envelope
        envelope.CopyFrom(interchange)
        envelope.message_reference = draw(_code(1, 14))
        envelope.message_identifier = draw(
            st.sampled_from(["PAXLST:D:05B:UN:IATA", "PAXLST:D:02B:UN:IATA"])
        )
        envelope.document_identifier = draw(st.sampled_from(["", "CP", "C"]))
        envelope.part_number = draw(st.sampled_from([0, 1, 1, 2, 3]))
        if envelope.part_number:
            envelope.last_part = draw(st.booleans())
        if envelope.part_number > 1 or draw(st.booleans()):
            envelope.common_access_reference = draw(_code(1, 20))
        travellers = draw(st.lists(_traveller(syntax), max_size=3))
        manifest.declared_traveller_count = draw(
            st.sampled_from([len(travellers), len(travellers), len(travellers) + 1])
        )
        manifest_id = manifest_record_id(manifest, ordinal)
        record.record_id = manifest_id
        records.append(record)
        for index, (entry, person_record, documents) in enumerate(travellers):
            person_id = person_record_id(manifest_id, index)
            person_record.record_id = person_id
            entry.person_record_id = person_id
            record.links.add(type=record_pb2.LINK_TYPE_TRAVELLER, target_record_id=person_id)
            records.append(person_record)
            for number, document_record in enumerate(documents):
                document_id = document_record_id(manifest_id, index, number)
                document_record.record_id = document_id
                entry.document_record_ids.append(document_id)
                record.links.add(type=record_pb2.LINK_TYPE_DOCUMENT, target_record_id=document_id)
                document_record.links.add(
                    type=record_pb2.LINK_TYPE_HOLDER, target_record_id=person_id
                )
                records.append(document_record)
            manifest.travellers.append(entry)
    return records


def passenger_list_payload(travellers: int = 500) -> bytes:
    """A valid D.05B passenger list of ``travellers`` travellers, written by the encoder."""
    records: list[record_pb2.Record] = []
    manifest_record = record_pb2.Record(record_id="manifest")
    manifest = manifest_record.passenger_manifest
    manifest.manifest_type = manifest_pb2.MANIFEST_TYPE_PASSENGER
    manifest.flight_number = "XA123"
    manifest.carrier_code = "XA"
    manifest.declared_traveller_count = travellers
    manifest.reporting_party.name = "API DESK"
    manifest.reporting_party.telephone = "1 212 555 0100"
    leg = manifest.legs.add()
    leg.departure.iata_code = "YYZ"
    leg.arrival.iata_code = "JFK"
    leg.scheduled_departure.date.year = 2025
    leg.scheduled_departure.date.month = 11
    leg.scheduled_departure.date.day = 27
    leg.scheduled_departure.has_time = True
    leg.scheduled_departure.hour = 10
    envelope = manifest.envelope
    envelope.syntax_identifier = "UNOA:4"
    envelope.sender = "XA:ZZ"
    envelope.recipient = "USCBP:ZZ"
    envelope.prepared_at = "251127:0800"
    envelope.interchange_reference = "000000001"
    envelope.message_reference = "PAX001"
    records.append(manifest_record)
    for index in range(travellers):
        person_record = record_pb2.Record(record_id=f"person-{index}")
        person = person_record.person
        person.names.add(family=f"TRAVELLER{index}", given="SAMPLE", middle="Q")
        person.sex = common_pb2.SEX_FEMALE if index % 2 else common_pb2.SEX_MALE
        person.birth_date.year = 1950 + index % 50
        person.birth_date.month = 1 + index % 12
        person.birth_date.day = 1 + index % 28
        person.nationalities.add(code="USA", system=_ISO)
        person.residence_country.code = "USA"
        person.birth_place.country.code = "USA"
        person.birth_place.name = "NEW YORK"
        document_record = record_pb2.Record(record_id=f"document-{index}")
        document = document_record.travel_document
        document.document_code = "P"
        document.document_type = travel_document_pb2.DOCUMENT_TYPE_PASSPORT
        document.document_number = f"P{index:08d}"
        document.expiry_date.year = 2030
        document.expiry_date.month = 1
        document.expiry_date.day = 1
        document.issuing_state.code = "USA"
        entry = manifest.travellers.add(
            role=manifest_pb2.TRAVELLER_ROLE_PASSENGER,
            person_record_id=person_record.record_id,
            document_record_ids=[document_record.record_id],
            pnr_locator=f"PNR{index:03d}",
        )
        entry.embarkation.iata_code = "YYZ"
        entry.debarkation.iata_code = "JFK"
        entry.references.append(f"SEA:{index % 40}A")
        records.extend([person_record, document_record])
    result = PaxlstAdapter().encode(records)
    assert not result.has_errors, [str(d) for d in result.diagnostics]
    return result.payload
