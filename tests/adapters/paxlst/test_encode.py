"""Encoding: a valid D.05B interchange from manifest, person and document records.

ISO 9735: ``UNA:+.? '``, released service characters, UNT counting its message's segments
(UNH and UNT included), UNZ counting the messages (or groups); the segments and their order
follow the guide (sections 3 and 4).
"""

from __future__ import annotations

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.diagnostics import Severity
from adapters.paxlst.encode import encode_records
from adapters.paxlst.lexer import Segment, lex
from adapters.paxlst.syntax import DEFAULT_CHARACTERS
from adapters.paxlst.writer import MessageWriter, escape, segment_text
from liaison.v1 import common_pb2, manifest_pb2, record_pb2, travel_document_pb2
from tests.adapters.paxlst.builders import ADAPTER, decode, manifest, persons

NOW = datetime.datetime(2025, 11, 27, 8, 30, tzinfo=datetime.UTC)


def _records(travellers: int = 1, *, with_document: bool = True) -> list[record_pb2.Record]:
    manifest_record = record_pb2.Record(record_id="m")
    body = manifest_record.passenger_manifest
    body.manifest_type = manifest_pb2.MANIFEST_TYPE_PASSENGER
    body.flight_number = "AB123"
    body.carrier_code = "AB"
    body.declared_traveller_count = travellers
    leg = body.legs.add()
    leg.departure.iata_code = "CDG"
    leg.arrival.iata_code = "YUL"
    leg.scheduled_departure.date.year = 2025
    leg.scheduled_departure.date.month = 11
    leg.scheduled_departure.date.day = 27
    leg.scheduled_departure.has_time = True
    leg.scheduled_departure.hour = 10
    envelope = body.envelope
    envelope.sender = "AB:ZZ"
    envelope.recipient = "CBSA"
    envelope.prepared_at = "251127:0900"
    envelope.interchange_reference = "1001"
    envelope.message_reference = "PAX001"
    records = [manifest_record]
    for index in range(travellers):
        person_record = record_pb2.Record(record_id=f"p{index}")
        person_record.person.names.add(family="O'BRIEN+", given="JO:HN?", middle="Q")
        person_record.person.birth_date.year = 1964
        person_record.person.birth_date.month = 2
        person_record.person.birth_date.day = 17
        person_record.person.sex = common_pb2.SEX_MALE
        entry = body.travellers.add(
            role=manifest_pb2.TRAVELLER_ROLE_PASSENGER, person_record_id=person_record.record_id
        )
        records.append(person_record)
        if with_document:
            document_record = record_pb2.Record(record_id=f"d{index}")
            document = document_record.travel_document
            document.document_type = travel_document_pb2.DOCUMENT_TYPE_PASSPORT
            document.document_number = f"P{index}"
            document.issuing_state.code = "IRL"
            entry.document_record_ids.append(document_record.record_id)
            records.append(document_record)
    return records


def _text(records: list[record_pb2.Record]) -> str:
    result = encode_records(records, now=lambda: NOW)
    assert not result.has_errors, [str(d) for d in result.diagnostics]
    return result.payload.decode("latin-1")


def test_escape_releases_the_service_characters() -> None:
    assert escape("O'BRIEN+JO:HN?") == "O?'BRIEN?+JO?:HN??"
    assert escape("APIS*ABE") == "APIS*ABE"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"]).filter(lambda c: c != "\n")))
def test_escape_releases_exactly_the_service_characters_and_round_trips(value: str) -> None:
    """Whatever a value holds, encode then lex gives it back, with no release character the
    decoder would warn about: only ``?``, ``'``, ``+`` and ``:`` are released (``UNA:+.? '``:
    the decimal mark and the unused repetition position are data)."""
    text = segment_text("FTX", ["AAA", "", "", (value, value)])
    [segment] = list(lex(text, 0, DEFAULT_CHARACTERS))
    assert isinstance(segment, Segment)
    assert segment.components(3) == [value, value] or value == ""
    assert segment.undefined_releases == ()
    released, position = set(), 0
    while (position := text.find("?", position)) >= 0:
        released.add(text[position + 1])
        position += 2
    assert released <= {"?", "'", "+", ":"}


def test_trailing_empty_components_and_elements_are_omitted() -> None:
    assert segment_text("NAD", ["FL", "", "", ("DOE", "", ""), ""]) == "NAD+FL+++DOE'"
    assert segment_text("TDT", ["20", "AB1", "", "", ()]) == "TDT+20+AB1'"


def test_unt_counts_unh_and_unt() -> None:
    writer = MessageWriter()
    writer.add("UNH", "1", ("PAXLST", "D", "05B", "UN", "IATA"))
    writer.add("BGM", "745")
    writer.close("1")
    assert writer.segments[-1] == "UNT+3+1'"


