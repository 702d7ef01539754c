"""The interchange envelope: UNB/UNZ (IG 4.2, 4.27), UNG/UNE (4.3, 4.26), UNH/UNT (4.4, 4.25).

ISO 9735 control counts: UNT 0074 counts the segments of the message including UNH and UNT,
UNE 0060 the messages of the group, UNZ 0036 the groups, or the messages when there are none.
A count that does not match is a warning at the trailer, not a rejection.
"""

from __future__ import annotations

from adapters.diagnostics import Severity
from tests.adapters.paxlst.builders import (
    FLIGHT,
    TRAVELLER,
    UNA,
    UNB,
    codes,
    decode,
    interchange,
    manifest,
    message,
    only,
    passenger_list,
    tainted_bodies,
)

BODY = [*FLIGHT, *TRAVELLER, "CNT+42:1"]


def test_envelope_fields() -> None:
    payload = interchange(message(BODY, reference="PAX001", tail="ABC123+01:F"))
    envelope = manifest(decode(payload)).envelope
    assert envelope.syntax_identifier == "UNOA:4"
    assert (envelope.sender, envelope.recipient) == ("SENDER:ZZ", "RECIPIENT:ZZ")
    assert (envelope.prepared_at, envelope.interchange_reference) == ("251127:0900", "REF1")
    assert (envelope.message_reference, envelope.message_identifier) == (
        "PAX001",
        "PAXLST:D:05B:UN:IATA",
    )
    assert envelope.common_access_reference == "ABC123"
    assert (envelope.part_number, envelope.last_part) == (1, True)


def test_group_header() -> None:
    segments = [
        "UNG+PAXLST+XYZ AIRLINES+USADHS:ZZ+251127:0900+7+UN+D:05B",
        *message(BODY),
        "UNE+1+7",
    ]
    payload = (UNA + "".join(s + "'" for s in [UNB, *segments, "UNZ+1+REF1"])).encode()
    result = decode(payload)
    envelope = manifest(result).envelope
    assert (envelope.group_sender, envelope.group_recipient) == ("XYZ AIRLINES", "USADHS:ZZ")
    assert result.diagnostics == ()


def test_unt_count_mismatch_is_a_warning_at_the_unt() -> None:
    segments = message(BODY)
    segments[-1] = "UNT+4+M1"
    payload = interchange(segments)
    result = decode(payload)
    diagnostic = only(result, "EDIFACT_SEGMENT_COUNT")
    assert diagnostic.severity is Severity.WARNING
    assert diagnostic.location.byte_offset == payload.index(b"UNT")
    assert diagnostic.location.segment_index == len(segments)  # UNB first, UNT last
    assert result.tainted_ids == frozenset()
    assert f"({len(segments)})" in diagnostic.message


def test_unt_reference_mismatch_and_non_numeric_count() -> None:
    segments = message(BODY)
    segments[-1] = "UNT+X+M2"
    result = decode(interchange(segments))
    assert codes(result) == ["EDIFACT_SEGMENT_COUNT", "EDIFACT_REFERENCE_MISMATCH"]


def test_unz_counts_messages_and_checks_its_reference() -> None:
    payload = interchange(message(BODY), message(BODY, reference="M2"), unz=False) + b"UNZ+3+X'"
    result = decode(payload)
    assert codes(result) == ["EDIFACT_MESSAGE_COUNT", "EDIFACT_REFERENCE_MISMATCH"]
    assert only(result, "EDIFACT_MESSAGE_COUNT").location.byte_offset == payload.index(b"UNZ")
    assert len([r for r in result.records if r.HasField("passenger_manifest")]) == 2


def test_with_groups_unz_counts_groups_and_une_messages() -> None:
    group = ["UNG+PAXLST+A+B+251127:0900+G1+UN+D:05B", *message(BODY), "UNE+2+G2"]
    payload = (UNA + "".join(s + "'" for s in [UNB, *group, "UNZ+1+REF1"])).encode()
    result = decode(payload)
    assert codes(result) == ["EDIFACT_MESSAGE_COUNT", "EDIFACT_REFERENCE_MISMATCH"]
    assert "UNE" in result.diagnostics[0].message


def test_missing_unz_is_a_warning_at_the_end() -> None:
    payload = interchange(message(BODY), unz=False)
    result = decode(payload)
    diagnostic = only(result, "EDIFACT_MISSING_SEGMENT")
    assert diagnostic.severity is Severity.WARNING
    assert diagnostic.location.byte_offset == len(payload)
    assert "UNZ" in diagnostic.message
    assert result.tainted_ids == frozenset()


