"""Decoding MRZs: the Doc 9303 specimens field by field, and every kind of damage located."""

from __future__ import annotations

import datetime

import pytest

from adapters import DEFAULT_MAX_ERRORS, TOO_MANY_ERRORS
from adapters.base import DecodeResult
from adapters.diagnostics import Diagnostic, Location, Severity
from adapters.icao_mrz import IcaoMrzAdapter
from liaison.rules.validation import validate_record
from liaison.v1 import common_pb2, person_pb2, record_pb2, travel_document_pb2
from tests.adapters.icao_mrz.support import (
    MRV_A,
    MRV_B,
    TD1,
    TD1_LONG_NUMBER,
    TD2,
    TD3,
    adapter,
    authored_td3,
    payload,
    replace,
)

UTO = common_pb2.CountryCode(system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, raw="UTO")
XXX = common_pb2.CountryCode(code="XXX", system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303)
ERIKSSON = common_pb2.Name(type=common_pb2.NAME_TYPE_PRIMARY, family="ERIKSSON", given="ANNA MARIA")


def _date(year: int, month: int = 0, day: int = 0) -> common_pb2.PartialDate:
    return common_pb2.PartialDate(year=year, month=month, day=day)


def _decode(*mrzs: tuple[str, ...]) -> DecodeResult:
    return adapter().decode(payload(*mrzs), source_reference="test.mrz")


def _errors(result: DecodeResult) -> list[tuple[str, int, int]]:
    return [
        (d.code, d.location.line, d.location.column)
        for d in result.diagnostics
        if d.severity is Severity.ERROR
    ]


