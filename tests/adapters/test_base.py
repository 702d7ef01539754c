"""The adapter contract: results, taint, provenance, diagnostics, stable ids, the JSON form."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from adapters import (
    Adapter,
    DecodeResult,
    Diagnostic,
    EncodeNotSupportedError,
    EncodeResult,
    Location,
    Severity,
    jsonform,
    stable_record_id,
)
from liaison.v1 import record_pb2, translation_pb2


class LinesAdapter(Adapter):
    """One person per line, ``FAMILY;GIVEN``; a line without ``;`` taints its record."""

    name = "lines"
    version = "1.2.3"
    description = "Test format"
    source_format = "test lines"
    file_extensions = ("txt",)

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        out = self.builder(payload, source_reference)
        for number, line in enumerate(payload.decode("utf-8", "replace").splitlines(), 1):
            record = out.new_record(stable_record_id("lines", line), source_reference=str(number))
            family, _, given = line.partition(";")
            record.person.names.add(family=family, given=given)
            if not given:
                out.error(
                    "LINES_NO_GIVEN", "no given name", Location(line=number), records=[record]
                )
        out.info("LINES_COUNT", "counted", Location(byte_offset=0))
        return out.result()


class WritableLinesAdapter(LinesAdapter):
    name = "writable-lines"

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        lines = [f"{r.person.names[0].family};{r.person.names[0].given}" for r in records]
        return EncodeResult("\n".join(lines).encode())


def test_decode_builder_fills_provenance_with_the_payload_hash() -> None:
    payload = b"DOE;JOHN\n"
    result = LinesAdapter().decode(payload, source_reference="file.txt")
    (record,) = result.records
    provenance = record.provenance
    assert provenance.adapter_name == "lines"
    assert provenance.adapter_version == "1.2.3"
    assert provenance.source_format == "test lines"
    assert provenance.source_reference == "1"
    assert provenance.payload_sha256 == hashlib.sha256(payload).digest()


def test_an_error_naming_a_record_taints_it_and_only_it() -> None:
    result = LinesAdapter().decode(b"DOE;JOHN\nROE\n")
    assert len(result.records) == 2
    assert result.has_errors
    assert result.tainted_ids == {result.records[1].record_id}
    assert [r.record_id for r in result.clean] == [result.records[0].record_id]
    assert result.count(Severity.ERROR) == 1
    assert result.count(Severity.INFO) == 1
    assert result.count(Severity.WARNING) == 0


def test_warnings_do_not_taint() -> None:
    result = DecodeResult(
        (record_pb2.Record(record_id="a"),),
        (Diagnostic(Severity.WARNING, "W", "warn", record_ids=("a",)),),
    )
    assert not result.has_errors
    assert len(result.clean) == 1


def test_stable_record_ids_are_deterministic_valid_and_hide_their_parts() -> None:
    first = stable_record_id("mrz", "UTO", "L898902C3")
    assert first == stable_record_id("mrz", "UTO", "L898902C3")
    assert first != stable_record_id("mrz", "UTO", "L898902C4")
    # The separator keeps ("AB", "C") and ("A", "BC") apart.
    assert stable_record_id("x", "AB", "C") != stable_record_id("x", "A", "BC")
    assert first.startswith("mrz:")
    assert "L898902C3" not in first

    from liaison.rules.ids import RECORD_ID_PATTERN

    assert RECORD_ID_PATTERN.fullmatch(first)


def test_capabilities_and_info() -> None:
    assert not LinesAdapter.can_encode()
    assert WritableLinesAdapter.can_encode()
    info = WritableLinesAdapter.info()
    assert info == translation_pb2.AdapterInfo(
        name="writable-lines",
        version="1.2.3",
        description="Test format",
        file_extensions=["txt"],
        can_decode=True,
        can_encode=True,
    )
    with pytest.raises(EncodeNotSupportedError, match="'lines' cannot encode"):
        LinesAdapter().encode([])


def test_diagnostics_round_trip_through_the_contract() -> None:
    diagnostic = Diagnostic(
        Severity.WARNING,
        "EDIFACT_SEGMENT_COUNT",
        "UNT says 12 segments, the message has 11",
        Location(segment_index=11, byte_offset=0),
        ("paxlst:abc",),
    )
    message = diagnostic.to_proto()
    assert message.severity == translation_pb2.DIAGNOSTIC_SEVERITY_WARNING
    assert message.location.HasField("byte_offset")
    assert message.location.HasField("segment_index") is not False
    assert Diagnostic.from_proto(message) == diagnostic
    # Unset optional positions stay unset, not zero.
    bare = Diagnostic(Severity.INFO, "X", "y").to_proto()
    assert not bare.location.HasField("byte_offset")
    assert not bare.location.HasField("segment_index")
    assert Diagnostic.from_proto(bare).location == Location()


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (Location(), "payload"),
        (Location(line=2, column=15), "line 2, column 15"),
        (Location(segment_index=3, byte_offset=120), "segment 3, byte 120"),
        (Location(json_pointer="/arrest_warrants/0/charge"), "at /arrest_warrants/0/charge"),
    ],
)
def test_locations_read_well(location: Location, text: str) -> None:
    assert str(location) == text


def test_diagnostic_text_names_severity_code_and_place() -> None:
    diagnostic = Diagnostic(Severity.ERROR, "MRZ_CHECK_DIGIT", "bad", Location(line=2, column=10))
    assert str(diagnostic) == "error MRZ_CHECK_DIGIT (line 2, column 10): bad"


def test_json_form_round_trips() -> None:
    result = LinesAdapter().decode("MÜLLER;JÜRGEN\nROE\n".encode(), source_reference="f")
    text = jsonform.dumps(result)
    assert "MÜLLER" in text  # readable, not \\u-escaped
    assert text.endswith("\n")
    import json

    assert jsonform.result_from_dict(json.loads(text)) == result
    assert set(jsonform.result_to_dict(result)) == {"records", "diagnostics"}
