"""The message header and the flight: BGM (IG 4.5), Gr. 1 NAD+MS and COM (4.6, 4.7), Gr. 2 TDT
(4.8) and Gr. 3 LOC + DTM (4.9, 4.10)."""

from __future__ import annotations

from adapters.diagnostics import Severity
from liaison.v1 import manifest_pb2
from tests.adapters.paxlst.builders import (
    FLIGHT,
    TRAVELLER,
    codes,
    decode,
    interchange,
    manifest,
    message,
    only,
    passenger_list,
    tainted_bodies,
)

ITINERARY = FLIGHT[2:]  # TDT and its LOC/DTM


def test_bgm_745_is_a_passenger_list_and_250_a_crew_list() -> None:
    passengers = decode(passenger_list(*TRAVELLER))
    assert manifest(passengers).manifest_type == manifest_pb2.MANIFEST_TYPE_PASSENGER
    crew = decode(passenger_list("NAD+FM+++DOE:JANE", header=["BGM+250", *ITINERARY]))
    assert manifest(crew).manifest_type == manifest_pb2.MANIFEST_TYPE_CREW
    assert "PAXLST_CODE" in codes(crew)  # CNT+42 (passengers) in a crew list
    assert passengers.diagnostics == ()


def test_bgm_document_identifier_is_kept() -> None:
    result = decode(passenger_list(header=["BGM+745+CP", *ITINERARY]))
    assert manifest(result).envelope.document_identifier == "CP"


def test_other_bgm_codes_are_an_error_about_the_manifest() -> None:
    """BGM 266 (flight status update) or 655 (gate pass) are not passenger or crew lists."""
    result = decode(passenger_list(*TRAVELLER, header=["BGM+266", *ITINERARY]))
    diagnostic = only(result, "PAXLST_CODE")
    assert diagnostic.severity is Severity.ERROR
    assert tainted_bodies(result) == ["passenger_manifest"]
    assert manifest(result).manifest_type == manifest_pb2.MANIFEST_TYPE_UNSPECIFIED


def test_missing_bgm_and_tdt_are_errors() -> None:
    payload = interchange(message(["NAD+MS+++DESK", *TRAVELLER, "CNT+42:1"]))
    result = decode(payload)
    missing = [d for d in result.diagnostics if d.code == "PAXLST_MISSING_SEGMENT"]
    assert [d.severity for d in missing] == [Severity.ERROR, Severity.ERROR]
    assert "BGM" in missing[0].message
    assert "TDT" in missing[1].message
    assert tainted_bodies(result) == ["passenger_manifest"]


def test_reporting_party_name_and_contacts() -> None:
    header = [
        "BGM+745",
        "NAD+MS+++WILLIAMS:JANE",
        "COM+703 555 1212:TE+703 555 4545:FX+API?+DESK@EXAMPLE.ORG:EM",
        *ITINERARY,
    ]
    party = manifest(decode(passenger_list(header=header))).reporting_party
    assert party.name == "WILLIAMS JANE"
    assert (party.telephone, party.fax, party.email) == (
        "703 555 1212",
        "703 555 4545",
        "API+DESK@EXAMPLE.ORG",
    )


def test_other_communication_channels_are_not_mapped() -> None:
    header = ["BGM+745", "NAD+MS+++DESK", "COM+1:TE+2:TE+X:AL", *ITINERARY]
    result = decode(passenger_list(header=header))
    assert manifest(result).reporting_party.telephone == "1"
    diagnostic = only(result, "PAXLST_NOT_MAPPED")
    assert diagnostic.severity is Severity.INFO
    assert "2 times" in diagnostic.message


def test_com_without_reporting_party_is_unexpected() -> None:
    result = decode(passenger_list(header=["BGM+745", "COM+1:TE", *ITINERARY]))
    assert codes(result) == ["PAXLST_UNEXPECTED_SEGMENT"]


def test_tdt_flight_and_carrier() -> None:
    result = manifest(decode(passenger_list()))
    assert (result.flight_number, result.carrier_code) == ("AB123", "AB")


def test_carrier_from_the_flight_number_when_tdt_has_none() -> None:
    header = ["BGM+745", "TDT+20+9W1234", *FLIGHT[3:]]
    assert manifest(decode(passenger_list(header=header))).carrier_code == "9W"


