"""Golden samples (see ``samples/SOURCES.md``): each input decodes to its expected JSON, and
the key fields are checked here one by one against the guide, so that a regenerated expected
file cannot hide a wrong reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters import jsonform
from adapters.base import DecodeResult
from adapters.diagnostics import Severity
from liaison.rules.validation import validate_record
from liaison.v1 import common_pb2, manifest_pb2, travel_document_pb2
from tests.adapters.paxlst.builders import (
    ADAPTER,
    bodies,
    codes,
    documents,
    manifest,
    persons,
    tainted_bodies,
)

SAMPLES = Path(__file__).parent / "samples"
INPUTS = sorted(SAMPLES.glob("*.edi"))


def _decode(name: str) -> DecodeResult:
    return ADAPTER.decode((SAMPLES / name).read_bytes(), source_reference=name)


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_sample_decodes_to_its_expected_json(path: Path) -> None:
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text("utf-8"))
    result = ADAPTER.decode(path.read_bytes(), source_reference=path.name)
    assert json.loads(jsonform.dumps(result)) == expected


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_records_no_error_names_pass_gateway_validation(path: Path) -> None:
    result = ADAPTER.decode(path.read_bytes(), source_reference=path.name)
    for record in result.clean:
        assert validate_record(record) == [], record.record_id


def test_passenger_list_d05b() -> None:
    """IG 5 / CBP passenger example: every segment group mapped."""
    result = _decode("passenger-list-d05b.edi")
    assert result.diagnostics == ()
    body = manifest(result)
    assert body.manifest_type == manifest_pb2.MANIFEST_TYPE_PASSENGER
    assert (body.flight_number, body.carrier_code, body.declared_traveller_count) == (
        "UA123",
        "UA",
        2,
    )
    assert body.reporting_party.name == "JACKSON"
    assert body.reporting_party.fax == "703-555-9876"
    (leg,) = body.legs
    assert (leg.departure.iata_code, leg.arrival.iata_code) == ("YVR", "JFK")
    assert (leg.scheduled_departure.date.year, leg.scheduled_departure.hour) == (2007, 12)
    envelope = body.envelope
    assert (envelope.sender, envelope.group_sender) == ("APIS*ABE", "XYZ AIRLINES")
    assert envelope.common_access_reference == "UA123/070429/1230"
    first, second = body.travellers
    assert (first.embarkation.iata_code, first.debarkation.iata_code) == ("YVR", "JFK")
    assert (first.pnr_locator, list(first.references)) == ("ABC123", ["SEA:23C"])
    assert second.final_destination.iata_code == "ATL"
    doe, roe = persons(result)
    assert (doe.names[0].family, doe.names[0].given, doe.names[0].middle) == (
        "DOE",
        "JOHN",
        "WAYNE",
    )
    assert (doe.birth_date.year, doe.birth_date.month, doe.birth_date.day) == (1957, 1, 21)
    assert (doe.residence_country.code, doe.birth_place.name) == ("CAN", "TORONTO")
    assert roe.sex == common_pb2.SEX_FEMALE
    passport, roe_passport, visa = documents(result)
    assert (passport.document_number, passport.expiry_date.year) == ("MB140241", 2008)
    assert (roe_passport.issue_date.year, roe_passport.issuing_state.code) == (2005, "GBR")
    assert (visa.document_type, visa.issuing_state.code) == (
        travel_document_pb2.DOCUMENT_TYPE_VISA,
        "USA",
    )


def test_crew_list_d02b() -> None:
    result = _decode("crew-list-d02b.edi")
    assert result.diagnostics == ()
    body = manifest(result)
    assert body.manifest_type == manifest_pb2.MANIFEST_TYPE_CREW
    assert body.envelope.message_identifier == "PAXLST:D:02B:UN:IATA"
    assert [t.role for t in body.travellers] == [
        manifest_pb2.TRAVELLER_ROLE_CREW,
        manifest_pb2.TRAVELLER_ROLE_INTRANSIT_CREW,
    ]
    pilot, cabin = persons(result)
    assert (cabin.sex, cabin.nationalities[0].code) == (common_pb2.SEX_X, "D")
    assert cabin.nationalities[0].system == common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
    assert cabin.names[0].middle == "CREW MEMBER"
    assert pilot.birth_date.year == 1975
    assert documents(result)[1].document_type == (
        travel_document_pb2.DOCUMENT_TYPE_CREW_MEMBER_CERTIFICATE
    )


def test_non_default_separators() -> None:
    result = _decode("non-default-separators.edi")
    assert result.diagnostics == ()
    body = manifest(result)
    assert body.reporting_party.name == "OPS+CONTROL: DESK'A"
    assert body.reporting_party.email == "api^ops@example.org"
    assert body.travellers[0].pnr_locator == "Q|7XZ"
    assert persons(result)[0].names[0].family == "O~BRIEN"
    assert documents(result)[0].document_number == "PA#1234"


def test_release_characters() -> None:
    result = _decode("release-characters.edi")
    assert codes(result) == ["EDIFACT_CHARACTER_SET"]  # lower case under UNOA: a warning
    assert persons(result)[0].names[0].family == "D'UNAMUNO"
    body = manifest(result)
    assert body.reporting_party.email == "ops+api@example.org"
    assert (body.travellers[0].pnr_locator, list(body.travellers[0].notes)) == (
        "Q+Z1",
        ["BAG:TAG?1:X"],
    )
    assert documents(result)[0].document_number == "ESP:0001"


def test_release_before_ordinary_characters_is_kept_and_warned() -> None:
    """ISO 9735 defines the release character only before a service character: ``M?LLER``
    keeps its question mark (before, pydifact dropped it: ``MLLER``, ``C01X00.T47``)."""
    result = _decode("release-undefined.edi")
    assert codes(result) == [
        "EDIFACT_RELEASE_UNDEFINED",
        "EDIFACT_RELEASE_UNDEFINED",
        "EDIFACT_TRAILING_RELEASE",
    ]
    assert all(d.severity is Severity.WARNING for d in result.diagnostics)
    nad, doc, _ = result.diagnostics
    assert (nad.location.line, nad.location.column, nad.location.segment_index) == (10, 11, 9)
    assert (doc.location.line, doc.location.column, doc.location.segment_index) == (14, 13, 13)
    name = persons(result)[0].names[0]
    assert (name.family, name.given) == ("M?LLER", "J?RGEN")
    assert documents(result)[0].document_number == "C01X00?.T47"
    assert len(result.clean) == len(result.records)
    # Encoding releases the kept question marks, so the text comes back as it was, unwarned.
    encoded = ADAPTER.encode(list(result.records))
    assert b"M??LLER:J??RGEN" in encoded.payload
    again = ADAPTER.decode(encoded.payload)
    assert "EDIFACT_RELEASE_UNDEFINED" not in codes(again)
    assert persons(again)[0].names[0].family == "M?LLER"
    assert documents(again)[0].document_number == "C01X00?.T47"


def test_multi_part() -> None:
    result = _decode("multi-part.edi")
    assert result.diagnostics == ()
    (record,) = bodies(result, "passenger_manifest")
    body = record.passenger_manifest
    assert len(body.travellers) == 3
    assert (body.envelope.part_number, body.envelope.last_part) == (2, True)


def test_multi_part_incomplete() -> None:
    result = _decode("multi-part-incomplete.edi")
    assert codes(result) == [
        "PAXLST_PART_SEQUENCE",
        "PAXLST_PART_INCOMPLETE",
        "PAXLST_TRAVELLER_COUNT",
    ]
    assert manifest(result).declared_traveller_count == 5


def test_count_mismatch() -> None:
    result = _decode("count-mismatch.edi")
    assert codes(result) == [
        "EDIFACT_SEGMENT_COUNT",
        "EDIFACT_REFERENCE_MISMATCH",
        "EDIFACT_MESSAGE_COUNT",
        "EDIFACT_REFERENCE_MISMATCH",
        "PAXLST_TRAVELLER_COUNT",
    ]
    assert {d.severity for d in result.diagnostics} == {Severity.WARNING}
    assert [d.location.segment_index for d in result.diagnostics] == [13, 13, 14, 14, 12]
    assert manifest(result).carrier_code == "AB"


def test_unknown_segments() -> None:
    result = _decode("unknown-segments.edi")
    assert codes(result) == [
        "PAXLST_UNEXPECTED_SEGMENT",
        "PAXLST_UNKNOWN_SEGMENT",
        "PAXLST_UNKNOWN_SEGMENT",
        "PAXLST_CODE",
        "PAXLST_NOT_MAPPED",
        "PAXLST_NOT_MAPPED",
    ]
    assert not result.has_errors
    assert [p.names[0].family for p in persons(result)] == ["ECHO"]


def test_missing_unz_and_truncated() -> None:
    missing = _decode("missing-unz.edi")
    assert codes(missing) == ["EDIFACT_MISSING_SEGMENT"]
    assert not missing.has_errors
    truncated = _decode("truncated.edi")
    assert codes(truncated)[:2] == ["EDIFACT_TRUNCATED", "EDIFACT_MISSING_SEGMENT"]
    assert tainted_bodies(truncated) == ["passenger_manifest", "person"]
    assert documents(truncated) == []


def test_bad_dates() -> None:
    result = _decode("bad-dates.edi")
    assert codes(result) == ["PAXLST_DATE"] * 3
    india, juliet = persons(result)
    assert not india.HasField("birth_date")
    assert juliet.birth_date.year == 1900
    assert manifest(result).legs[0].scheduled_departure.date.year == 2025
    assert documents(result)[0].expiry_date.year == 2035
    assert tainted_bodies(result) == [
        "passenger_manifest",
        "person",
        "travel_document",
        "person",
        "travel_document",
    ]


def test_charsets() -> None:
    latin = _decode("unoc-latin1.edi")
    assert latin.diagnostics == ()
    assert [p.names[0].family for p in persons(latin)] == ["MÜLLER", "BJÖRK"]
    invalid = _decode("invalid-utf8.edi")
    assert codes(invalid) == ["EDIFACT_INVALID_ENCODING"]
    assert tainted_bodies(invalid) == ["person", "travel_document"]
    unoa = _decode("unoa-non-ascii.edi")
    assert codes(unoa) == ["EDIFACT_CHARACTER_SET"]
    assert unoa.diagnostics[0].severity is Severity.ERROR


def test_release_at_end_and_transport_header() -> None:
    assert _decode("release-at-end.edi").diagnostics[0].code == "EDIFACT_RELEASE_AT_END"
    header = _decode("transport-header.edi")
    assert codes(header) == ["EDIFACT_LEADING_DATA"]
    assert manifest(header).flight_number == "A92707"


def test_traveller_address() -> None:
    """IG 4.11 NAD Gr. 4 C059 to 3207 into ``Person.addresses``; NAD+MS's stays not mapped."""
    result = _decode("traveller-address.edi")
    assert codes(result) == ["PAXLST_COUNTRY", "PAXLST_NOT_MAPPED"]
    assert "NAD+MS address" in result.diagnostics[1].message
    assert not result.has_errors
    doe, roe, poe = (person.addresses[0] for person in persons(result))
    assert (list(doe.street_lines), doe.city, doe.country_subdivision, doe.postal_code) == (
        ["20 MAIN ST"],
        "ANYCITY",
        "VA",
        "10053",
    )
    assert doe.country.code == "USA"
    assert list(roe.street_lines) == ["FLAT 2", "10 HIGH ST'S LANE"]
    assert (roe.country.code, roe.country.raw, roe.postal_code) == ("GBR", "GB", "AB1 2CD")
    assert (poe.country_subdivision, poe.country.code, poe.country.raw) == (
        "WESTERN PROVINCE",
        "",
        "UK",
    )
    assert poe.country.system == common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED


def test_two_flights() -> None:
    """IG 4.8 / 4.9: a further TDT names the flight of its legs; LOC+130 in Gr. 3."""
    result = _decode("two-flights.edi")
    assert result.diagnostics == ()
    body = manifest(result)
    assert (body.flight_number, body.carrier_code) == ("AB321", "AB")
    assert body.final_destination.iata_code == "MIA"
    first, second = body.legs
    assert (first.flight_number, first.departure.iata_code, first.arrival.iata_code) == (
        "",
        "CDG",
        "JFK",
    )
    assert (second.flight_number, second.carrier_code) == ("XY4567", "XY")
    assert (second.departure.iata_code, second.arrival.iata_code) == ("JFK", "MIA")
    assert (second.scheduled_departure.hour, second.scheduled_arrival.hour) == (14, 17)
    assert body.travellers[0].final_destination.iata_code == "MIA"