def _codes(result: DecodeResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def _document(
    mrz_format: travel_document_pb2.MrzFormat.ValueType,
    lines: tuple[str, ...],
    optional_data: list[str],
    **fields: object,
) -> travel_document_pb2.TravelDocument:
    document = travel_document_pb2.TravelDocument(**fields)  # type: ignore[arg-type]
    document.mrz.CopyFrom(
        travel_document_pb2.MachineReadableZone(
            format=mrz_format, lines=lines, optional_data=optional_data, check_digits_valid=True
        )
    )
    return document


ERIKSSON_1974 = {
    "holder_name": ERIKSSON,
    "holder_birth_date": _date(1974, 8, 12),
    "holder_sex": common_pb2.SEX_FEMALE,
    "expiry_date": _date(2012, 4, 15),
    "issuing_state": UTO,
}
SPECIMENS = {
    # Part 4 specimen: positions 1-9 number, 11-13 nationality, 14-19 birth, 21 sex, 22-27
    # expiry, 29-42 personal number, 43 its check digit, 44 composite (Part 4 §4.2.2).
    "TD3": (
        TD3,
        _document(
            travel_document_pb2.MRZ_FORMAT_TD3,
            TD3,
            ["ZE184226B"],
            document_type=travel_document_pb2.DOCUMENT_TYPE_PASSPORT,
            document_code="P<",
            document_number="L898902C3",
            holder_nationality=UTO,
            personal_number="ZE184226B",
            **ERIKSSON_1974,
        ),
    ),
    # Part 5 specimen: number on line 1, dates, sex and nationality on line 2, name on line 3.
    "TD1": (
        TD1,
        _document(
            travel_document_pb2.MRZ_FORMAT_TD1,
            TD1,
            ["", ""],
            document_type=travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
            document_code="I<",
            document_number="D23145890",
            holder_nationality=UTO,
            **ERIKSSON_1974,
        ),
    ),
    # Part 6 specimen.
    "TD2": (
        TD2,
        _document(
            travel_document_pb2.MRZ_FORMAT_TD2,
            TD2,
            [""],
            document_type=travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
            document_code="I<",
            document_number="D23145890",
            holder_nationality=UTO,
            **ERIKSSON_1974,
        ),
    ),
    # Part 7 specimens: nationality XXX (unspecified), born 7 September 1940, the visa expired
    # on 10 December 1996; no composite check digit.
    "MRV-A": (
        MRV_A,
        _document(
            travel_document_pb2.MRZ_FORMAT_MRV_A,
            MRV_A,
            ["6ZE184226B"],
            document_type=travel_document_pb2.DOCUMENT_TYPE_VISA,
            document_code="V<",
            document_number="L8988901C",
            holder_nationality=XXX,
            holder_name=ERIKSSON,
            holder_birth_date=_date(1940, 9, 7),
            holder_sex=common_pb2.SEX_FEMALE,
            expiry_date=_date(1996, 12, 10),
            issuing_state=UTO,
        ),
    ),
    "MRV-B": (
        MRV_B,
        _document(
            travel_document_pb2.MRZ_FORMAT_MRV_B,
            MRV_B,
            [""],
            document_type=travel_document_pb2.DOCUMENT_TYPE_VISA,
            document_code="V<",
            document_number="L8988901C",
            holder_nationality=XXX,
            holder_name=ERIKSSON,
            holder_birth_date=_date(1940, 9, 7),
            holder_sex=common_pb2.SEX_FEMALE,
            expiry_date=_date(1996, 12, 10),
            issuing_state=UTO,
        ),
    ),
    # Part 11 Appendix D.2: a twelve-character number; the check digit position holds < and
    # "734" plus the check digit 9 open the optional data (Part 5 §4.2.2 note).
    "TD1 long number": (
        TD1_LONG_NUMBER,
        _document(
            travel_document_pb2.MRZ_FORMAT_TD1,
            TD1_LONG_NUMBER,
            ["7349", ""],
            document_type=travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
            document_code="I<",
            document_number="D23145890734",
            holder_nationality=UTO,
            holder_name=common_pb2.Name(
                type=common_pb2.NAME_TYPE_PRIMARY, family="STEVENSON", given="PETER JOHN"
            ),
            holder_birth_date=_date(1934, 7, 12),
            holder_sex=common_pb2.SEX_MALE,
            expiry_date=_date(1995, 7, 12),
            issuing_state=UTO,
        ),
    ),
}


@pytest.mark.parametrize("name", SPECIMENS)
def test_the_official_specimens_decode_exactly(name: str) -> None:
    lines, expected = SPECIMENS[name]
    result = _decode(lines)
    assert _errors(result) == []
    document, person = result.records
    assert document.travel_document == expected
    assert person.person == _expected_person(expected)
    assert list(document.links) == [
        record_pb2.Link(type=record_pb2.LINK_TYPE_HOLDER, target_record_id=person.record_id)
    ]
    # Only the fictitious "UTO" is reported, as an unknown code (a warning, no taint).
    assert set(_codes(result)) == {"MRZ_COUNTRY_CODE"}
    assert result.clean == result.records
    for record in result.records:
        assert validate_record(record) == []


def _expected_person(document: travel_document_pb2.TravelDocument) -> person_pb2.Person:
    person = person_pb2.Person(
        names=[document.holder_name], sex=document.holder_sex, birth_date=document.holder_birth_date
    )
    if document.HasField("holder_nationality"):
        person.nationalities.append(document.holder_nationality)
    return person


def test_the_td2_long_number_variant_of_part_11_decodes() -> None:
    result = _decode(
        ("I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<", "D23145890<UTO3407127M95071227349<<<8")
    )
    assert _errors(result) == []
    document = result.records[0].travel_document
    assert document.document_number == "D23145890734"
    assert list(document.mrz.optional_data) == ["7349"]


def test_record_ids_derive_from_the_mrz_and_repeats_are_numbered() -> None:
    first = _decode(TD3, TD1, TD3)
    ids = [record.record_id for record in first.records]
    assert len(set(ids)) == 6
    assert ids[0].startswith("icao-mrz:document:")
    assert ids[1].startswith("icao-mrz:person:")
    again = adapter().decode(b"\r\n".join(line.encode() for line in TD3) + b"  \r\n")
    assert [r.record_id for r in again.records] == ids[:2]
    for record_id in ids:
        for value in ("ERIKSSON", "L898902C3", "740812"):
            assert value not in record_id


def test_the_reference_date_decides_the_century() -> None:
    """A birth year 30 is 1930 until 1 January 2030; expiries at most 20 years ahead."""
    lines = authored_td3(birth="300101", expiry="460101")
    early = IcaoMrzAdapter(today=datetime.date(2029, 12, 31)).decode(payload(lines))
    late = IcaoMrzAdapter(today=datetime.date(2030, 1, 1)).decode(payload(lines))
    for result, birth, expiry in ((early, 1930, 2046), (late, 2030, 2046)):
        assert _errors(result) == []
        document = result.records[0].travel_document
        assert document.holder_birth_date.year == birth
        assert document.expiry_date.year == expiry
    beyond = IcaoMrzAdapter(today=datetime.date(2025, 12, 31)).decode(payload(lines))
    assert beyond.records[0].travel_document.expiry_date.year == 1946


def test_the_default_reference_date_is_today() -> None:
    assert IcaoMrzAdapter().today() == datetime.datetime.now(datetime.UTC).date()
    assert IcaoMrzAdapter(today=datetime.date(2000, 1, 1)).today() == datetime.date(2000, 1, 1)


@pytest.mark.parametrize(
    ("lines", "column_line", "column", "label"),
    [
        # Part 4 §4.2.2: check digits at positions 10, 20, 28, 43 and 44 of line 2.
        ((TD3[0], replace(TD3[1], 10, "7")), 2, 10, "document number"),
        ((TD3[0], replace(TD3[1], 20, "3")), 2, 20, "date of birth"),
        ((TD3[0], replace(TD3[1], 28, "0")), 2, 28, "date of expiry"),
        ((TD3[0], replace(TD3[1], 43, "2")), 2, 43, "personal number"),
        ((TD3[0], replace(TD3[1], 44, "1")), 2, 44, "composite"),
        # Part 5 §4.2.2: line 1 position 15; line 2 positions 7, 15 and 30.
        ((replace(TD1[0], 15, "1"), TD1[1], TD1[2]), 1, 15, "document number"),
        ((TD1[0], replace(TD1[1], 30, "5"), TD1[2]), 2, 30, "composite"),
        # Part 6 §4.2.2: composite at position 36 of line 2.
        ((TD2[0], replace(TD2[1], 36, "0")), 2, 36, "composite"),
        # Part 7: visas have no composite; the expiry check digit is at position 28.
        ((MRV_B[0], replace(MRV_B[1], 28, "1")), 2, 28, "date of expiry"),
        # The long number's check digit sits after the continuation "734".
        ((replace(TD1_LONG_NUMBER[0], 19, "8"), *TD1_LONG_NUMBER[1:]), 1, 19, "document number"),
    ],
)
def test_a_wrong_check_digit_is_an_error_at_its_position_naming_both_records(
    lines: tuple[str, ...], column_line: int, column: int, label: str
) -> None:
    result = _decode(lines)
    wrong = [d for d in result.diagnostics if d.code == "MRZ_CHECK_DIGIT"]
    first = wrong[0]
    assert (first.severity, first.location.line, first.location.column) == (
        Severity.ERROR,
        column_line,
        column,
    )
    assert label in first.message
    assert first.record_ids == tuple(record.record_id for record in result.records)
    assert result.clean == ()
    assert not result.records[0].travel_document.mrz.check_digits_valid


def test_a_changed_field_fails_its_check_digit_and_the_composite() -> None:
    result = _decode((TD3[0], replace(TD3[1], 1, "M")))
    assert _errors(result) == [("MRZ_CHECK_DIGIT", 2, 10), ("MRZ_CHECK_DIGIT", 2, 44)]


def test_an_unused_personal_number_may_have_a_filler_or_zero_check_digit() -> None:
    """Part 4 §4.2.2: with the personal number unused, position 43 may be < or 0."""
    zero = (
        "P<FRASPECIMEN<<CHECK<<<<<<<<<<<<<<<<<<<<<<<<",
        "X000000012FRA7408122F3001019<<<<<<<<<<<<<<02",
    )
    filler = (zero[0], replace(zero[1], 43, "<"))
    for lines in (zero, filler):
        result = _decode(lines)
        assert _errors(result) == []
        assert result.records[0].travel_document.personal_number == ""
    other = (zero[0], replace(zero[1], 43, "7"))
    assert _errors(_decode(other)) == [("MRZ_CHECK_DIGIT", 2, 43), ("MRZ_CHECK_DIGIT", 2, 44)]


def test_a_check_digit_that_is_not_a_digit_is_an_error() -> None:
    result = _decode((TD3[0], replace(TD3[1], 20, "A")))
    assert ("MRZ_CHECK_DIGIT", 2, 20) in _errors(result)
    (error,) = [d for d in result.diagnostics if d.location.column == 20]
    assert "not a digit" in error.message


def test_a_filler_check_digit_without_a_long_number_continuation_is_an_error() -> None:
    result = _decode((replace(TD1[0], 15, "<"), TD1[1], TD1[2]))
    assert ("MRZ_CHECK_DIGIT", 1, 15) in _errors(result)


def test_invalid_characters_are_errors_at_their_positions() -> None:
    lines = (replace(TD2[0], 17, "n"), replace(TD2[1], 3, " "))
    result = _decode(lines)
    assert _errors(result) == [("MRZ_INVALID_CHARACTER", 1, 17), ("MRZ_INVALID_CHARACTER", 2, 3)]
    # Data with an invalid character cannot be verified: no check digit error on top.
    assert "MRZ_CHECK_DIGIT" not in _codes(result)
    assert not result.records[0].travel_document.mrz.check_digits_valid


def test_invalid_utf8_is_an_error_with_its_byte_offset() -> None:
    data = payload(TD3).replace(b"ANNA", b"\xc3NNA")
    result = adapter().decode(data)
    (error,) = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert (error.code, error.location.line, error.location.column) == ("MRZ_INVALID_UTF8", 1, 16)
    assert error.location.byte_offset == data.index(b"\xc3")
    assert result.records[0].travel_document.holder_name.given == "\ufffdNNA MARIA"
    assert result.records[0].SerializeToString()


def test_byte_offsets_count_multibyte_characters_before_the_error() -> None:
    data = ("P<UTOÉRIKSSON" + TD3[0][13:]).encode()[:-1] + b"\n" + TD3[1].encode() + b"\n"
    result = adapter().decode(data)
    (error,) = [d for d in result.diagnostics if d.code == "MRZ_INVALID_CHARACTER"]
    assert (error.location.column, error.location.byte_offset) == (6, 5)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        # A TD3 line one character short: where the missing character would be.
        (payload((TD3[0], TD3[1][:43])), [("MRZ_LINE_LENGTH", 2, 44)]),
        # One character too many: the first character too many.
        (payload((TD3[0] + "<", TD3[1])), [("MRZ_LINE_LENGTH", 1, 45)]),
        # A TD1 cut off in its third line.
        ("\n".join(TD1).encode()[:-18], [("MRZ_LINE_LENGTH", 3, 13)]),
        # A TD1 without its third line.
        (payload(TD1[:2]), [("MRZ_LINE_COUNT", 2, 31)]),
        # A lone line.
        (payload(TD2[1:]), [("MRZ_LINE_COUNT", 1, 37)]),
        # A line of no MRZ width with an invalid byte: both reported.
        (
            b"ABC\xff\n",
            [("MRZ_LINE_LENGTH", 1, 5), ("MRZ_INVALID_UTF8", 1, 4), ("MRZ_LINE_COUNT", 1, 5)],
        ),
    ],
)
def test_wrong_line_lengths_and_counts_are_errors_with_their_location(
    data: bytes, errors: list[tuple[str, int, int]]
) -> None:
    result = adapter().decode(data)
    assert _errors(result) == errors
    assert result.records == ()