def test_tdt_without_flight_number_is_an_error() -> None:
    result = decode(passenger_list(header=["BGM+745", "TDT+20", *FLIGHT[3:]]))
    assert only(result, "PAXLST_MISSING_DATA").severity is Severity.ERROR
    assert tainted_bodies(result) == ["passenger_manifest"]


def test_tdt_stage_other_than_main_carriage_is_reported() -> None:
    result = decode(passenger_list(header=["BGM+745", "TDT+34+AB1", "TDT+20+AB2", *FLIGHT[3:]]))
    assert codes(result) == ["PAXLST_CODE"]
    assert manifest(result).flight_number == "AB2"


def test_one_leg_with_local_times() -> None:
    (leg,) = manifest(decode(passenger_list())).legs
    assert (leg.departure.iata_code, leg.arrival.iata_code) == ("CDG", "YUL")
    departure = leg.scheduled_departure
    assert (departure.date.year, departure.date.month, departure.date.day) == (2025, 11, 27)
    assert (departure.has_time, departure.hour, departure.minute) == (True, 10, 0)
    assert leg.scheduled_arrival.hour == 12
    assert leg.scheduled_arrival.minute == 30


def _multi_leg(second_flight: str) -> list[str]:
    """The guide's multi-leg example, its second TDT group naming ``second_flight``."""
    return [
        "BGM+745",
        "TDT+20+UA123+++UA",
        "LOC+125+YVR",
        "DTM+189:0704291230:201",
        "LOC+92+SEA",
        "LOC+87+JFK",
        "DTM+232:0704291600:201",
        f"TDT+20+{second_flight}",
        "LOC+92+JFK",
        "DTM+189:0704291730:201",
        "LOC+92+ATL",
        "DTM+232:0704291945:201",
    ]


def test_loc_92_with_times_are_a_further_leg_and_without_a_routing_point() -> None:
    """The guide's multi-leg example: after 125/87, LOC+92 with DTM+189 departs and LOC+92
    with DTM+232 arrives; a LOC+92 without DTM is a routing point of its leg. With one flight
    (the second TDT repeats it), the legs carry no flight of their own."""
    result = decode(passenger_list(header=_multi_leg("UA123+++UA")))
    assert result.diagnostics == ()
    first, second = manifest(result).legs
    assert [p.iata_code for p in first.routing] == ["SEA"]
    assert (first.departure.iata_code, first.arrival.iata_code) == ("YVR", "JFK")
    assert (second.departure.iata_code, second.arrival.iata_code) == ("JFK", "ATL")
    assert second.scheduled_departure.hour == 17
    assert second.scheduled_arrival.minute == 45
    for leg in (first, second):
        assert (leg.flight_number, leg.carrier_code) == ("", "")
    assert not manifest(result).HasField("final_destination")


def test_a_further_tdt_naming_another_flight_gives_it_to_its_legs() -> None:
    """IG 4.8: a further TDT group (8028, C040 3127) names the flight of the legs its LOC/DTM
    build; the manifest keeps the first flight."""
    result = decode(passenger_list(header=_multi_leg("XY124+++ZZ")))
    assert result.diagnostics == ()
    body = manifest(result)
    assert (body.flight_number, body.carrier_code) == ("UA123", "UA")
    first, second = body.legs
    assert (first.flight_number, first.carrier_code) == ("", "")
    assert (second.flight_number, second.carrier_code) == ("XY124", "ZZ")
    assert (second.departure.iata_code, second.arrival.iata_code) == ("JFK", "ATL")


def test_the_carrier_of_a_further_flight_comes_from_the_flight_without_c040() -> None:
    (_, second) = manifest(decode(passenger_list(header=_multi_leg("9W1234")))).legs
    assert (second.flight_number, second.carrier_code) == ("9W1234", "9W")


def test_a_tdt_back_to_the_manifest_flight_ends_the_further_flight() -> None:
    header = [
        *_multi_leg("XY124"),
        "LOC+92+MIA",
        "DTM+189:0704292030:201",
        "TDT+20+UA123+++UA",
        "LOC+125+ATL",
        "LOC+87+YVR",
    ]
    legs = manifest(decode(passenger_list(header=header))).legs
    assert [(leg.flight_number, leg.carrier_code) for leg in legs] == [
        ("", ""),
        ("XY124", "XY"),
        ("XY124", "XY"),
        ("", ""),
    ]
    assert [leg.departure.iata_code for leg in legs] == ["YVR", "JFK", "MIA", "ATL"]


