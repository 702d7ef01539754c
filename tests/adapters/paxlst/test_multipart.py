"""Multi-part messages (IG 4.4): one list split over several UNH sharing the common access
reference 0068, numbered by S010 (0070 sequence of transfers, 0073 C on the first, F on the
last), each part repeating the header, joined back into one manifest."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.diagnostics import Severity
from tests.adapters.paxlst.builders import (
    FLIGHT,
    bodies,
    codes,
    decode,
    interchange,
    manifest,
    message,
    persons,
)


def _part(
    reference: str,
    s010: str,
    names: Sequence[str],
    count: int | None = None,
    header: Sequence[str] = FLIGHT,
    access: str = "ABC123",
) -> list[str]:
    body = [*header]
    for name in names:
        body += [f"NAD+FL+++{name}", "DOC+P+1"]
    if count is not None:
        body.append(f"CNT+42:{count}")
    tail = f"{access}+{s010}" if s010 else access
    return message(body, reference=reference, tail=tail)


def test_parts_are_joined_into_one_manifest() -> None:
    payload = interchange(
        _part("PAX001", "01:C", ["ALPHA", "BRAVO"], 2), _part("PAX002", "02:F", ["CHARLIE"], 1)
    )
    result = decode(payload)
    assert result.diagnostics == ()
    (joined,) = bodies(result, "passenger_manifest")
    travellers = joined.passenger_manifest.travellers
    assert [p.names[0].family for p in persons(result)] == ["ALPHA", "BRAVO", "CHARLIE"]
    assert len(travellers) == 3
    assert travellers[2].person_record_id == bodies(result, "person")[2].record_id
    envelope = joined.passenger_manifest.envelope
    assert (envelope.message_reference, envelope.common_access_reference) == ("PAX001", "ABC123")
    assert (envelope.part_number, envelope.last_part) == (2, True)
    assert joined.passenger_manifest.declared_traveller_count == 3
    assert len(result.records) == 1 + 3 * 2


def test_a_total_count_in_the_last_part() -> None:
    result = decode(
        interchange(_part("P1", "01:C", ["ALPHA"]), _part("P2", "02:F", ["BRAVO", "CHARLIE"], 3))
    )
    assert result.diagnostics == ()
    assert manifest(result).declared_traveller_count == 3


def test_a_missing_part_and_no_final_part() -> None:
    payload = interchange(_part("P1", "01:C", ["ALPHA"], 1), _part("P3", "03", ["CHARLIE"], 1))
    result = decode(payload)
    assert codes(result) == ["PAXLST_PART_SEQUENCE", "PAXLST_PART_INCOMPLETE"]
    assert all(d.severity is Severity.WARNING for d in result.diagnostics)
    sequence = result.diagnostics[0]
    assert sequence.location.byte_offset == payload.index(b"UNH+P3")
    assert len(manifest(result).travellers) == 2


def test_a_first_part_alone_is_incomplete() -> None:
    result = decode(interchange(_part("P1", "01:C", ["ALPHA"], 1)))
    assert codes(result) == ["PAXLST_PART_INCOMPLETE"]
    envelope = manifest(result).envelope
    assert (envelope.part_number, envelope.last_part) == (1, False)


def test_parts_that_disagree_on_the_header() -> None:
    other = [*FLIGHT[:2], "TDT+20+ZZ999", *FLIGHT[3:]]
    result = decode(
        interchange(_part("P1", "01:C", ["A"], 1), _part("P2", "02:F", ["B"], 1, header=other))
    )
    assert codes(result) == ["PAXLST_PART_MISMATCH"]
    assert manifest(result).flight_number == "AB123"


def test_parts_that_disagree_on_the_final_destination() -> None:
    """LOC+130 in Gr. 3 is part of the header each part repeats."""
    first = [*FLIGHT, "LOC+130+MIA"]
    other = [*FLIGHT, "LOC+130+ATL"]
    result = decode(
        interchange(
            _part("P1", "01:C", ["A"], 1, header=first), _part("P2", "02:F", ["B"], 1, header=other)
        )
    )
    assert codes(result) == ["PAXLST_PART_MISMATCH"]
    assert manifest(result).final_destination.iata_code == "MIA"


def test_a_later_part_marked_first() -> None:
    result = decode(interchange(_part("P1", "01:C", ["A"], 1), _part("P2", "02:C", ["B"], 1)))
    assert codes(result) == ["PAXLST_PART_SEQUENCE", "PAXLST_PART_INCOMPLETE"]


def test_single_messages_are_not_joined() -> None:
    """The guide's single message (``+API01+01``) and a second one restarting at 01."""
    result = decode(interchange(_part("P1", "01", ["A"], 1), _part("P2", "01", ["B"], 1)))
    assert result.diagnostics == ()
    manifests = bodies(result, "passenger_manifest")
    assert len(manifests) == 2
    assert manifests[0].record_id != manifests[1].record_id
    envelope = manifests[0].passenger_manifest.envelope
    assert (envelope.part_number, envelope.last_part) == (1, False)


def test_messages_without_s010_are_never_joined() -> None:
    result = decode(interchange(_part("P1", "", ["A"], 1), _part("P2", "", ["B"], 1)))
    assert len(bodies(result, "passenger_manifest")) == 2


def test_an_error_in_a_later_part_names_the_joined_manifest() -> None:
    header = [*FLIGHT[:4], "DTM+189:2513271000:201", *FLIGHT[5:]]
    result = decode(
        interchange(_part("P1", "01:C", ["A"], 1), _part("P2", "02:F", ["B"], 1, header=header))
    )
    error = next(d for d in result.diagnostics if d.code == "PAXLST_DATE")
    assert error.record_ids == (bodies(result, "passenger_manifest")[0].record_id,)


def test_bad_sequence_number() -> None:
    result = decode(interchange(_part("P1", "X:Q", ["A"], 1)))
    assert codes(result) == ["PAXLST_PART_SEQUENCE", "PAXLST_CODE"]
    assert codes(decode(interchange(_part("P1", "100:F", ["A"], 1)))) == ["PAXLST_PART_SEQUENCE"]
