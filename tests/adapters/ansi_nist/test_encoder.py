"""Encoding: Type-1 and Type-2 records with exact LEN, consistent CNT, DCS, and what is refused."""

from __future__ import annotations

import pytest

from adapters.ansi_nist import AnsiNistAdapter
from adapters.ansi_nist.encoder import with_length
from adapters.base import DecodeResult, EncodeResult
from adapters.diagnostics import Diagnostic, Severity
from liaison.v1 import common_pb2, nist_pb2, record_pb2
from tests.adapters.ansi_nist.build import FS, GS, HEADER, content, record

ADAPTER = AnsiNistAdapter()


def header() -> nist_pb2.NistTransactionHeader:
    return nist_pb2.NistTransactionHeader(
        version="0502",
        transaction_type="MPR",
        date="20240315",
        destination_agency="IPSG00000",
        originating_agency="FRINTPOL0",
        control_number="TCN-0001",
        native_scanning_resolution="00.00",
        nominal_transmitting_resolution="00.00",
    )


def person_record(
    family: str = "DOE",
    given: str = "JOHN",
    *,
    idc: int | None = 0,
    transaction: nist_pb2.NistTransactionHeader | None = None,
) -> record_pb2.Record:
    record = record_pb2.Record(record_id="person-1")
    record.person.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family=family, given=given)
    if idc is not None:
        record.provenance.nist.idc = idc
        record.provenance.nist.header.CopyFrom(transaction or header())
    return record


