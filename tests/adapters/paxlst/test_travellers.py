"""Gr. 4, the travellers: NAD (IG 4.11), ATT (4.12), DTM (4.13), FTX (4.16), LOC (4.17),
NAT (4.19), RFF (4.20)."""

from __future__ import annotations

import pytest

from adapters.diagnostics import Severity
from liaison.v1 import common_pb2, manifest_pb2
from tests.adapters.paxlst.builders import (
    TRAVELLER,
    codes,
    decode,
    manifest,
    only,
    passenger_list,
    persons,
    tainted_bodies,
)


@pytest.mark.parametrize(
    ("qualifier", "role"),
    [
        ("FL", manifest_pb2.TRAVELLER_ROLE_PASSENGER),
        ("FM", manifest_pb2.TRAVELLER_ROLE_CREW),
        ("DDU", manifest_pb2.TRAVELLER_ROLE_INTRANSIT_PASSENGER),
        ("DDT", manifest_pb2.TRAVELLER_ROLE_INTRANSIT_CREW),
    ],
)
def test_party_function_code_gives_the_role(qualifier: str, role: int) -> None:
    (traveller,) = manifest(decode(passenger_list(f"NAD+{qualifier}+++DOE:JANE"))).travellers
    assert traveller.role == role


def test_unknown_party_qualifier_skips_its_whole_group() -> None:
    """The segments of a group that is not a traveller must not land on the previous one."""
    result = decode(passenger_list(*TRAVELLER, "NAD+ZZZ+++X:Y", "ATT+2++M", "DOC+P+1"))
    assert codes(result) == ["PAXLST_CODE"]
    (person,) = persons(result)
    assert person.sex == common_pb2.SEX_FEMALE
    assert len(result.records) == 2


def test_name_components() -> None:
    """C080 3036: surname, first given name, then further given names."""
    result = decode(passenger_list("NAD+FL+++DOE:JOHN:WAYNE", "NAD+FL+++ROE::ANN:MARIE"))
    first, second = (person.names[0] for person in persons(result))
    assert (first.family, first.given, first.middle) == ("DOE", "JOHN", "WAYNE")
    assert first.type == common_pb2.NAME_TYPE_PRIMARY
    assert (second.family, second.given, second.middle) == ("ROE", "", "ANN MARIE")


def test_unstructured_name_is_kept_whole() -> None:
    (person,) = persons(decode(passenger_list("NAD+FL++JOHN DOE")))
    assert person.names[0].full == "JOHN DOE"


def test_a_traveller_without_name_is_an_error_about_the_traveller() -> None:
    result = decode(passenger_list("NAD+FL", "ATT+2++M", "DOC+P+123"))
    diagnostic = only(result, "PAXLST_MISSING_DATA")
    assert diagnostic.severity is Severity.ERROR
    assert tainted_bodies(result) == ["person", "travel_document"]
    assert "NAD" in diagnostic.message


def test_address_into_the_person() -> None:
    """IG 4.11 / CBP example: NAD C059 street, 3164 city, C819 3229 subdivision, 3251 postal
    code, 3207 country (ISO alpha-3) become the traveller's ``Person.addresses``."""
    result = decode(passenger_list("NAD+FL+++DOE:JOHN:WAYNE+20 MAIN ST+ANYCITY+VA+10053+USA"))
    assert result.diagnostics == ()
    (person,) = persons(result)
    (address,) = person.addresses
    assert list(address.street_lines) == ["20 MAIN ST"]
    assert (address.city, address.country_subdivision, address.postal_code) == (
        "ANYCITY",
        "VA",
        "10053",
    )
    assert (address.country.code, address.country.system) == (
        "USA",
        common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3,
    )
    assert person.names[0].middle == "WAYNE"


def test_address_lines_subdivision_name_and_alpha2_country() -> None:
    """C059 holds up to four lines (empty ones skipped); C819 3228 names the subdivision when
    3229 gives no code; an ISO alpha-2 country maps as in NAT and LOC, keeping what was
    written."""
    nad = "NAD+FL+++ROE:JANE+FLAT 2::10 HIGH ST+TOWN+:::NORTH DISTRICT++GB"
    result = decode(passenger_list(nad))
    assert result.diagnostics == ()
    (address,) = persons(result)[0].addresses
    assert list(address.street_lines) == ["FLAT 2", "10 HIGH ST"]
    assert address.country_subdivision == "NORTH DISTRICT"
    assert (address.country.code, address.country.raw) == ("GBR", "GB")
    assert address.postal_code == ""