def test_missing_unt_is_an_error_about_the_whole_message() -> None:
    result = decode(interchange(message(BODY)[:-1]))
    diagnostic = only(result, "EDIFACT_MISSING_SEGMENT")
    assert diagnostic.severity is Severity.ERROR
    assert tainted_bodies(result) == ["passenger_manifest", "person"]


def test_a_new_unh_closes_an_unterminated_message() -> None:
    first = message(BODY)[:-1]
    result = decode(interchange(first, message(BODY, reference="M2"), unz=False) + b"UNZ+2+REF1'")
    diagnostic = only(result, "EDIFACT_MISSING_SEGMENT")
    assert len(diagnostic.record_ids) == 2
    assert len(result.records) == 4


def test_missing_unb_is_a_warning() -> None:
    result = decode(interchange(message(BODY), unb=None))
    diagnostic = only(result, "EDIFACT_MISSING_SEGMENT")
    assert (diagnostic.severity, diagnostic.location.segment_index) == (Severity.WARNING, 0)
    assert len(result.records) == 2


def test_segments_outside_a_message_are_read_but_tainted() -> None:
    result = decode(interchange(BODY))
    missing = [d for d in result.diagnostics if d.code == "EDIFACT_MISSING_SEGMENT"]
    assert [d.severity for d in missing] == [Severity.ERROR, Severity.ERROR]
    assert manifest(result).flight_number == "AB123"
    assert set(tainted_bodies(result)) == {"passenger_manifest", "person"}


def test_segments_after_unz_are_ignored_with_a_warning() -> None:
    payload = interchange(message(BODY)) + b"UNB+UNOA:4+X+Y+251127:0900+2'"
    result = decode(payload)
    assert codes(result) == ["EDIFACT_TRAILING_DATA"]
    assert len(result.records) == 2


def test_a_message_of_another_type_is_skipped() -> None:
    other = message(["BGM+962", "RFF+TN:1"], identifier="CUSRES:D:05B:UN:IATA")
    result = decode(interchange(other, message(BODY, reference="M2")))
    assert codes(result) == ["EDIFACT_NOT_PAXLST"]
    assert len(result.records) == 2


def test_other_directory_version_is_read_with_a_warning() -> None:
    result = decode(interchange(message(BODY, identifier="PAXLST:D:12B:UN:IATA")))
    assert codes(result) == ["PAXLST_VERSION"]
    assert manifest(result).envelope.message_identifier == "PAXLST:D:12B:UN:IATA"


def test_d02b_is_read_without_remark() -> None:
    result = decode(interchange(message(BODY, identifier="PAXLST:D:02B:UN:IATA")))
    assert result.diagnostics == ()


def test_test_indicator_and_bad_preparation_date() -> None:
    unb = "UNB+UNOA:4+S+R+251199:0900+REF1++APIS++++1"
    result = decode(interchange(message(BODY), unb=unb))
    assert codes(result) == ["EDIFACT_DATE", "EDIFACT_TEST_INDICATOR"]


def test_unexpected_service_segments() -> None:
    payload = interchange(message(BODY), unz=False) + b"UNT+1+X'UNE+1+1'UNB+X'UNZ+1+REF1'"
    result = decode(payload)
    assert codes(result) == ["EDIFACT_UNEXPECTED_SEGMENT"] * 3


def test_empty_payload() -> None:
    for payload in (b"", b" \r\n\t ", b"UNA:+.? '\r\n"):
        result = decode(payload)
        assert codes(result) == ["EDIFACT_EMPTY"]
        assert result.diagnostics[0].severity is Severity.ERROR
        assert result.records == ()


def test_transport_header_is_skipped_with_a_warning() -> None:
    payload = b"QK VIEAPXH\n.HDQRMA9 271000\n" + passenger_list(*TRAVELLER)
    result = decode(payload)
    diagnostic = only(result, "EDIFACT_LEADING_DATA")
    assert (diagnostic.location.byte_offset, diagnostic.location.line) == (0, 1)
    assert len(result.records) == 2


def test_unusable_una_is_an_error_about_every_record() -> None:
    payload = b"UNA::.? '" + passenger_list(*TRAVELLER)[9:]
    result = decode(payload)
    assert only(result, "EDIFACT_UNA").severity is Severity.ERROR
    assert len(result.tainted_ids) == len(result.records) == 2