def only(result: EncodeResult | DecodeResult, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [str(d) for d in result.diagnostics]
    return found[0]


def round_trip(*records: record_pb2.Record) -> tuple[EncodeResult, DecodeResult]:
    encoded = ADAPTER.encode(records)
    return encoded, ADAPTER.decode(encoded.payload)


# -- LEN and CNT ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 80, 84, 85, 86, 90, 979, 980, 985, 990, 9985, 9990])
def test_len_is_the_fixed_point_of_a_length_counting_its_own_digits(size: int) -> None:
    """Sizes around 99/100, 999/1000 and 9999/10000 bytes, where LEN gains a digit."""
    field = b"2.070:" + b"A" * size
    written = with_length(2, [field])
    length = int(written[len(b"2.001:") : written.index(GS)])
    assert length == len(written)
    assert written.endswith(field + FS)


def test_a_transaction_is_written_exactly_as_the_standard_lays_it_out() -> None:
    """Compared byte for byte with a transaction built independently (tests/.../build.py)."""
    encoded = ADAPTER.encode([person_record()])
    assert encoded.diagnostics == ()
    expected = record(1, HEADER[0], (3, content((2, 0))), *HEADER[1:]) + record(
        2, (2, "00"), (18, "DOE,JOHN")
    )
    assert encoded.payload == expected


def test_cnt_lists_every_type2_record_with_its_idc() -> None:
    records = [person_record("DOE", "JOHN", idc=3), person_record("ROE", "RICHARD", idc=7)]
    encoded, decoded = round_trip(*records)
    assert b"1.003:1\x1f2\x1e2\x1f03\x1e2\x1f07\x1d" in encoded.payload
    assert decoded.diagnostics == ()
    assert [r.provenance.nist.idc for r in decoded.records] == [3, 7]


def test_duplicate_idcs_are_reassigned_with_a_warning() -> None:
    records = [person_record(idc=0), person_record("ROE", "R", idc=0)]
    encoded, decoded = round_trip(*records)
    warning = only(encoded, "NIST_IDC_REASSIGNED")
    assert warning.record_ids == ("person-1",)
    assert [r.provenance.nist.idc for r in decoded.records] == [0, 1]


def test_records_without_nist_source_get_free_idcs_and_a_default_header() -> None:
    encoded, decoded = round_trip(person_record(idc=None), person_record("ROE", "R", idc=None))
    error = only(encoded, "NIST_HEADER_INCOMPLETE")
    assert error.severity is Severity.ERROR
    for mnemonic in ("TOT", "DAT", "DAI", "ORI", "TCN"):
        assert mnemonic in error.message
    assert b"1.002:0502\x1d1.003:1\x1f2\x1e2\x1f00\x1e2\x1f01\x1d" in encoded.payload
    assert b"1.011:00.00\x1d1.012:00.00" in encoded.payload
    # Decoding agrees: a Type-1 record without its mandatory fields is invalid, no person.
    assert {d.code for d in decoded.diagnostics} == {"NIST_FIELD_MISSING"}
    assert decoded.records == ()


def test_records_of_another_transaction_are_reported() -> None:
    other = header()
    other.control_number = "TCN-0002"
    records = [person_record(), person_record("ROE", "R", idc=1, transaction=other)]
    encoded, decoded = round_trip(*records)
    only(encoded, "NIST_HEADER_CONFLICT")
    assert {r.provenance.nist.header.control_number for r in decoded.records} == {"TCN-0001"}


def test_records_that_are_not_persons_are_not_written() -> None:
    vehicle = record_pb2.Record(record_id="vehicle-1")
    vehicle.vehicle.SetInParent()
    encoded, decoded = round_trip(vehicle, person_record())
    warning = only(encoded, "NIST_NOT_CARRIED")
    assert warning.record_ids == ("vehicle-1",)
    assert len(decoded.records) == 1


def test_no_person_gives_a_type1_only_transaction() -> None:
    encoded = ADAPTER.encode([])
    only(encoded, "NIST_NO_DESCRIPTIVE_TEXT")
    # Without a person there is no header to write either: the Type-1 record is incomplete.
    assert only(encoded, "NIST_HEADER_INCOMPLETE").severity is Severity.ERROR
    assert encoded.payload.startswith(b"1.001:")
    assert b"1.003:1\x1f0\x1d" in encoded.payload
    decoded = ADAPTER.decode(encoded.payload)
    assert decoded.records == ()
    assert {d.code for d in decoded.diagnostics} == {"NIST_FIELD_MISSING"}


# -- the header ----------------------------------------------------------------------------


def test_every_header_field_is_written_back() -> None:
    written = header()
    written.priority = 2
    written.control_reference = "REF"
    written.domain.extend(["INT-I", "6.0"])
    written.gmt = "20240315101500Z"
    written.character_sets.add().items.extend(["000", "ASCII"])
    written.other_fields.add(record_type=1, field_number=17).subfields.add().items.extend(
        ["A", "B"]
    )
    _, decoded = round_trip(person_record(transaction=written))
    assert decoded.diagnostics == ()
    assert decoded.records[0].provenance.nist.header == written


def test_kept_len_or_cnt_fields_are_not_copied() -> None:
    written = header()
    written.other_fields.add(record_type=1, field_number=3).subfields.add().items.append("1")
    encoded, decoded = round_trip(person_record(transaction=written))
    only(encoded, "NIST_NOT_CARRIED")
    assert decoded.diagnostics == ()


def test_a_non_ascii_header_value_is_an_error() -> None:
    written = header()
    written.originating_agency = "ÉTAT"
    encoded = ADAPTER.encode([person_record(transaction=written)])
    assert only(encoded, "NIST_TYPE1_NOT_ASCII").severity is Severity.ERROR
    assert b"1.008:?TAT" in encoded.payload


# -- character encoding --------------------------------------------------------------------


def test_ascii_text_needs_no_dcs() -> None:
    encoded = ADAPTER.encode([person_record()])
    assert b"1.015:" not in encoded.payload


def test_non_ascii_text_is_written_in_utf8_and_declared() -> None:
    encoded, decoded = round_trip(person_record("ИВАНОВ", "ИВАН"))
    assert b"1.015:003\x1fUTF-8\x1c" in encoded.payload
    assert "ИВАНОВ,ИВАН".encode() in encoded.payload
    assert decoded.diagnostics == ()
    assert decoded.records[0].person.names[0].family == "ИВАНОВ"


def test_a_declared_8bit_latin_is_used_when_it_can_hold_the_text() -> None:
    written = header()
    written.character_sets.add().items.extend(["001", "LATIN"])
    encoded, decoded = round_trip(person_record("GARÇON", "ANAÏS", transaction=written))
    assert "GARÇON,ANAÏS".encode("latin-1") in encoded.payload
    assert decoded.diagnostics == ()
    assert decoded.records[0].person.names[0].family == "GARÇON"


def test_a_declared_8bit_latin_gains_utf8_for_text_beyond_it() -> None:
    written = header()
    written.character_sets.add().items.extend(["001", "LATIN"])
    _, decoded = round_trip(person_record("ИВАНОВ", "ИВАН", transaction=written))
    sets = decoded.records[0].provenance.nist.header.character_sets
    assert [list(s.items) for s in sets] == [["001", "LATIN"], ["003", "UTF-8"]]
    assert decoded.records[0].person.names[0].family == "ИВАНОВ"


# -- what cannot be written ----------------------------------------------------------------


@pytest.mark.parametrize("character", ["\x1c", "\x1d", "\x1e", "\x1f", "\x02", "\x03"])
def test_separators_in_data_are_errors_and_removed(character: str) -> None:
    encoded, decoded = round_trip(person_record("DO" + character + "E"))
    error = only(encoded, "NIST_SEPARATOR_IN_DATA")
    assert error.severity is Severity.ERROR
    assert error.record_ids == ("person-1",)
    assert decoded.diagnostics == ()
    assert decoded.records[0].person.names[0].family == "DOE"


def test_separators_in_kept_fields_are_errors_too() -> None:
    person = person_record()
    person.provenance.nist.unmapped_fields.add(
        record_type=2, field_number=70
    ).subfields.add().items.append("A\x1dB")
    encoded, decoded = round_trip(person)
    only(encoded, "NIST_SEPARATOR_IN_DATA")
    kept = decoded.records[0].provenance.nist.unmapped_fields
    assert [list(s.items) for s in kept[0].subfields] == [["AB"]]


def test_a_family_name_with_a_comma_cannot_be_written_unambiguously() -> None:
    encoded, decoded = round_trip(person_record("DOE,SMITH", "JOHN"))
    assert only(encoded, "NIST_NAME_UNREPRESENTABLE").severity is Severity.ERROR
    assert decoded.records[0].person.names[0].family == "DOE SMITH"


def test_an_unsplit_name_with_a_comma_is_a_warning() -> None:
    person = person_record()
    del person.person.names[:]
    person.person.names.add(type=common_pb2.NAME_TYPE_PRIMARY, full="DOE, JOHN")
    encoded = ADAPTER.encode([person])
    assert only(encoded, "NIST_NAME_UNREPRESENTABLE").severity is Severity.WARNING


def test_middle_names_are_written_with_the_given_names() -> None:
    person = person_record()
    person.person.names[0].middle = "PAUL"
    encoded, decoded = round_trip(person)
    assert "middle" in only(encoded, "NIST_NOT_CARRIED").message
    assert decoded.records[0].person.names[0].given == "JOHN PAUL"


def test_the_primary_name_is_written_first_whatever_its_position() -> None:
    person = person_record()
    person.person.names[0].type = common_pb2.NAME_TYPE_ALIAS
    person.person.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family="ROE", given="R")
    _, decoded = round_trip(person)
    assert [(n.type, n.family) for n in decoded.records[0].person.names] == [
        (common_pb2.NAME_TYPE_PRIMARY, "ROE"),
        (common_pb2.NAME_TYPE_ALIAS, "DOE"),
    ]