def test_a_broken_mrz_does_not_stop_the_next_one() -> None:
    result = _decode((TD3[0], TD3[1][:40]), TD2)
    assert _errors(result) == [("MRZ_LINE_LENGTH", 2, 41)]
    assert result.records[0].travel_document.mrz.lines == list(TD2)
    assert result.tainted_ids == frozenset()


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_a_payload_without_mrz_lines_is_an_error(data: bytes) -> None:
    result = adapter().decode(data)
    assert [d.code for d in result.diagnostics] == ["MRZ_EMPTY"]
    assert result.diagnostics[0].location == Location(byte_offset=0)


def test_invalid_dates_and_sex_are_errors_at_their_fields() -> None:
    lines = (
        "P<ITASPECIMEN<<INVALID<DATE<<<<<<<<<<<<<<<<<",
        "XF00000017ITA7413128Q3001019<<<<<<<<<<<<<<02",
    )
    result = _decode(lines)
    assert _errors(result) == [("MRZ_DATE", 2, 14), ("MRZ_SEX", 2, 21)]
    document = result.records[0].travel_document
    assert not document.HasField("holder_birth_date")
    assert document.holder_sex == common_pb2.SEX_UNSPECIFIED


def test_unknown_birth_date_parts_give_partial_dates() -> None:
    """Part 3 §3.8: fillers stand for the unknown parts of a date of birth."""
    year_only = (
        "P<NLDSPECIMEN<<YEAR<ONLY<<<<<<<<<<<<<<<<<<<<",
        "X000000012NLD74<<<<1F3201015<<<<<<<<<<<<<<00",
    )
    unknown = (
        "P<NLDSPECIMEN<<UNKNOWN<<<<<<<<<<<<<<<<<<<<<<",
        "X000000034NLD<<<<<<0F3201015<<<<<<<<<<<<<<08",
    )
    result = _decode(year_only, unknown)
    assert result.diagnostics == ()
    first, _, second, second_person = result.records
    assert first.travel_document.holder_birth_date == _date(1974)
    assert not second.travel_document.HasField("holder_birth_date")
    assert not second_person.person.HasField("birth_date")
    for record in result.records:
        assert validate_record(record) == []


