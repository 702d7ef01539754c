"""Type-2 fields -> ``Person`` with the FBI EBTS numbering (2.018 NAM ... 2.024 SEX), and DCS.

EBTS: 2.018 NAM ``SURNAME,GIVEN NAMES``; 2.019 AKA, one name per subfield; 2.020 POB; 2.021 CTZ,
one code per subfield; 2.022 DOB ``CCYYMMDD``, one per subfield; 2.024 SEX. ANSI/NIST-ITL 1-2011
Section 8.2: 2.001 LEN and 2.002 IDC first, other fields user-defined and kept verbatim here.
Character encoding: 1-2011 Table 4 and Field 1.015 DCS.
"""

from __future__ import annotations

import pytest

from adapters.ansi_nist import AnsiNistAdapter
from adapters.ansi_nist.person import parse_country, parse_date, parse_name
from adapters.base import DecodeResult
from adapters.diagnostics import Diagnostic, Severity
from liaison.rules.validation import validate_record
from liaison.v1 import common_pb2, person_pb2
from tests.adapters.ansi_nist.build import Value, record, transaction, type1

ADAPTER = AnsiNistAdapter()


def decode(*fields: tuple[int, Value]) -> DecodeResult:
    return ADAPTER.decode(transaction(*fields))


def person_of(result: DecodeResult) -> person_pb2.Person:
    (only_record,) = result.records
    return only_record.person


def only(result: DecodeResult, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [str(d) for d in result.diagnostics]
    return found[0]


def kept(result: DecodeResult) -> list[tuple[int, list[list[str]]]]:
    fields = result.records[0].provenance.nist.unmapped_fields
    return [(f.field_number, [list(s.items) for s in f.subfields]) for f in fields]


# -- 2.018 NAM and 2.019 AKA ---------------------------------------------------------------


def test_nam_splits_at_the_comma_into_family_and_given_names() -> None:
    result = decode((18, "SMITH,JANE ANN"))
    assert result.diagnostics == ()
    (name,) = person_of(result).names
    assert (name.type, name.family, name.given, name.full) == (
        common_pb2.NAME_TYPE_PRIMARY,
        "SMITH",
        "JANE ANN",
        "",
    )
    assert validate_record(result.records[0]) == []


@pytest.mark.parametrize(
    ("text", "family", "given"),
    [
        ("DOE, JOHN", "DOE", "JOHN"),
        ("  VAN DER BERG ,  ANNA   MARIA ", "VAN DER BERG", "ANNA MARIA"),
        ("DOE,", "DOE", ""),
        (",JOHN", "", "JOHN"),
        ("DOE,JOHN,JR", "DOE", "JOHN,JR"),
    ],
)
def test_name_splitting(text: str, family: str, given: str) -> None:
    name, comma = parse_name(text, common_pb2.NAME_TYPE_PRIMARY)
    assert comma
    assert name is not None
    assert (name.family, name.given) == (family, given)


def test_a_name_without_a_comma_is_read_whole_with_a_warning() -> None:
    result = decode((18, "JOHN  DOE"))
    warning = only(result, "NIST_NAME_FORMAT")
    assert warning.severity is Severity.WARNING
    assert warning.location.byte_offset == transaction((18, "JOHN  DOE")).index(b"JOHN")
    (name,) = person_of(result).names
    assert (name.family, name.given, name.full) == ("", "", "JOHN DOE")
    assert kept(result) == []


def test_an_empty_name_is_kept_verbatim_and_the_person_has_no_name() -> None:
    result = decode((18, " , "))
    assert only(result, "NIST_NAME_FORMAT").severity is Severity.WARNING
    assert only(result, "NIST_NAME_MISSING").severity is Severity.WARNING
    assert result.tainted_ids == frozenset()
    assert kept(result) == [(18, [[" , "]])]


def test_a_type2_without_any_name_is_a_warning_and_the_person_is_valid() -> None:
    """1-2011 Section 8.2 leaves Type-2 content to the domain: a name is not required. The
    person is identified by its transaction (``Provenance.nist``), and the gateway stores it."""
    result = decode((24, "M"), (22, "19800101"))
    warning = only(result, "NIST_NAME_MISSING")
    assert warning.severity is Severity.WARNING
    assert warning.record_ids == (result.records[0].record_id,)
    assert not result.has_errors
    person = person_of(result)
    assert person.sex == common_pb2.SEX_MALE
    assert not person.names
    assert validate_record(result.records[0]) == []


def test_a_type2_with_nothing_but_its_idc_is_still_a_valid_person() -> None:
    """Nothing but 2.001 and 2.002: the Type-2 record still stands for the subject of the
    transaction's biometric records, so the person record is valid without a name."""
    result = decode()
    assert [d.code for d in result.diagnostics] == ["NIST_NAME_MISSING"]
    assert validate_record(result.records[0]) == []


def test_aliases_follow_the_primary_name_whatever_the_field_order() -> None:
    result = decode((19, [["SMYTHE,JANE"], ["SMITH,JEAN"]]), (18, "SMITH,JANE"))
    names = person_of(result).names
    assert [(n.type, n.family, n.given) for n in names] == [
        (common_pb2.NAME_TYPE_PRIMARY, "SMITH", "JANE"),
        (common_pb2.NAME_TYPE_ALIAS, "SMYTHE", "JANE"),
        (common_pb2.NAME_TYPE_ALIAS, "SMITH", "JEAN"),
    ]


def test_aliases_alone_give_the_person_a_name() -> None:
    result = decode((19, "DOE,J"))
    assert not result.has_errors
    assert [n.type for n in person_of(result).names] == [common_pb2.NAME_TYPE_ALIAS]


def test_an_alias_field_with_an_empty_subfield_is_kept_verbatim() -> None:
    result = decode((18, "DOE,JOHN"), (19, [["DOE,J"], [""]]))
    only(result, "NIST_NAME_FORMAT")
    assert len(person_of(result).names) == 1
    assert kept(result) == [(19, [["DOE,J"], [""]])]


def test_a_nam_with_two_items_is_kept_verbatim() -> None:
    result = decode((18, [["DOE", "JOHN"]]), (19, "DOE,J"))
    only(result, "NIST_FIELD_STRUCTURE")
    assert kept(result) == [(18, [["DOE", "JOHN"]])]


def test_a_second_nam_is_kept_verbatim() -> None:
    result = decode((18, "DOE,JOHN"), (18, "ROE,RICHARD"))
    warning = only(result, "NIST_DUPLICATE_FIELD")
    assert warning.location.byte_offset == transaction((18, "DOE,JOHN"), (18, "ROE,RICHARD")).index(
        b"2.018:ROE"
    )
    assert [n.family for n in person_of(result).names] == ["DOE"]
    assert kept(result) == [(18, [["ROE,RICHARD"]])]


# -- 2.020 POB and 2.021 CTZ ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "system", "raw"),
    [
        ("FRA", "FRA", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, ""),
        ("fra", "FRA", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "fra"),
        ("FR", "FRA", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "FR"),
        ("XXA", "XXA", common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, ""),
        ("D", "D", common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, ""),
        ("914", "", common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, "914"),
        ("QQ", "", common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, "QQ"),
    ],
)
def test_country_codes(text: str, code: str, system: int, raw: str) -> None:
    country = parse_country(text)
    assert country is not None
    assert (country.code, country.system, country.raw) == (code, system, raw)


