"""The Type-1 transaction information record -> ``Provenance.nist.header`` (1-2011 Section 8.1)."""

from __future__ import annotations

import pytest

from adapters.ansi_nist import AnsiNistAdapter
from adapters.base import DecodeResult
from adapters.diagnostics import Diagnostic, Severity
from liaison.v1 import nist_pb2
from tests.adapters.ansi_nist.build import HEADER, Value, content, record

ADAPTER = AnsiNistAdapter()
PERSON = record(2, (2, "00"), (18, "DOE,JOHN"))


def decode_header(
    *extra: tuple[int, Value], replace: dict[int, Value] | None = None
) -> DecodeResult:
    """A transaction whose Type-1 has the mandatory fields (some replaced) plus ``extra``."""
    replace = replace or {}
    fields = [(number, replace.get(number, v)) for number, v in HEADER if replace.get(number) != ""]
    fields.insert(1, (3, content((2, 0))))
    payload = record(1, *fields, *extra) + PERSON
    return ADAPTER.decode(payload, source_reference="file.an2")


def header_of(result: DecodeResult) -> nist_pb2.NistTransactionHeader:
    return result.records[0].provenance.nist.header


def only(result: DecodeResult, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [str(d) for d in result.diagnostics]
    return found[0]


def test_every_type1_field_is_mapped() -> None:
    """Fields 1.002 VER to 1.015 DCS land in their header attributes, text kept exactly."""
    result = decode_header(
        (6, "4"),
        (10, "REF-1"),
        (13, [["INT-I", "6.0"]]),
        (14, "20240315101500Z"),
        (15, [["003", "UTF-8"], ["001", "ISO-8859-1", "1987"]]),
    )
    assert result.diagnostics == ()
    header = header_of(result)
    assert header.version == "0502"
    assert header.transaction_type == "MPR"
    assert header.date == "20240315"
    assert header.priority == 4
    assert header.destination_agency == "IPSG00000"
    assert header.originating_agency == "FRINTPOL0"
    assert header.control_number == "TCN-0001"
    assert header.control_reference == "REF-1"
    assert header.native_scanning_resolution == "00.00"
    assert header.nominal_transmitting_resolution == "00.00"
    assert list(header.domain) == ["INT-I", "6.0"]
    assert header.gmt == "20240315101500Z"
    assert [list(s.items) for s in header.character_sets] == [
        ["003", "UTF-8"],
        ["001", "ISO-8859-1", "1987"],
    ]
    assert not header.content  # CNT is checked against the records and rewritten, not kept
    assert not header.other_fields


def test_the_tcn_is_the_source_reference() -> None:
    result = decode_header()
    assert result.records[0].provenance.source_reference == "TCN-0001"


def test_the_originator_and_the_tcn_identify_the_transaction() -> None:
    result = decode_header()
    other_ori = decode_header(replace={8: "FRINTPOL1"})
    assert other_ori.records[0].record_id != result.records[0].record_id


def test_record_ids_are_stable_and_depend_on_the_transaction() -> None:
    first = decode_header()
    assert decode_header().records[0].record_id == first.records[0].record_id
    assert first.records[0].record_id.startswith("ansi-nist:")
    other_tcn = decode_header(replace={9: "TCN-0002"})
    assert other_tcn.records[0].record_id != first.records[0].record_id


def test_type1_fields_without_a_header_attribute_are_kept_verbatim_in_order() -> None:
    result = decode_header((17, [["FRANCE POLICE", "INTERPOL"]]), (16, "APS"))
    kept = header_of(result).other_fields
    assert [(f.record_type, f.field_number) for f in kept] == [(1, 16), (1, 17)]
    assert [list(s.items) for s in kept[1].subfields] == [["FRANCE POLICE", "INTERPOL"]]


@pytest.mark.parametrize("priority", ["0", "10", "A", ""])
def test_a_priority_outside_1_to_9_is_kept_verbatim(priority: str) -> None:
    result = decode_header((6, priority))
    warning = only(result, "NIST_PRIORITY_INVALID")
    assert warning.severity is Severity.WARNING
    header = header_of(result)
    assert header.priority == 0
    assert [(f.field_number, list(f.subfields[0].items)) for f in header.other_fields] == [
        (6, [priority])
    ]


@pytest.mark.parametrize("bad", ["20241301", "2024031", "20230229"])
def test_a_malformed_date_is_a_warning_and_kept(bad: str) -> None:
    result = decode_header(replace={5: bad})
    warning = only(result, "NIST_DATE_INVALID")
    assert warning.severity is Severity.WARNING
    assert warning.record_ids == (result.records[0].record_id,)
    assert header_of(result).date == bad


@pytest.mark.parametrize("bad", ["502", "05.2", "ABCD", "05020"])
def test_a_version_that_is_not_four_digits_is_an_error_and_no_person_is_built(bad: str) -> None:
    """1.002 VER is four digits (Section 8.1.2): without a version the rest cannot be read."""
    result = decode_header(replace={2: bad})
    error = only(result, "NIST_VERSION_INVALID")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset == len(b"1.001:NNN") + 1
    assert result.records == ()


@pytest.mark.parametrize("version", ["9999", "0000", "0100", "0202", "0503", "0601", "1000"])
def test_a_version_the_standard_never_published_is_a_warning(version: str) -> None:
    """Before, any four digits passed silently: "9999" was read as if it were 1-2011."""
    result = decode_header(replace={2: version})
    warning = only(result, "NIST_VERSION_UNKNOWN")
    assert warning.severity is Severity.WARNING
    assert warning.location.byte_offset == len(b"1.001:NNN") + 1
    assert warning.location.segment_index == 0
    assert warning.record_ids == (result.records[0].record_id,)  # warned, still clean
    assert header_of(result).version == version  # kept verbatim
    assert result.clean == result.records


@pytest.mark.parametrize(
    "version", ["0200", "0201", "0300", "0400", "0500", "0501", "0502", "0600"]
)
def test_every_published_version_is_accepted_without_a_word(version: str) -> None:
    result = decode_header(replace={2: version})
    assert result.diagnostics == ()


@pytest.mark.parametrize(
    ("number", "text", "code_point", "position"),
    [(9, "TCN\x00-1", 0x0000, 3), (8, "\u202eFRINTPOL", 0x202E, 0), (10, "REF\n1", 0x000A, 3)],
)
def test_a_control_character_in_type1_is_an_error_and_no_person_is_built(
    number: int, text: str, code_point: int, position: int
) -> None:
    """Type-1 values go into every person's header: the transaction is refused, located."""
    result = (
        decode_header((number, text)) if number == 10 else decode_header(replace={number: text})
    )
    error = only(result, "FORBIDDEN_CHARACTER")
    assert error.severity is Severity.ERROR
    assert error.location.segment_index == 0
    assert f"U+{code_point:04X}" in error.message
    assert f"at position {position}" in error.message
    assert f"field 1.{number:03d}" in error.message
    assert result.records == ()


@pytest.mark.parametrize("gmt", ["20240315101500", "20240315246000Z", "2024031510150Z"])
def test_a_malformed_gmt_is_a_warning(gmt: str) -> None:
    result = decode_header((14, gmt))
    assert only(result, "NIST_TIME_INVALID").location.segment_index == 0
    assert header_of(result).gmt == gmt


def test_an_optional_scalar_field_with_two_subfields_is_kept_verbatim() -> None:
    result = decode_header((10, [["REF-1"], ["REF-2"]]))
    warning = only(result, "NIST_FIELD_STRUCTURE")
    assert warning.severity is Severity.WARNING
    header = header_of(result)
    assert header.control_reference == ""
    assert [list(s.items) for s in header.other_fields[0].subfields] == [["REF-1"], ["REF-2"]]


def test_a_mandatory_field_with_two_subfields_is_an_error() -> None:
    result = decode_header(replace={4: [["MPR"], ["CAR"]]})
    assert only(result, "NIST_FIELD_STRUCTURE").severity is Severity.ERROR
    assert result.records == ()


def test_a_domain_with_two_subfields_is_kept_verbatim() -> None:
    result = decode_header((13, [["NORAM"], ["INT-I"]]))
    only(result, "NIST_FIELD_STRUCTURE")
    assert not header_of(result).domain


@pytest.mark.parametrize("extra", [(4, "CAR"), (10, "REF-2")])
def test_a_field_given_twice_is_an_error(extra: tuple[int, Value]) -> None:
    """A Type-1 field occurs once (Section 8.1): a second one makes the header ambiguous."""
    fields = [(10, "REF-1")] if extra[0] == 10 else []
    result = decode_header(*fields, extra)
    error = only(result, "NIST_DUPLICATE_FIELD")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset is not None
    assert result.records == ()


@pytest.mark.parametrize(
    ("number", "mnemonic"),
    [
        (2, "VER"),
        (4, "TOT"),
        (5, "DAT"),
        (7, "DAI"),
        (8, "ORI"),
        (9, "TCN"),
        (11, "NSR"),
        (12, "NTR"),
    ],
)
def test_a_missing_mandatory_field_is_an_error_and_no_person_is_built(
    number: int, mnemonic: str
) -> None:
    """Fields 1.001-1.005, 1.007-1.009, 1.011 and 1.012 are mandatory (Section 8.1)."""
    result = decode_header(replace={number: ""})
    error = only(result, "NIST_FIELD_MISSING")
    assert error.severity is Severity.ERROR
    assert f"1.{number:03d} {mnemonic}" in error.message
    assert error.location.byte_offset == 0
    assert result.records == ()


@pytest.mark.parametrize("number", [4, 9])
def test_a_mandatory_field_without_a_value_is_an_error(number: int) -> None:
    fields = [(n, "" if n == number else v) for n, v in HEADER]
    fields.insert(1, (3, content((2, 0))))
    payload = record(1, *fields) + PERSON
    result = ADAPTER.decode(payload)
    error = only(result, "NIST_FIELD_MISSING")
    assert "has no value" in error.message
    assert error.location.byte_offset == payload.index(f"1.{number:03d}:".encode())
    assert result.records == ()


def test_a_type1_without_cnt_is_an_error_and_no_person_is_built() -> None:
    payload = record(1, *HEADER) + PERSON
    result = ADAPTER.decode(payload)
    error = only(result, "NIST_FIELD_MISSING")
    assert "1.003 CNT" in error.message
    assert error.severity is Severity.ERROR
    assert result.records == ()


def test_ver_must_be_the_second_field() -> None:
    fields = [(3, content((2, 0))), *HEADER]
    result = ADAPTER.decode(record(1, *fields) + PERSON)
    assert only(result, "NIST_FIELD_ORDER").location.byte_offset == len(b"1.001:NNN") + 1


def test_type1_text_must_be_7bit_ascii() -> None:
    """Annex A.1: all Type-1 fields are 7-bit ASCII, whatever DCS says."""
    result = decode_header(replace={4: "MPRÉ"})
    warning = only(result, "NIST_TYPE1_NOT_ASCII")
    assert warning.severity is Severity.WARNING
    assert header_of(result).transaction_type == "MPRÉ"


@pytest.mark.parametrize("index", ["002", "004", "200", "UTF"])
def test_a_dcs_the_adapter_cannot_read_is_reported(index: str) -> None:
    result = decode_header((15, [[index, "SET"]]))
    warning = only(result, "NIST_CHARSET_UNSUPPORTED")
    assert warning.location.byte_offset is not None
    assert warning.location.byte_offset > 0


def test_a_transaction_without_type2_gives_no_record_and_says_so() -> None:
    fields = [HEADER[0], (3, content()), *HEADER[1:]]
    result = ADAPTER.decode(record(1, *fields))
    assert result.records == ()
    (info,) = result.diagnostics
    assert (info.code, info.severity) == ("NIST_NO_DESCRIPTIVE_TEXT", Severity.INFO)


def test_every_person_of_a_transaction_carries_the_same_header() -> None:
    fields = [HEADER[0], (3, content((2, 0), (2, 1))), *HEADER[1:]]
    payload = record(1, *fields) + PERSON + record(2, (2, "01"), (18, "ROE,RICHARD"))
    result = ADAPTER.decode(payload)
    first, second = result.records
    assert first.provenance.nist.header == second.provenance.nist.header
    assert (first.provenance.nist.idc, second.provenance.nist.idc) == (0, 1)
    assert first.record_id != second.record_id