def test_address_country_that_is_not_iso_is_kept_raw() -> None:
    payload = passenger_list("NAD+FL+++DOE+1 QUAY ST+HARBOURTOWN+++UK", "ATT+2++F")
    result = decode(payload)
    diagnostic = only(result, "PAXLST_COUNTRY")
    assert diagnostic.severity is Severity.WARNING
    assert diagnostic.location.byte_offset == payload.index(b"NAD+FL")
    assert "UK" not in diagnostic.message
    (address,) = persons(result)[0].addresses
    assert (address.country.code, address.country.raw, address.country.system) == (
        "",
        "UK",
        common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED,
    )
    assert (address.city, list(address.street_lines)) == ("HARBOURTOWN", ["1 QUAY ST"])


def test_no_address_without_address_elements() -> None:
    """A NAD with name only, or with C819 code list qualifiers and nothing else, has none."""
    result = decode(passenger_list("NAD+FL+++DOE", "NAD+FL+++ROE+++:ISO"))
    assert result.diagnostics == ()
    assert [list(person.addresses) for person in persons(result)] == [[], []]


def test_subdivision_name_beside_its_code_is_not_mapped() -> None:
    result = decode(passenger_list("NAD+FL+++DOE++TOWN+ON:::ONTARIO"))
    diagnostic = only(result, "PAXLST_NOT_MAPPED")
    assert "C819 3228" in diagnostic.message
    assert "ONTARIO" not in diagnostic.message
    assert persons(result)[0].addresses[0].country_subdivision == "ON"


def test_reporting_party_address_is_still_not_mapped() -> None:
    header = ["BGM+745", "NAD+MS+++DESK+1 AIRPORT RD+ANYCITY+VA+10053+USA", "TDT+20+AB1"]
    result = decode(passenger_list("NAD+FL+++DOE", header=header))
    diagnostic = only(result, "PAXLST_NOT_MAPPED")
    assert "NAD+MS address" in diagnostic.message
    assert persons(result)[0].addresses == []


@pytest.mark.parametrize(
    ("code", "sex"),
    [
        ("M", common_pb2.SEX_MALE),
        ("F", common_pb2.SEX_FEMALE),
        ("X", common_pb2.SEX_X),
        ("U", common_pb2.SEX_UNSPECIFIED),
    ],
)
def test_att_gender(code: str, sex: int) -> None:
    (person,) = persons(decode(passenger_list("NAD+FL+++DOE", f"ATT+2++{code}")))
    assert person.sex == sex


def test_att_problems() -> None:
    result = decode(passenger_list("NAD+FL+++DOE", "ATT+2++Q", "ATT+2++M", "ATT+2++F", "ATT+7++X"))
    assert codes(result) == ["PAXLST_CODE", "PAXLST_DUPLICATE", "PAXLST_NOT_MAPPED"]
    assert persons(result)[0].sex == common_pb2.SEX_MALE


def test_date_of_birth_is_in_the_past_of_the_interchange_date() -> None:
    """UNB date 27 November 2025: 251126 is a baby's birth day, 251128 a centenarian's."""
    result = decode(passenger_list("NAD+FL+++A", "DTM+329:251126", "NAD+FL+++B", "DTM+329:251128"))
    baby, elder = (person.birth_date for person in persons(result))
    assert (baby.year, baby.month, baby.day) == (2025, 11, 26)
    assert elder.year == 1925


def test_bad_date_of_birth_is_an_error_about_the_traveller() -> None:
    payload = passenger_list("NAD+FL+++DOE", "DTM+329:850231", "DOC+P+1", "NAD+FL+++ROE")
    result = decode(payload)
    diagnostic = only(result, "PAXLST_DATE")
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.location.byte_offset == payload.index(b"DTM+329")
    assert "850231" not in diagnostic.message
    assert tainted_bodies(result) == ["person", "travel_document"]
    assert not persons(result)[0].HasField("birth_date")