def test_a_passenger_list() -> None:
    text = _text(_records())
    assert text == (
        "UNA:+.? '"
        "UNB+UNOA:4+AB:ZZ+CBSA+251127:0900+1001'"
        "UNH+PAX001+PAXLST:D:05B:UN:IATA'"
        "BGM+745'"
        "TDT+20+AB123+++AB'"
        "LOC+125+CDG'"
        "DTM+189:2511271000:201'"
        "LOC+87+YUL'"
        "NAD+FL+++O?'BRIEN?+:JO?:HN??:Q'"
        "ATT+2++M'"
        "DTM+329:640217'"
        "DOC+P+P0'"
        "LOC+91+IRL'"
        "CNT+42:1'"
        "UNT+13+PAX001'"
        "UNZ+1+1001'"
    )
    (person,) = persons(decode(text.encode()))
    assert (person.names[0].family, person.names[0].given) == ("O'BRIEN+", "JO:HN?")


def test_reporting_party_group_and_directory_version() -> None:
    records = _records()
    body = records[0].passenger_manifest
    body.reporting_party.name = "API DESK"
    body.reporting_party.email = "API@EXAMPLE.ORG"
    body.envelope.group_sender = "AB AIRLINES"
    body.envelope.group_recipient = "CBSA:ZZ"
    body.envelope.message_identifier = "PAXLST:D:02B:UN:IATA"
    text = _text(records)
    assert "UNG+PAXLST+AB AIRLINES+CBSA:ZZ+251127:0900+1001+UN+D:02B'" in text
    assert "NAD+MS+++API DESK'COM+API@EXAMPLE.ORG:EM'" in text
    assert text.endswith("UNE+1+1001'UNZ+1+1001'")
    assert "UNH+PAX001+PAXLST:D:02B:UN:IATA'" in text


def test_four_digit_years_when_two_would_be_read_otherwise() -> None:
    records = _records()
    records[1].person.birth_date.year = 1900
    assert "DTM+329:19000217:102'" in _text(records)


def test_multi_part_split() -> None:
    """A manifest read from three parts is written as three parts: S010 01:C, 02, 03:F."""
    records = _records(travellers=5)
    envelope = records[0].passenger_manifest.envelope
    envelope.common_access_reference = "AB123/251127"
    envelope.part_number = 3
    envelope.last_part = True
    text = _text(records)
    assert "UNH+PAX001+PAXLST:D:05B:UN:IATA+AB123/251127+01:C'" in text
    assert "UNH+PAX00102+PAXLST:D:05B:UN:IATA+AB123/251127+02'" in text
    assert "UNH+PAX00103+PAXLST:D:05B:UN:IATA+AB123/251127+03:F'" in text
    assert [text.count(f"CNT+42:{n}'") for n in (2, 1)] == [2, 1]
    assert text.endswith("UNZ+3+1001'")
    result = decode(text.encode())
    assert result.diagnostics == ()
    assert len(manifest(result).travellers) == 5


def test_declared_count_that_differs_goes_in_the_last_part() -> None:
    records = _records(travellers=2)
    body = records[0].passenger_manifest
    body.declared_traveller_count = 7
    body.envelope.common_access_reference = "X"
    body.envelope.part_number = 2
    text = _text(records)
    assert text.count("CNT+") == 1
    assert "CNT+42:7'" in text


def test_crew_list_cnt_and_roles() -> None:
    records = _records()
    body = records[0].passenger_manifest
    body.manifest_type = manifest_pb2.MANIFEST_TYPE_CREW
    body.travellers[0].role = manifest_pb2.TRAVELLER_ROLE_INTRANSIT_CREW
    text = _text(records)
    assert "BGM+250'" in text
    assert "NAD+DDT+++" in text
    assert "CNT+41:1'" in text


def test_what_paxlst_cannot_carry_is_reported_once_per_kind() -> None:
    records = _records(travellers=2)
    for record in records[1:]:
        if record.HasField("person"):
            record.person.names.add(type=common_pb2.NAME_TYPE_ALIAS, family="ALIAS")
            record.person.physical_description.height_m = 1.8
            record.person.names[0].qualification = "Good quality a.k.a."
        else:
            record.travel_document.mrz.lines.append("P<IRL...")
    records[1].person.birth_date.day = 0
    result = encode_records(records, now=lambda: NOW)
    lost = [d for d in result.diagnostics if d.code == "PAXLST_NOT_ENCODED"]
    assert {d.severity for d in lost} == {Severity.WARNING}
    messages = " | ".join(d.message for d in lost)
    assert "aliases" in messages
    assert "(2 times)" in messages
    assert "machine readable zones" in messages
    assert "name qualifications" in messages
    assert "partial dates" in messages
    assert all(d.location.json_pointer.startswith("/") for d in lost)
    assert not result.has_errors