def test_a_further_tdt_without_flight_number_is_missing_data() -> None:
    header = [*FLIGHT, "TDT+20", "LOC+125+YUL", "LOC+87+CDG"]
    result = decode(passenger_list(header=header))
    finding = only(result, "PAXLST_MISSING_DATA")
    assert finding.severity is Severity.WARNING
    assert "8028" in finding.message
    assert [leg.flight_number for leg in manifest(result).legs] == ["", ""]


def test_flight_final_destination_loc_130() -> None:
    """LOC+130 in Gr. 3: the flight's final destination, a place as LOC+125/87 give it."""
    header = [*ITINERARY[:-2], "LOC+130+MIA", *ITINERARY[-2:]]
    result = decode(passenger_list(*TRAVELLER, header=["BGM+745", *header]))
    assert result.diagnostics == ()
    body = manifest(result)
    assert body.final_destination.iata_code == "MIA"
    (leg,) = body.legs
    assert (leg.departure.iata_code, leg.arrival.iata_code) == ("CDG", "YUL")
    assert not body.travellers[0].HasField("final_destination")
    named = manifest(decode(passenger_list(header=[*FLIGHT, "LOC+130+USMIA:::MIAMI"])))
    assert (named.final_destination.unlocode, named.final_destination.name) == (
        "USMIA",
        "MIAMI",
    )


def test_flight_final_destination_twice_or_empty() -> None:
    twice = decode(passenger_list(header=[*FLIGHT, "LOC+130+MIA", "LOC+130+ATL"]))
    assert codes(twice) == ["PAXLST_DUPLICATE"]
    assert manifest(twice).final_destination.iata_code == "MIA"
    empty = decode(passenger_list(header=[*FLIGHT, "LOC+130"]))
    assert codes(empty) == ["PAXLST_MISSING_DATA"]
    assert not manifest(empty).HasField("final_destination")


def test_location_codes_and_names() -> None:
    header = ["BGM+745", "TDT+20+AB1", "LOC+125+FRLYS", "LOC+92+X1", "LOC+87+:::SOME FIELD"]
    leg = manifest(decode(passenger_list(header=header))).legs[0]
    assert leg.departure.unlocode == "FRLYS"
    assert leg.arrival.name == "SOME FIELD"
    assert leg.routing[0].other_code == "X1"


def test_unknown_itinerary_location_and_date_qualifiers() -> None:
    header = ["BGM+745", "TDT+20+AB1", "LOC+125+CDG", "LOC+5+XXX", "DTM+554:2511270900:201"]
    result = decode(passenger_list(header=header))
    assert codes(result) == ["PAXLST_CODE", "PAXLST_CODE"]


def test_bad_flight_date_is_an_error_about_the_manifest() -> None:
    header = ["BGM+745", "TDT+20+AB1", "LOC+125+CDG", "DTM+189:2513270900:201"]
    payload = passenger_list(*TRAVELLER, header=header)
    result = decode(payload)
    diagnostic = only(result, "PAXLST_DATE")
    assert diagnostic.location.segment_index == 5  # UNA is not a segment: UNB 0, UNH 1, ...
    assert diagnostic.location.byte_offset == payload.index(b"DTM+189")
    assert tainted_bodies(result) == ["passenger_manifest"]
    assert not manifest(result).legs[0].HasField("scheduled_departure")


def test_itinerary_dtm_without_a_location_is_unexpected() -> None:
    header = ["BGM+745", "TDT+20+AB1", "DTM+189:2511270900:201"]
    assert codes(decode(passenger_list(header=header))) == ["PAXLST_UNEXPECTED_SEGMENT"]


def test_header_rff_dtm_and_loc_are_not_mapped() -> None:
    header = ["BGM+745", "RFF+TN:BA123456789:::1", "DTM+10:251127", *ITINERARY]
    result = decode(passenger_list(header=header))
    assert codes(result) == ["PAXLST_NOT_MAPPED", "PAXLST_NOT_MAPPED"]