@pytest.mark.parametrize(
    ("letter", "sex"),
    [
        ("X", common_pb2.SEX_X),
        ("<", common_pb2.SEX_UNSPECIFIED),
        ("F", common_pb2.SEX_FEMALE),
        ("M", common_pb2.SEX_MALE),
    ],
)
def test_sex(letter: str, sex: common_pb2.Sex.ValueType) -> None:
    """Part 3: F, M, X (unspecified) or < (not stated); the sex is outside every check digit."""
    result = _decode(authored_td3(sex=letter))
    assert _errors(result) == []
    document, person = result.records
    assert document.travel_document.holder_sex == sex
    assert person.person.sex == sex


def test_special_codes_map_to_icao9303() -> None:
    lines = (
        "P<D<<SPECIMEN<<GERMANY<<<<<<<<<<<<<<<<<<<<<<",
        "C01X00T478D<<8308126F3101012<<<<<<<<<<<<<<04",
    )
    result = _decode(lines)
    assert result.diagnostics == ()
    document = result.records[0].travel_document
    germany = common_pb2.CountryCode(
        code="D", system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, raw="D<<"
    )
    assert document.issuing_state == germany
    assert document.holder_nationality == germany
    assert list(result.records[1].person.nationalities) == [germany]


def test_empty_fields() -> None:
    result = _decode(
        ("I<ESP<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<", "<<<<<<<<<0ESP8001014M3001019<<<<<<<2")
    )
    assert _errors(result) == [("MRZ_FIELD_EMPTY", 1, 6), ("MRZ_FIELD_EMPTY", 2, 1)]
    no_state = (replace(replace(replace(TD2[0], 3, "<"), 4, "<"), 5, "<"), TD2[1])
    assert ("MRZ_FIELD_EMPTY", 1, 3) in _errors(_decode(no_state))
    no_nationality = (TD2[0], TD2[1][:10] + "<<<" + TD2[1][13:])
    warnings = [d for d in _decode(no_nationality).diagnostics if d.code == "MRZ_FIELD_EMPTY"]
    assert [d.severity for d in warnings] == [Severity.WARNING]