def test_missing_records_are_errors_and_unreferenced_ones_warnings() -> None:
    records = _records(travellers=2)
    stray = record_pb2.Record(record_id="stray")
    stray.person.names.add(family="STRAY")
    kept = [r for r in records if r.record_id not in ("p1", "d0")] + [stray]
    result = encode_records(kept, now=lambda: NOW)
    assert [(d.code, d.severity) for d in result.diagnostics] == [
        ("PAXLST_ENCODE_MISSING_RECORD", Severity.ERROR),
        ("PAXLST_ENCODE_MISSING_RECORD", Severity.ERROR),
        ("PAXLST_ENCODE_UNREFERENCED", Severity.WARNING),
    ]
    pointers = [d.location.json_pointer for d in result.diagnostics]
    assert pointers == [
        "/0/passengerManifest/travellers/0/documentRecordIds/0",
        "/0/passengerManifest/travellers/1/personRecordId",
        f"/{len(kept) - 1}",
    ]
    assert len(manifest(decode(result.payload)).travellers) == 1


def test_no_manifest_is_an_error() -> None:
    result = ADAPTER.encode(_records()[1:])
    assert [d.code for d in result.diagnostics] == ["PAXLST_ENCODE_NO_MANIFEST"]
    assert result.payload == b""


def test_text_beyond_the_declared_repertoire_declares_another() -> None:
    records = _records()
    records[1].person.names[0].family = "MÜLLER"
    records[0].passenger_manifest.envelope.syntax_identifier = "UNOA:4"
    result = encode_records(records, now=lambda: NOW)
    assert [d.code for d in result.diagnostics] == ["PAXLST_ENCODE_CHARSET"]
    assert result.payload.startswith(b"UNA:+.? 'UNB+UNOC:4+")
    records[1].person.names[0].family = "ΜΥΛΛΕΡ"
    assert encode_records(records, now=lambda: NOW).payload.startswith(b"UNA:+.? 'UNB+UNOY:4+")
    assert persons(decode(encode_records(records).payload))[0].names[0].family == "ΜΥΛΛΕΡ"


def test_defaults_for_a_manifest_built_without_an_envelope() -> None:
    records = _records()
    body = records[0].passenger_manifest
    body.ClearField("envelope")
    body.manifest_type = manifest_pb2.MANIFEST_TYPE_UNSPECIFIED
    body.travellers[0].role = manifest_pb2.TRAVELLER_ROLE_UNSPECIFIED
    result = encode_records(records, now=lambda: NOW)
    text = result.payload.decode()
    assert text.startswith("UNA:+.? 'UNB+UNOA:4+AB+UNKNOWN+251127:0830+1'UNH+1+PAXLST:D:05B")
    assert [d.code for d in result.diagnostics] == [
        "PAXLST_ENCODE_VALUE",
        "PAXLST_ENCODE_VALUE",
        "PAXLST_ENCODE_VALUE",
    ]
    assert decode(result.payload).has_errors is False


def test_a_traveller_without_name_cannot_be_written() -> None:
    records = _records()
    records[1].person.ClearField("names")
    result = encode_records(records, now=lambda: NOW)
    assert [d.code for d in result.diagnostics] == ["PAXLST_ENCODE_VALUE"]
    assert result.has_errors
    assert manifest(decode(result.payload)).travellers == []


def test_country_codes_are_written_in_a_form_paxlst_reads_back() -> None:
    """ISO alpha-2 kept as the source wrote it; an MRZ's ``D<<`` written as its code ``D``."""
    records = _records()
    person = records[1].person
    person.nationalities.add(code="DEU", raw="DE")
    person.nationalities.add(code="D", raw="D<<")
    person.nationalities.add(raw="914", system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED)
    text = _text(records)
    assert "NAT+2+DE'NAT+2+D'NAT+2+914'" in text


def test_an_impossible_number_of_parts_is_written_as_one_message() -> None:
    records = _records()
    records[0].passenger_manifest.envelope.part_number = 4_000_000_000
    result = encode_records(records, now=lambda: NOW)
    assert [d.code for d in result.diagnostics] == ["PAXLST_ENCODE_VALUE"]
    assert result.payload.count(b"UNH+") == 1


def _address(records: list[record_pb2.Record]) -> common_pb2.Address:
    return records[1].person.addresses.add(
        street_lines=["FLAT 2", "10 HIGH ST'S LANE"],
        city="SAMPLE+TOWN",
        country_subdivision="NY",
        postal_code="10001",
        country=common_pb2.CountryCode(code="USA"),
    )