def test_pob_is_the_birth_place_country() -> None:
    result = decode((18, "DOE,JOHN"), (20, "DE"))
    country = person_of(result).birth_place.country
    assert (country.code, country.raw) == ("DEU", "DE")
    assert validate_record(result.records[0]) == []


def test_an_empty_pob_is_kept_verbatim() -> None:
    result = decode((18, "DOE,JOHN"), (20, ""))
    assert only(result, "NIST_COUNTRY_CODE").severity is Severity.WARNING
    assert not person_of(result).HasField("birth_place")
    assert kept(result) == [(20, [[""]])]


def test_ctz_subfields_are_the_nationalities_in_order() -> None:
    result = decode((18, "DOE,JOHN"), (21, [["GBR"], ["IE"], ["914"]]))
    nationalities = person_of(result).nationalities
    assert [(c.code, c.raw) for c in nationalities] == [("GBR", ""), ("IRL", "IE"), ("", "914")]
    assert validate_record(result.records[0]) == []


def test_ctz_with_two_items_in_a_subfield_is_kept_verbatim() -> None:
    result = decode((18, "DOE,JOHN"), (21, [["FRA", "DEU"]]))
    only(result, "NIST_FIELD_STRUCTURE")
    assert not person_of(result).nationalities


# -- 2.022 DOB -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("19800229", (1980, 2, 29)),
        ("19750300", (1975, 3, 0)),
        ("19760000", (1976, 0, 0)),
        ("00010101", (1, 1, 1)),
    ],
)
def test_birth_dates(text: str, date: tuple[int, int, int]) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert (parsed.year, parsed.month, parsed.day) == date