def test_person_fields_without_a_type2_place_are_reported() -> None:
    person = person_record()
    person.person.occupation = "x"
    person.person.identifiers.add(scheme="FBI_NUMBER", value="1")
    person.person.residence_country.code = "FRA"
    person.person.birth_place.name = "LYON"
    person.person.addresses.add(city="LYON")
    person.handling.code = record_pb2.HANDLING_CODE_H1
    encoded = ADAPTER.encode([person])
    warning = only(encoded, "NIST_NOT_CARRIED")
    for name in (
        "occupation",
        "identifiers",
        "residence_country",
        "birth_place.name",
        "addresses",
        "handling",
    ):
        assert name in warning.message


def test_a_name_qualification_is_reported_not_written() -> None:
    person = person_record()
    person.person.names[0].qualification = "Good quality a.k.a."
    encoded, decoded = round_trip(person)
    assert "qualification" in only(encoded, "NIST_NOT_CARRIED").message
    assert decoded.records[0].person.names[0].qualification == ""


def test_an_invalid_birth_date_is_not_written() -> None:
    person = person_record()
    person.person.birth_date.CopyFrom(common_pb2.PartialDate(year=1981, month=2, day=29))
    encoded, decoded = round_trip(person)
    assert only(encoded, "NIST_DATE_INVALID").severity is Severity.ERROR
    assert not decoded.records[0].person.HasField("birth_date")


def test_kept_fields_numbered_like_len_or_idc_are_not_written() -> None:
    person = person_record()
    kept = person.provenance.nist.unmapped_fields.add(record_type=2, field_number=2)
    kept.subfields.add().items.append("AB")
    encoded, decoded = round_trip(person)
    only(encoded, "NIST_NOT_CARRIED")
    assert decoded.diagnostics == ()


def test_more_than_100_persons_cannot_all_get_an_idc() -> None:
    records = [person_record(idc=None) for _ in range(101)]
    records[0].provenance.nist.header.CopyFrom(header())
    encoded = ADAPTER.encode(records)
    assert only(encoded, "NIST_IDC_INVALID").severity is Severity.ERROR
    assert len(ADAPTER.decode(encoded.payload).records) == 100