def test_traveller_address_on_the_nad() -> None:
    """IG 4.11: NAD C059 (street lines as components), 3164, C819 3229, 3251, 3207 after the
    name, service characters released."""
    records = _records()
    _address(records)
    text = _text(records)
    assert (
        "NAD+FL+++O?'BRIEN?+:JO?:HN??:Q+FLAT 2:10 HIGH ST?'S LANE+SAMPLE?+TOWN+NY+10001+USA'"
        in text
    )
    (address,) = persons(decode(text.encode()))[0].addresses
    assert list(address.street_lines) == ["FLAT 2", "10 HIGH ST'S LANE"]
    assert (address.city, address.country.code) == ("SAMPLE+TOWN", "USA")


def test_address_subdivision_code_or_name_and_raw_country() -> None:
    """C819 3229 is an..9: a longer subdivision is written as its name (3228); a country that
    is not ISO is written as it came."""
    records = _records()
    address = records[1].person.addresses.add(
        city="TOWN",
        country_subdivision="NORTHERN DISTRICT",
        country=common_pb2.CountryCode(raw="UK", system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED),
    )
    text = _text(records)
    assert ":Q++TOWN+:::NORTHERN DISTRICT++UK'" in text
    (decoded,) = persons(decode(text.encode()))[0].addresses
    assert decoded == address


def test_what_an_address_cannot_carry_is_reported() -> None:
    records = _records()
    _address(records).street_lines.extend(["A", "B", "C"])
    records[1].person.addresses.add(city="SECOND")
    result = encode_records(records, now=lambda: NOW)
    lost = {
        d.location.json_pointer: d.message
        for d in result.diagnostics
        if d.code == "PAXLST_NOT_ENCODED"
    }
    assert set(lost) == {"/1/person/addresses/1", "/1/person/addresses/0/streetLines"}
    assert not result.has_errors
    (address,) = persons(decode(result.payload))[0].addresses
    assert list(address.street_lines) == ["FLAT 2", "10 HIGH ST'S LANE", "A", "B"]


def _two_flights() -> list[record_pb2.Record]:
    """AB123 CDG-YUL, then XY45 YUL-ORD and YUL-ORD again, then AB123 ORD-CDG."""
    records = _records(with_document=False)
    body = records[0].passenger_manifest
    for departure, arrival, flight in (("YUL", "ORD", "XY45"), ("ORD", "YUL", "XY45")):
        body.legs.add(flight_number=flight, carrier_code="XY").departure.iata_code = departure
        body.legs[-1].arrival.iata_code = arrival
    body.legs.add(flight_number="AB123", carrier_code="AB").departure.iata_code = "ORD"
    body.final_destination.iata_code = "ORD"
    return records


def test_legs_of_another_flight_get_a_further_tdt_group() -> None:
    """IG 4.8: the legs of another flight follow a TDT naming it; a leg of the manifest's
    flight after them follows a TDT naming the manifest's flight again. LOC+130 (4.9) closes
    the first flight group."""
    text = _text(_two_flights())
    header = text[text.index("TDT+") : text.index("NAD+FL")]
    assert header == (
        "TDT+20+AB123+++AB'"
        "LOC+125+CDG'"
        "DTM+189:2511271000:201'"
        "LOC+87+YUL'"
        "LOC+130+ORD'"
        "TDT+20+XY45+++XY'"
        "LOC+125+YUL'"
        "LOC+87+ORD'"
        "LOC+125+ORD'"
        "LOC+87+YUL'"
        "TDT+20+AB123+++AB'"
        "LOC+125+ORD'"
    )
    result = decode(text.encode())
    assert result.diagnostics == ()
    body = manifest(result)
    assert body.final_destination.iata_code == "ORD"
    assert [(leg.flight_number, leg.carrier_code) for leg in body.legs] == [
        ("", ""),
        ("XY45", "XY"),
        ("XY45", "XY"),
        ("", ""),
    ]


def test_a_single_flight_is_written_in_one_tdt_group() -> None:
    records = _records()
    body = records[0].passenger_manifest
    body.legs.add().departure.iata_code = "YUL"
    text = _text(records)
    assert text.count("TDT+") == 1
    assert "LOC+130" not in text
    assert "LOC+87+YUL'LOC+125+YUL'NAD+FL" in text


def test_a_leg_carrier_without_a_flight_of_its_own_is_reported() -> None:
    records = _records()
    records[0].passenger_manifest.legs[0].carrier_code = "ZZ"
    result = encode_records(records, now=lambda: NOW)
    (lost,) = [d for d in result.diagnostics if d.code == "PAXLST_NOT_ENCODED"]
    assert lost.location.json_pointer == "/0/passengerManifest/legs/0/carrierCode"
    assert result.payload.count(b"TDT+") == 1
