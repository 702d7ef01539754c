"""Malformed input: decode never raises, always says where, never quotes personal data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.diagnostics import Severity
from adapters.testing.invariants import result_problems
from liaison.rules.validation import validate_record
from tests.adapters.paxlst.builders import (
    ADAPTER,
    FLIGHT,
    TRAVELLER,
    codes,
    decode,
    interchange,
    message,
    only,
    passenger_list,
    tainted_bodies,
)

SAMPLES = Path(__file__).parent / "samples"
PASSENGER_LIST = (SAMPLES / "passenger-list-d05b.edi").read_bytes()
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Bytes a PAXLST is made of, so that random payloads reach the segment and message layers.
PAXLST_BYTES = st.binary(max_size=300) | st.lists(
    st.sampled_from(
        [
            b"UNA:+.? '",
            b"UNB+UNOA:4+A+B+251127:0900+R'",
            b"UNH+1+PAXLST:D:05B:UN:IATA'",
            b"BGM+745'",
            b"TDT+20+AB1'",
            b"NAD+FL+++X'",
            b"DOC+P+1'",
            b"DTM+329:991399'",
            b"LOC+125+CDG'",
            b"CNT+42:1'",
            b"UNT+3+1'",
            b"UNZ+1+R'",
            b"?",
            b"'",
            b"+",
            b":",
            b"\xff",
            b"\r\n",
            b"UNH+2+PAXLST:D:05B:UN:IATA+X+01:C'",
        ]
    ),
    max_size=40,
).map(b"".join)


def _check(payload: bytes) -> None:
    result = ADAPTER.decode(payload)
    assert result_problems(type(ADAPTER), payload, result) == []
    for record in result.clean:
        assert validate_record(record) == [], record.record_id


@PROPERTY
@given(PAXLST_BYTES)
def test_arbitrary_bytes_never_raise(payload: bytes) -> None:
    _check(payload)


@PROPERTY
@given(st.integers(0, len(PASSENGER_LIST)), st.binary(max_size=8))
def test_damaged_sample_never_raises(position: int, junk: bytes) -> None:
    _check(PASSENGER_LIST[:position] + junk + PASSENGER_LIST[position:])
    _check(PASSENGER_LIST[:position])


def test_truncation_points_at_the_incomplete_segment() -> None:
    payload = PASSENGER_LIST[: PASSENGER_LIST.index(b"MB140241") + 4]
    result = decode(payload)
    truncated = only(result, "EDIFACT_TRUNCATED")
    assert truncated.severity is Severity.ERROR
    assert truncated.location.byte_offset == payload.rindex(b"DOC+P")
    assert truncated.location.line == payload.count(b"\n") + 1
    assert set(tainted_bodies(result)) == {"passenger_manifest", "person"}


def test_release_before_a_line_break_loses_one_segment_only() -> None:
    body = [*FLIGHT, "NAD+FL+++DOE", "FTX+BAG+++TAG?\nX", "DOC+P+1", "CNT+42:1"]
    payload = interchange(message(body))
    result = decode(payload)
    syntax = only(result, "EDIFACT_SYNTAX")
    assert syntax.severity is Severity.ERROR
    assert syntax.location.byte_offset == payload.index(b"\n")
    assert len(result.records) == 3  # the DOC after the damaged FTX is still read
    assert "EDIFACT_SEGMENT_COUNT" not in codes(result)


def test_a_bad_tag_inside_a_message_is_an_error_about_it() -> None:
    result = decode(passenger_list(*TRAVELLER, "nat+2+FRA"))
    assert only(result, "EDIFACT_SEGMENT_TAG").severity is Severity.ERROR
    assert set(tainted_bodies(result)) == {"passenger_manifest", "person"}


def test_an_empty_segment_is_a_warning() -> None:
    result = decode(passenger_list(*TRAVELLER, ""))
    assert only(result, "EDIFACT_EMPTY_SEGMENT").severity is Severity.WARNING
    assert result.tainted_ids == frozenset()


def test_diagnostic_messages_quote_no_payload_values() -> None:
    """Names, dates and numbers of the payload never appear in a diagnostic message."""
    marker = "QZXJQ"
    payload = passenger_list(
        f"NAD+FL+++{marker}:{marker}+{marker} STREET",
        "ATT+2++" + marker,
        "DTM+329:" + marker,
        "LOC+174+" + marker,
        "NAT+2+" + marker,
        f"NAT+{marker}+{marker}",
        f"NAT+{marker}",
        "RFF+" + marker,
        "DOC+" + marker,
        "DTM+36:" + marker,
        "FTX+BAG+" + marker + "++" + marker,
        marker[:3] + "+" + marker,
    )
    result = decode(payload)
    assert len(result.diagnostics) >= 8
    for diagnostic in result.diagnostics:
        assert marker not in diagnostic.message


@pytest.mark.parametrize(
    "payload",
    [
        passenger_list(*(TRAVELLER * 20_000)),  # a very long list
        b"UNA:+.? 'UNB+UNOA:4+A+B+251127:0900+R'" + b"FTX+A?\nB'" * 100_000,
        b"U" * 3_000_000,
    ],
    ids=["long-list", "resynchronisations", "one-byte-run"],
)
def test_huge_inputs_decode_in_linear_time(payload: bytes) -> None:
    started = time.process_time()
    result = decode(payload)
    assert time.process_time() - started < 45
    assert result.diagnostics or result.records


@pytest.mark.parametrize(
    ("segment", "code_point", "position"),
    [
        ("NAD+FL+++DO\x00E:JANE", 0x0000, 2),
        ("NAD+FL+++DOE:JA\x1bNE", 0x001B, 2),
        ("NAD+FL+++DOE:JANE\nX", 0x000A, 4),
    ],
)
def test_a_control_character_in_a_value_is_an_error_at_its_offset(
    segment: str, code_point: int, position: int
) -> None:
    """Before: the traveller's name held the NUL, and the records were clean."""
    payload = passenger_list(segment, "ATT+2++F", "DTM+329:850315")
    result = decode(payload)
    error = only(result, "FORBIDDEN_CHARACTER")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset == payload.index(chr(code_point).encode())
    assert error.location.segment_index == 9  # UNB, UNH, 7 header segments, then NAD
    assert f"U+{code_point:04X}" in error.message
    assert f"at position {position}" in error.message
    # The person and the manifest (whose traveller entry it feeds) are both named.
    assert sorted(tainted_bodies(result)) == ["passenger_manifest", "person"]
    assert all(validate_record(record) == [] for record in result.clean)


def test_a_bidi_override_in_a_utf8_interchange_is_an_error() -> None:
    ascii_payload = passenger_list("NAD+FL+++@@EOD:JANE").replace(b"UNOA", b"UNOW")
    payload = ascii_payload.replace(b"@@", "\u202e".encode())
    result = decode(payload)
    error = only(result, "FORBIDDEN_CHARACTER")
    assert "U+202E (an invisible bidi override or isolate) at position 0" in error.message
    assert error.location.byte_offset == payload.index("\u202e".encode())


def test_a_control_character_in_the_envelope_names_every_record() -> None:
    payload = passenger_list(*TRAVELLER).replace(b"SENDER", b"SEN\x07DER")
    result = decode(payload)
    error = only(result, "FORBIDDEN_CHARACTER")
    assert error.location.segment_index == 0  # UNB
    assert set(error.record_ids) == {record.record_id for record in result.records}
    assert result.clean == ()