@pytest.mark.parametrize(
    "text",
    [
        "19810229",
        "19801345",
        "19800015",
        "00000101",
        "1980-2-1",
        "1980022",
        "\uff11\uff19\uff18\uff10\uff10\uff12\uff12\uff19",
    ],
)
def test_invalid_birth_dates(text: str) -> None:
    assert parse_date(text) is None


def test_dob_subfields_are_the_birth_date_then_alternatives() -> None:
    result = decode((18, "DOE,JOHN"), (22, [["19750312"], ["19750300"], ["19760000"]]))
    person = person_of(result)
    assert (person.birth_date.year, person.birth_date.month, person.birth_date.day) == (1975, 3, 12)
    assert [(d.year, d.month, d.day) for d in person.alternative_birth_dates] == [
        (1975, 3, 0),
        (1976, 0, 0),
    ]
    assert validate_record(result.records[0]) == []


def test_a_dob_field_with_one_invalid_date_is_kept_verbatim_whole() -> None:
    result = decode((18, "DOE,JOHN"), (22, [["19800229"], ["19801345"]]))
    warning = only(result, "NIST_DATE_INVALID")
    assert warning.location.segment_index == 1
    assert not person_of(result).HasField("birth_date")
    assert kept(result) == [(22, [["19800229"], ["19801345"]])]


# -- 2.024 SEX -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "sex"),
    [("M", common_pb2.SEX_MALE), ("F", common_pb2.SEX_FEMALE), ("X", common_pb2.SEX_X)],
)
def test_sex_codes(code: str, sex: int) -> None:
    result = decode((18, "DOE,JOHN"), (24, code))
    assert result.diagnostics == ()
    assert person_of(result).sex == sex


def test_sex_unknown_is_kept_verbatim_without_a_warning() -> None:
    result = decode((18, "DOE,JOHN"), (24, "U"))
    assert result.diagnostics == ()
    assert person_of(result).sex == common_pb2.SEX_UNSPECIFIED
    assert kept(result) == [(24, [["U"]])]


def test_another_sex_code_is_a_warning_and_kept() -> None:
    result = decode((18, "DOE,JOHN"), (24, "m"))
    assert only(result, "NIST_SEX_CODE").severity is Severity.WARNING
    assert kept(result) == [(24, [["m"]])]


# -- 2.002 IDC and unmapped fields ---------------------------------------------------------


@pytest.mark.parametrize(("text", "idc"), [("00", 0), ("7", 7), ("99", 99)])
def test_idc(text: str, idc: int) -> None:
    result = ADAPTER.decode(type1((2, idc)) + record(2, (2, text), (18, "DOE,JOHN")))
    assert result.diagnostics == ()
    assert result.records[0].provenance.nist.idc == idc


@pytest.mark.parametrize("text", ["A", "", "-1", "7.5"])
def test_an_invalid_idc_is_an_error_and_kept(text: str) -> None:
    result = ADAPTER.decode(type1((2, 0)) + record(2, (2, text), (18, "DOE,JOHN")))
    error = only(result, "NIST_IDC_INVALID")
    assert error.severity is Severity.ERROR
    assert error.record_ids == (result.records[0].record_id,)
    assert kept(result) == [(2, [[text]])]


def test_an_idc_above_99_does_not_match_any_cnt_entry() -> None:
    """CNT lists IDCs 0-99 (Section 8.1.3): a record whose IDC is 100 is not the one listed."""
    result = ADAPTER.decode(type1((2, 0)) + record(2, (2, "100"), (18, "DOE,JOHN")))
    assert only(result, "NIST_CNT_MISMATCH").severity is Severity.ERROR
    assert result.records == ()


def test_a_type2_without_idc_is_an_error() -> None:
    result = ADAPTER.decode(type1((2, 0)) + record(2, (18, "DOE,JOHN")))
    error = only(result, "NIST_FIELD_MISSING")
    assert "2.002" in error.message
    assert error.severity is Severity.ERROR
    assert "NIST_FIELD_ORDER" in [d.code for d in result.diagnostics]


def test_unknown_fields_are_kept_verbatim_ordered_by_number() -> None:
    result = decode(
        (84, [["07", "XX"], ["08", "UP"]]),
        (18, "DOE,JOHN"),
        (5, "N"),
        (70, [["", ""], [""]]),
        (9, "CASE-1"),
    )
    assert result.diagnostics == ()
    assert kept(result) == [
        (5, [["N"]]),
        (9, [["CASE-1"]]),
        (70, [["", ""], [""]]),
        (84, [["07", "XX"], ["08", "UP"]]),
    ]
    assert all(f.record_type == 2 for f in result.records[0].provenance.nist.unmapped_fields)


