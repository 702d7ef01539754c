"""Round trips: records -> encode -> decode, and decode -> encode -> decode: records unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from adapters.testing.compare import records_difference
from liaison.v1 import record_pb2
from tests.adapters.paxlst.builders import (
    ADAPTER,
    TRAVELLER,
    codes,
    manifest,
    passenger_list,
    persons,
)
from tests.adapters.paxlst.strategies import manifest_records, passenger_list_payload

SAMPLES = Path(__file__).parent / "samples"
CLEAN_SAMPLES = sorted(
    path for path in SAMPLES.glob("*.edi") if not ADAPTER.decode(path.read_bytes()).has_errors
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifest_records())
def test_records_survive_encode_and_decode(records: Sequence[record_pb2.Record]) -> None:
    """Manifests with travellers, names and references full of service characters, dates that
    need four-digit years, multi-part messages: encode, decode, and nothing changed."""
    encoded = ADAPTER.encode(records)
    assert not encoded.has_errors, [str(d) for d in encoded.diagnostics]
    decoded = ADAPTER.decode(encoded.payload)
    assert not decoded.has_errors, [str(d) for d in decoded.diagnostics]
    difference = records_difference(records, decoded.records, ignore_provenance=True)
    assert difference is None, difference


@pytest.mark.parametrize("path", CLEAN_SAMPLES, ids=[p.name for p in CLEAN_SAMPLES])
def test_clean_samples_survive_decode_encode_decode(path: Path) -> None:
    first = ADAPTER.decode(path.read_bytes(), source_reference=path.name)
    encoded = ADAPTER.encode(first.records)
    assert not encoded.has_errors
    second = ADAPTER.decode(encoded.payload, source_reference=path.name)
    assert not second.has_errors
    assert records_difference(first.records, second.records) is None


def test_the_throughput_list_is_clean() -> None:
    """The 500-traveller list the throughput measurement decodes: 1 + 2 x 500 clean records."""
    result = ADAPTER.decode(passenger_list_payload(500))
    assert result.diagnostics == ()
    assert len(result.records) == 1001


def test_address_further_flights_and_final_destination_survive_a_round_trip() -> None:
    """Decode -> encode -> decode keeps a traveller's address (IG 4.11), the flights of legs
    in further TDT groups (4.8) and the flight's final destination (LOC+130, 4.9)."""
    header = [
        "BGM+745",
        "TDT+20+AB123+++AB",
        "LOC+125+CDG",
        "DTM+189:2511271000:201",
        "LOC+87+YUL",
        "LOC+130+ORD",
        "TDT+20+XY45",
        "LOC+125+YUL",
        "LOC+87+ORD",
        "TDT+20+AB123+++AB",
        "LOC+125+ORD",
    ]
    payload = passenger_list(
        "NAD+FL+++DOE:JANE+FLAT 2:10 HIGH ST?'S+TOWN+:::NORTHERN DISTRICT+AB1 2CD+UK",
        "NAD+FL+++ROE:JOHN+1 MAIN ST+ANYCITY+VA+10053+US",
        header=header,
    )
    first = ADAPTER.decode(payload)
    assert codes(first) == ["PAXLST_COUNTRY"]
    body = manifest(first)
    assert [leg.flight_number for leg in body.legs] == ["", "XY45", ""]
    assert body.final_destination.iata_code == "ORD"
    assert [len(person.addresses) for person in persons(first)] == [1, 1]
    second = ADAPTER.decode(ADAPTER.encode(first.records).payload)
    assert codes(second) == ["PAXLST_COUNTRY"]
    assert records_difference(first.records, second.records, ignore_provenance=True) is None


def test_a_single_flight_message_round_trips_to_the_same_text() -> None:
    """A message with one flight is written back segment for segment: one TDT, no LOC+130."""
    payload = passenger_list(*TRAVELLER)
    encoded = ADAPTER.encode(ADAPTER.decode(payload).records).payload
    body = payload[payload.index(b"BGM") : payload.index(b"UNT")]
    assert body == encoded[encoded.index(b"BGM") : encoded.index(b"UNT")]