def test_traveller_locations() -> None:
    result = decode(
        passenger_list(
            "NAD+FL+++DOE",
            "LOC+178+YVR",
            "LOC+179+JFK",
            "LOC+130+ATL",
            "LOC+174+CAN",
            "LOC+180+GBR:::LONDON",
            "LOC+22+JFK",
        )
    )
    (traveller,) = manifest(result).travellers
    assert traveller.embarkation.iata_code == "YVR"
    assert traveller.debarkation.iata_code == "JFK"
    assert traveller.final_destination.iata_code == "ATL"
    (person,) = persons(result)
    assert person.residence_country.code == "CAN"
    assert (person.birth_place.country.code, person.birth_place.name) == ("GBR", "LONDON")
    assert codes(result) == ["PAXLST_NOT_MAPPED"]


def test_place_of_birth_by_name_only_with_related_locations() -> None:
    (person,) = persons(decode(passenger_list("NAD+FL+++DOE", "LOC+180+:::AMBER HILL+:::KENT")))
    assert person.birth_place.name == "AMBER HILL, KENT"
    assert not person.birth_place.HasField("country")


def test_traveller_location_problems() -> None:
    result = decode(
        passenger_list("NAD+FL+++DOE", "LOC+178+YVR", "LOC+178+YYZ", "LOC+174", "LOC+999+X")
    )
    assert codes(result) == ["PAXLST_DUPLICATE", "PAXLST_MISSING_DATA", "PAXLST_CODE"]


@pytest.mark.parametrize(
    ("written", "code", "system", "raw"),
    [
        ("CAN", "CAN", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, ""),
        ("D", "D", common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, ""),
        ("XXA", "XXA", common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, ""),
        ("DE", "DEU", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "DE"),
    ],
)
def test_nationality_codes(written: str, code: str, system: int, raw: str) -> None:
    result = decode(passenger_list("NAD+FL+++DOE", f"NAT+2+{written}"))
    (nationality,) = persons(result)[0].nationalities
    assert (nationality.code, nationality.system, nationality.raw) == (code, system, raw)
    assert result.diagnostics == ()


def test_unknown_nationality_is_kept_raw_with_a_warning() -> None:
    result = decode(passenger_list("NAD+FL+++DOE", "NAT+2+914", "NAT+2"))
    (nationality,) = persons(result)[0].nationalities
    assert (nationality.code, nationality.raw) == ("", "914")
    assert nationality.system == common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED
    assert codes(result) == ["PAXLST_COUNTRY", "PAXLST_MISSING_DATA"]
    assert only(result, "PAXLST_COUNTRY").severity is Severity.WARNING


def test_references_pnr_locator_first_avf() -> None:
    result = decode(
        passenger_list(
            "NAD+FL+++DOE",
            "RFF+AVF:ABC123",
            "RFF+ABO:BA1321654987",
            "RFF+SEA:23C",
            "RFF+AVF:DEF456",
            "RFF+CR",
        )
    )
    (traveller,) = manifest(result).travellers
    assert traveller.pnr_locator == "ABC123"
    assert list(traveller.references) == ["ABO:BA1321654987", "SEA:23C", "AVF:DEF456"]
    assert codes(result) == ["PAXLST_MISSING_DATA"]


def test_free_text_notes() -> None:
    result = decode(passenger_list("NAD+FL+++DOE", "FTX+BAG+++UA123456:3", "FTX+AAI+1+X+TEXT"))
    (traveller,) = manifest(result).travellers
    assert list(traveller.notes) == ["BAG:UA123456:3", "AAI:TEXT"]
    assert codes(result) == ["PAXLST_NOT_MAPPED"]


def test_traveller_segments_before_any_traveller_are_unexpected() -> None:
    header = ["BGM+745", "TDT+20+AB1", "ATT+2++M", "NAT+2+FRA", "DOC+P+1", "RFF+AVF:X"]
    result = decode(passenger_list(header=header))
    assert codes(result) == ["PAXLST_UNEXPECTED_SEGMENT"] * 4
    assert {d.severity for d in result.diagnostics} == {Severity.WARNING}


def test_traveller_segments_the_contract_cannot_hold_are_counted_once() -> None:
    result = decode(
        passenger_list("NAD+FL+++DOE", "MEA+CT++:2", "GEI+4+173", "COM+1:TE", "EMP+1+CR1")
    )
    assert codes(result) == ["PAXLST_NOT_MAPPED"] * 4
    assert {d.severity for d in result.diagnostics} == {Severity.INFO}