# -- character encoding (1.015 DCS) --------------------------------------------------------


def dcs_transaction(dcs: list[list[str]] | None, *fields: tuple[int, Value]) -> bytes:
    extra: tuple[tuple[int, Value], ...] = ((15, dcs),) if dcs is not None else ()
    return type1((2, 0), extra=extra) + record(2, (2, "00"), *fields)


def test_utf8_text_is_read_when_dcs_declares_003() -> None:
    payload = dcs_transaction([["003", "UTF-8"]], (18, "ИВАНОВ,ИВАН"), (70, "Ж"))
    result = ADAPTER.decode(payload)
    assert result.diagnostics == ()
    name = person_of(result).names[0]
    assert (name.family, name.given) == ("ИВАНОВ", "ИВАН")
    assert kept(result) == [(70, [["Ж"]])]


def test_8bit_latin_text_is_read_when_dcs_declares_001() -> None:
    payload = dcs_transaction([["001", "LATIN"]], (18, "GARÇON,ANAÏS".encode("latin-1")))
    result = ADAPTER.decode(payload)
    assert result.diagnostics == ()
    assert person_of(result).names[0].family == "GARÇON"


def test_with_utf8_and_latin_declared_utf8_is_tried_first() -> None:
    payload = dcs_transaction(
        [["1", "LATIN"], ["3", "UTF-8"]],
        (18, "MÜLLER,JÜRGEN"),
        (19, "GARÇON,ANAÏS".encode("latin-1")),
    )
    result = ADAPTER.decode(payload)
    assert result.diagnostics == ()
    assert [n.family for n in person_of(result).names] == ["MÜLLER", "GARÇON"]


def test_8bit_text_without_dcs_is_an_error_at_the_field_value() -> None:
    """Without DCS the default is 7-bit ASCII (Annex A.1): a byte above 0x7F is not text."""
    payload = dcs_transaction(None, (18, "GARÇON,ANAÏS".encode("latin-1")))
    result = ADAPTER.decode(payload)
    error = only(result, "NIST_TEXT_ENCODING")
    assert error.location.byte_offset == payload.index(b"GAR")
    assert result.tainted_ids == {result.records[0].record_id}


def test_invalid_utf8_is_an_error_when_only_utf8_is_declared() -> None:
    payload = dcs_transaction([["003", "UTF-8"]], (18, b"DOE,J\xff\xfeN"))
    result = ADAPTER.decode(payload)
    assert only(result, "NIST_TEXT_ENCODING").severity is Severity.ERROR
    assert "\ufffd" in person_of(result).names[0].given


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            18,
            "DO\x00E,JOHN",
            "field 2.018: an information item must not contain U+0000 "
            "(a control character) at position 2",
        ),
        (
            18,
            "DOE,\u202eNHOJ",
            "field 2.018: an information item must not contain U+202E "
            "(an invisible bidi override or isolate) at position 4",
        ),
        (
            20,
            "LYON\nFRANCE",
            "field 2.020: an information item must not contain U+000A "
            "(a control character) at position 4",
        ),
        (
            19,
            [["SMITH,JOHN"], ["SMITH,\x1bJ"]],
            "field 2.019: an information item must not "
            "contain U+001B (a control character) at position 6",
        ),
        (
            300,
            "remark\x07",
            "field 2.300: an information item must not contain U+0007 "
            "(a control character) at position 6",
        ),
    ],
)
def test_a_control_character_in_type2_is_an_error_naming_the_person(
    field: int, value: Value, message: str
) -> None:
    """Before: the name with a NUL became the person's name, which the gateway refuses."""
    result = decode((18, "DOE,JOHN"), (field, value)) if field != 18 else decode((18, value))
    error = only(result, "FORBIDDEN_CHARACTER")
    assert (error.severity, error.message) == (Severity.ERROR, message)
    assert error.location.segment_index == 1  # the Type-2 record
    assert error.location.byte_offset is not None
    assert error.record_ids == (result.records[0].record_id,)
    assert result.clean == ()


def test_lines_in_a_field_kept_verbatim_are_free_text() -> None:
    result = decode((18, "DOE,JOHN"), (300, "first line\r\nsecond\tline"))
    assert [d.code for d in result.diagnostics] == []
    [record] = result.clean
    assert validate_record(record) == []
