"""Walking a transaction: separators, tags, LEN, binary and tagged records, CNT, bad structure.

Clauses: ANSI/NIST-ITL 1-2011 Update 2015 Annex B (traditional encoding: FS/GS/RS/US, ``R.FFF:``
tags, LEN as the first field counting every byte of its record including the final FS, binary
records with a 4-byte LEN and no separators), Section 8.1 Field 1.003 CNT.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from adapters import DEFAULT_MAX_PER_CODE
from adapters.ansi_nist import AnsiNistAdapter
from adapters.ansi_nist.findings import Findings
from adapters.ansi_nist.transaction import RawRecord, TransactionReader
from adapters.base import DecodeResult
from adapters.diagnostics import Diagnostic, Severity
from tests.adapters.ansi_nist.build import (
    FS,
    GS,
    HEADER,
    SEPARATOR_BYTES,
    binary,
    raw_record,
    record,
    transaction,
    type1,
)

ADAPTER = AnsiNistAdapter()


@dataclass
class Walk:
    """What walking a transaction found: its records (Type-1 first) and diagnostics."""

    records: list[RawRecord]
    reader: TransactionReader
    diagnostics: tuple[Diagnostic, ...]


def read_transaction(payload: bytes) -> Walk:
    out = ADAPTER.builder(payload)
    reader = TransactionReader(payload, Findings(out))
    type1 = reader.read_type1()
    records = [type1, *reader.read_records(type1)] if type1 is not None else []
    return Walk(records, reader, out.result().diagnostics)


def decode(payload: bytes) -> DecodeResult:
    return ADAPTER.decode(payload, source_reference="test.an2")


def only(result: DecodeResult, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [str(d) for d in result.diagnostics]
    return found[0]


def codes_of(result: DecodeResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def family_names(result: DecodeResult) -> list[str]:
    return [r.person.names[0].family for r in result.records]


# -- separators and tags -------------------------------------------------------------------


def test_fields_subfields_and_items_follow_the_four_separators() -> None:
    """FS ends a record, GS a field, RS separates subfields, US items (Annex B)."""
    result = decode(transaction((18, "DOE,JOHN"), (84, [["07", "XX"], ["08", "UP"]])))
    assert codes_of(result) == []
    (kept,) = result.records[0].provenance.nist.unmapped_fields
    assert (kept.record_type, kept.field_number) == (2, 84)
    assert [list(s.items) for s in kept.subfields] == [["07", "XX"], ["08", "UP"]]


def test_field_offsets_point_at_each_tag() -> None:
    payload = transaction((18, "DOE,JOHN"), (24, "M"))
    walk = read_transaction(payload)
    type2 = walk.records[1]
    for field in walk.reader.fields_of(type2):
        tag = f"2.{field.number:03d}:".encode()
        assert payload[field.offset : field.offset + len(tag)] == tag
        assert field.value_offset == field.offset + len(tag)


def test_tags_with_varied_leading_zeros_are_read() -> None:
    """``02.1:``, ``2.2:``, ``2.18:`` and ``02.0024:`` name fields 1, 2, 18, 24 of Type-2."""
    type2 = raw_record(2, b"2.2:00", b"2.18:DOE,JOHN", b"02.0024:M", len_tag=b"02.1:")
    result = decode(type1((2, 0)) + type2)
    assert codes_of(result) == []
    person = result.records[0].person
    assert person.names[0].family == "DOE"
    assert person.sex == 2  # SEX_MALE


def test_a_field_without_a_colon_is_an_error_at_its_offset_and_the_rest_is_read() -> None:
    payload = type1((2, 0)) + raw_record(2, b"2.002:00", b"2.024M", b"2.018:DOE,JOHN")
    result = decode(payload)
    error = only(result, "NIST_TAG_INVALID")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset == payload.index(b"2.024M")
    assert error.location.segment_index == 1
    assert error.record_ids == (result.records[0].record_id,)
    assert family_names(result) == ["DOE"]


@pytest.mark.parametrize(
    "bad_tag",
    [b"2.000:X", b"X.018:X", b"2.0x8:X", b"2.018.5:X", b"2:X", b".018:X", b"2.1234567890:X"],
)
def test_invalid_tag_numbers_are_errors(bad_tag: bytes) -> None:
    payload = type1((2, 0)) + raw_record(2, b"2.002:00", b"2.018:DOE,JOHN", bad_tag)
    result = decode(payload)
    error = only(result, "NIST_TAG_INVALID")
    assert error.location.byte_offset == payload.index(bad_tag)
    assert result.tainted_ids == {result.records[0].record_id}


def test_a_field_of_another_record_type_inside_type2_is_an_error() -> None:
    payload = transaction((18, "DOE,JOHN"), (24, "M")).replace(b"2.024:M", b"3.024:M")
    result = decode(payload)
    error = only(result, "NIST_TAG_INVALID")
    assert error.location.byte_offset == payload.index(b"3.024:M")
    assert result.records[0].person.sex == 0  # the foreign field is not read


# -- LEN -----------------------------------------------------------------------------------


def test_len_counts_every_byte_including_the_final_fs() -> None:
    payload = transaction((18, "DOE,JOHN"))
    walk = read_transaction(payload)
    assert [r.length for r in walk.records] == [
        payload.index(FS) + 1,
        len(payload) - walk.records[1].offset,
    ]
    assert walk.diagnostics == ()


@pytest.mark.parametrize("delta", [-1, 1, 3, -20])
def test_a_type2_len_mismatch_is_an_error_at_the_record_and_the_walk_goes_on(delta: int) -> None:
    second = record(2, (2, "01"), (18, "ROE,RICHARD"))
    first = record(2, (2, "00"), (18, "DOE,JOHN"), len_delta=delta)
    payload = type1((2, 0), (2, 1)) + first + second
    result = decode(payload)
    error = only(result, "NIST_LEN_MISMATCH")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset == payload.index(b"2.001:")
    assert error.location.segment_index == 1
    assert error.record_ids == (result.records[0].record_id,)
    assert family_names(result) == ["DOE", "ROE"]
    assert result.tainted_ids == {result.records[0].record_id}


def test_a_type1_len_mismatch_is_an_error_and_no_person_is_built() -> None:
    payload = type1((2, 0), (2, 1), len_delta=2) + record(2, (2, "00"), (18, "DOE,JOHN"))
    payload += record(2, (2, "01"), (18, "ROE,RICHARD"))
    result = decode(payload)
    error = only(result, "NIST_LEN_MISMATCH")
    assert error.location.byte_offset == 0
    assert result.records == ()


@pytest.mark.parametrize("bad_len", [b"12A", b"", b"-5", b" 12", b"1_0", b"9" * 20])
def test_a_len_that_is_not_a_number_stops_the_walk(bad_len: bytes) -> None:
    good = transaction((18, "DOE,JOHN"))
    start = good.index(b"2.001:") + len(b"2.001:")
    end = good.index(GS, start)
    payload = good[:start] + bad_len + good[end:]
    result = decode(payload)
    error = only(result, "NIST_LEN_INVALID")
    assert error.location.byte_offset == start
    assert result.records == ()


def test_a_payload_ending_inside_a_len_is_truncated() -> None:
    payload = type1((2, 0)) + b"2.001:12"
    result = decode(payload)
    assert only(result, "NIST_TRUNCATED").location.byte_offset == payload.index(b"2.001:")
    assert result.records == ()


def test_a_text_record_without_its_fs_is_truncated() -> None:
    payload = transaction((18, "DOE,JOHN"))[:-1]
    result = decode(payload)
    error = only(result, "NIST_TRUNCATED")
    assert error.location.byte_offset == payload.index(b"2.001:")
    assert error.location.segment_index == 1
    assert result.records == ()


# -- records stepped over by LEN -------------------------------------------------------------


def test_a_binary_type4_record_full_of_separators_is_skipped_by_its_len() -> None:
    """Type-4 is binary (Section 8.4): 4-byte LEN, no tags, data may hold 0x1C..0x1F."""
    image = SEPARATOR_BYTES * 4 + b"2.001:99" + GS + FS + bytes(range(256))
    type4 = binary(1, image)
    after = record(2, (2, "02"), (18, "ROE,RICHARD"))
    head = type1((2, 0), (4, 1), (2, 2)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    payload = head + type4 + after
    result = decode(payload)
    skipped = only(result, "NIST_RECORD_SKIPPED")
    assert skipped.severity is Severity.INFO
    assert skipped.location.byte_offset == len(head)
    assert skipped.location.segment_index == 2
    assert skipped.record_ids == ()
    assert family_names(result) == ["DOE", "ROE"]
    assert not result.has_errors


@pytest.mark.parametrize(("kind", "header_size"), [(3, 18), (5, 18), (6, 18), (7, 5), (8, 12)])
def test_the_other_binary_types_are_skipped_by_their_len(kind: int, header_size: int) -> None:
    payload = type1((kind, 1), (2, 0)) + binary(1, SEPARATOR_BYTES, header_size=header_size)
    payload += record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(payload)
    assert codes_of(result) == ["NIST_RECORD_SKIPPED"]
    assert family_names(result) == ["DOE"]


def test_a_binary_len_shorter_than_its_header_stops_the_walk() -> None:
    payload = type1((2, 0), (4, 1)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    type4_offset = len(payload)
    payload += (10).to_bytes(4, "big") + bytes(20)
    result = decode(payload)
    error = only(result, "NIST_LEN_INVALID")
    assert error.location.byte_offset == type4_offset
    assert result.records == ()


def test_a_binary_len_beyond_the_end_stops_the_walk_and_no_person_is_built() -> None:
    head = type1((2, 0), (4, 1)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    payload = head + binary(1, bytes(100))[:-30]
    result = decode(payload)
    error = only(result, "NIST_LEN_BEYOND_END")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset == len(head)
    assert result.records == ()


def test_a_binary_record_cut_inside_its_len_is_truncated() -> None:
    head = type1((2, 0), (4, 1)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(head + b"\x00\x00")
    assert only(result, "NIST_TRUNCATED").location.byte_offset == len(head)


def test_a_tagged_record_with_binary_999_data_is_skipped_by_its_len() -> None:
    """Types 9-99 are tagged, but x.999 holds arbitrary bytes: FS inside it is not an end."""
    face = b"\xff\xd8" + SEPARATOR_BYTES + b"2.001:5" + FS + b"\xff\xd9"
    type10 = record(10, (2, "01"), (3, "FACE"), (999, face))
    head = type1((2, 0), (10, 1), (2, 2)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    payload = head + type10 + record(2, (2, "02"), (18, "ROE,RICHARD"))
    result = decode(payload)
    skipped = only(result, "NIST_RECORD_SKIPPED")
    assert skipped.location.byte_offset == len(head)
    assert "Type-10" in skipped.message
    assert family_names(result) == ["DOE", "ROE"]
    walk = read_transaction(payload)
    assert [(r.record_type, r.idc) for r in walk.records] == [(1, None), (2, 0), (10, 1), (2, 2)]


def test_a_tagged_record_whose_len_does_not_end_at_an_fs_is_a_mismatch() -> None:
    type14 = record(14, (2, "01"), (999, b"\x00\x01"), len_delta=-1)
    head = type1((2, 0), (14, 1)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(head + type14 + b"\x00")
    error = only(result, "NIST_LEN_MISMATCH")
    assert error.location.byte_offset == len(head)
    assert result.records == ()


def test_a_tagged_len_beyond_the_end_stops_the_walk() -> None:
    head = type1((2, 0), (14, 1)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(head + record(14, (2, "01"), (999, bytes(50)))[:-5])
    assert only(result, "NIST_LEN_BEYOND_END").location.byte_offset == len(head)


def test_a_tagged_len_shorter_than_its_own_field_stops_the_walk() -> None:
    head = type1((2, 0), (14, 1)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(head + b"14.001:3" + GS + b"14.002:01" + FS)
    assert only(result, "NIST_LEN_INVALID").location.byte_offset == len(head)


# -- the start of the payload --------------------------------------------------------------


def test_an_empty_payload_is_an_error() -> None:
    result = decode(b"")
    assert codes_of(result) == ["NIST_EMPTY"]
    assert result.diagnostics[0].location.byte_offset == 0


@pytest.mark.parametrize(
    "payload", [b"hello world", b"2.001:20" + GS + b"2.002:00" + FS, b"1.002:0502" + FS]
)
def test_a_payload_not_starting_with_a_type1_len_is_an_error_at_zero(payload: bytes) -> None:
    result = decode(payload)
    error = only(result, "NIST_TAG_INVALID")
    assert error.location.byte_offset == 0
    assert result.records == ()


def test_a_second_type1_record_is_an_error_and_no_person_is_built() -> None:
    payload = type1((2, 0), (1, 0)) + record(2, (2, "00"), (18, "DOE,JOHN")) + type1()
    result = decode(payload)
    assert "NIST_TAG_INVALID" in codes_of(result)
    second = next(d for d in result.diagnostics if d.code == "NIST_TAG_INVALID")
    assert second.location.byte_offset == payload.rindex(b"1.001:")
    assert "second Type-1" in second.message
    assert result.records == ()


# -- 1.003 CNT -----------------------------------------------------------------------------


def test_cnt_listing_a_missing_record_is_an_error_at_the_end() -> None:
    payload = type1((2, 0), (4, 1)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(payload)
    error = only(result, "NIST_CNT_MISMATCH")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset == len(payload)
    assert result.records == ()


def test_cnt_with_another_idc_is_an_error_at_the_record() -> None:
    payload = type1((2, 5)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(payload)
    error = only(result, "NIST_CNT_MISMATCH")
    assert error.location.byte_offset == payload.index(b"2.001:")
    assert result.records == ()


def test_cnt_with_another_record_type_is_an_error() -> None:
    payload = type1((14, 0)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(payload)
    assert "Type-14" in only(result, "NIST_CNT_MISMATCH").message
    assert result.records == ()


def test_cnt_saying_binary_where_a_tag_stands_lets_the_tag_win() -> None:
    """The walk goes on by the tag (an ASCII LEN would mean a binary record of 800 MB), and
    the mismatch is reported."""
    payload = type1((4, 0)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(payload)
    assert codes_of(result) == ["NIST_CNT_MISMATCH"]
    walk = read_transaction(payload)
    assert [r.record_type for r in walk.records] == [1, 2]


def test_a_record_not_listed_in_cnt_is_an_error() -> None:
    payload = type1((2, 0)) + record(2, (2, "00"), (18, "DOE,JOHN"))
    extra_offset = len(payload)
    payload += record(2, (2, "01"), (18, "ROE,RICHARD"))
    result = decode(payload)
    error = only(result, "NIST_CNT_MISMATCH")
    assert error.location.byte_offset == extra_offset
    assert result.records == ()


def test_cnt_count_differing_from_its_list_is_a_warning() -> None:
    payload = type1().replace(b"1.003:1\x1f0", b"1.003:1\x1f3")
    result = decode(payload)
    assert only(result, "NIST_CNT_MISMATCH").location.byte_offset == payload.index(b"1.003:")


def test_a_malformed_cnt_is_an_error_and_tagged_records_are_still_walked() -> None:
    payload = type1((2, 0)).replace(b"1.003:1\x1f1\x1e2\x1f00", b"1.003:1\x1f1\x1e2")
    payload = _fix_len(payload, 0) + record(2, (2, "00"), (18, "DOE,JOHN"))
    result = decode(payload)
    error = only(result, "NIST_CNT_INVALID")
    assert error.severity is Severity.ERROR
    assert error.location.byte_offset == payload.index(b"1.003:")
    assert result.records == ()
    walk = read_transaction(payload)
    assert [r.record_type for r in walk.records] == [1, 2]


def test_without_cnt_a_binary_record_cannot_be_walked() -> None:
    payload = record(1, *HEADER) + record(2, (2, "00"), (18, "DOE,JOHN")) + binary(1, b"\x00")
    result = decode(payload)
    assert "NIST_FIELD_MISSING" in codes_of(result)
    error = only(result, "NIST_TAG_INVALID")
    assert error.location.byte_offset == payload.index(b"\x00\x00\x00\x13")
    assert result.records == ()


def test_bytes_after_the_last_listed_record_are_trailing_data() -> None:
    payload = transaction((18, "DOE,JOHN"))
    result = decode(payload + b"\r\n")
    warning = only(result, "NIST_TRAILING_DATA")
    assert warning.location.byte_offset == len(payload)
    assert not result.has_errors


# -- size ----------------------------------------------------------------------------------


def test_a_huge_type2_value_decodes() -> None:
    """Walking is linear: a 4 MB free-text field is read in one pass."""
    text = "A" * (4 * 1024 * 1024)
    result = decode(transaction((18, "DOE,JOHN"), (70, text)))
    assert codes_of(result) == []
    assert len(result.records[0].provenance.nist.unmapped_fields[0].subfields[0].items[0]) == len(
        text
    )


def test_thousands_of_binary_records_are_walked_one_by_one() -> None:
    count = 5000
    entries = [(2, 0)] + [(7, i % 100) for i in range(1, count)]
    payload = type1(*entries) + record(2, (2, "00"), (18, "DOE,JOHN"))
    payload += b"".join(binary(i % 100, b"\x1c", header_size=5) for i in range(1, count))
    result = decode(payload)
    assert family_names(result) == ["DOE"]
    # One info per skipped record, up to the limit per code; the rest are counted.
    assert codes_of(result).count("NIST_RECORD_SKIPPED") == DEFAULT_MAX_PER_CODE
    omitted = only(result, "DIAGNOSTICS_OMITTED")
    assert f"{count - 1 - DEFAULT_MAX_PER_CODE:,} more info" in omitted.message
    assert not result.has_errors


# -- helpers -------------------------------------------------------------------------------


def _fix_len(payload: bytes, start: int) -> bytes:
    """Rewrite the LEN of the text record at ``start`` after an edit to its fields."""
    end = payload.index(FS, start) + 1
    text = payload[start:end]
    head, _, rest = text.partition(GS)
    tag = head[: head.index(b":") + 1]
    body = GS + rest
    for digits in range(1, 10):
        length = len(tag) + digits + len(body)
        if len(str(length)) == digits:
            return payload[:start] + tag + str(length).encode() + body + payload[end:]
    raise AssertionError