def test_a_document_code_foreign_to_the_layout_is_a_warning() -> None:
    """Part 5 §4.2.2: a TD1 document code starts with A, C or I."""
    lines = (replace(TD1[0], 1, "P"), TD1[1], TD1[2])
    result = _decode(lines)
    (warning,) = [d for d in result.diagnostics if d.code == "MRZ_DOCUMENT_CODE"]
    assert (warning.severity, warning.location.line, warning.location.column) == (
        Severity.WARNING,
        1,
        1,
    )
    assert result.records[0].travel_document.document_type == (
        travel_document_pb2.DOCUMENT_TYPE_PASSPORT
    )


def test_a_name_filling_its_field_may_be_truncated() -> None:
    lines = (
        "P<BELVANDERBERGHE<DE<LA<CRUZ<<MARIA<ANTONIET",
        "XT00000019BEL8511113F3001019<<<<<<<<<<<<<<04",
    )
    result = _decode(lines)
    (info,) = result.diagnostics
    assert (info.severity, info.code, info.location.line, info.location.column) == (
        Severity.INFO,
        "MRZ_NAME_TRUNCATED",
        1,
        44,
    )
    assert result.clean == result.records


def test_messages_carry_no_personal_data() -> None:
    damaged = [
        (TD3[0], replace(TD3[1], 10, "7")),
        (replace(TD2[0], 17, "n"), TD2[1]),
        (
            "P<ITASPECIMEN<<INVALID<DATE<<<<<<<<<<<<<<<<<",
            "XF00000017ITA7413128Q3001019<<<<<<<<<<<<<<02",
        ),
    ]
    result = _decode(*damaged)
    personal = ("ERIKSSON", "ANNA", "L898902C3", "D23145890", "740812", "741312", "SPECIMEN")
    for diagnostic in result.diagnostics:
        for value in personal:
            assert value not in diagnostic.message


def test_decoding_stops_after_too_many_errors() -> None:
    data = b"<\n\n" * (DEFAULT_MAX_ERRORS + 50)
    result = adapter().decode(data)
    assert result.count(Severity.ERROR) == DEFAULT_MAX_ERRORS + 1
    last: Diagnostic = result.diagnostics[-1]
    assert last.code == TOO_MANY_ERRORS
    # It stopped where the first error it did not list is.
    unlimited = adapter().configured(max_errors=10 * DEFAULT_MAX_ERRORS).decode(data)
    errors = [d for d in unlimited.diagnostics if d.severity is Severity.ERROR]
    assert last.location == errors[DEFAULT_MAX_ERRORS].location


def test_a_huge_line_decodes_to_errors_quickly() -> None:
    result = adapter().decode(b"P" * 3_000_000 + b"\xff")
    assert _codes(result) == ["MRZ_LINE_LENGTH", "MRZ_INVALID_UTF8", "MRZ_LINE_COUNT"]
