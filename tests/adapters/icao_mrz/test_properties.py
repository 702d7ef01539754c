"""Property-based tests: records -> encode -> decode for all five layouts; decode never raises."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from hypothesis import assume, given
from hypothesis import strategies as st

from adapters import jsonform
from adapters.base import DecodeResult
from adapters.diagnostics import Severity
from adapters.icao_mrz.checkdigit import MRZ_CHARACTERS
from liaison.codes import ICAO_CODES, ISO_ALPHA3
from liaison.rules.validation import validate_record
from liaison.v1 import common_pb2, person_pb2, record_pb2, travel_document_pb2
from tests.adapters.icao_mrz.support import TODAY, adapter, reference_check_digit
from tests.support.contract_strategies import reproducible_settings

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALPHANUMERIC = LETTERS + "0123456789"
ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
ICAO = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED


@dataclass(frozen=True)
class Shape:
    """What the tests need to know of a layout (Doc 9303 Parts 4-7 §4.2.2), written out here."""

    mrz_format: travel_document_pb2.MrzFormat.ValueType
    first_letters: str
    name_width: int
    optional_widths: tuple[int, ...]
    long_number: bool


SHAPES = {
    "TD1": Shape(travel_document_pb2.MRZ_FORMAT_TD1, "ACI", 30, (15, 11), True),
    "TD2": Shape(travel_document_pb2.MRZ_FORMAT_TD2, "ACI", 31, (7,), True),
    "TD3": Shape(travel_document_pb2.MRZ_FORMAT_TD3, "P", 39, (14,), False),
    "MRV-A": Shape(travel_document_pb2.MRZ_FORMAT_MRV_A, "V", 39, (16,), False),
    "MRV-B": Shape(travel_document_pb2.MRZ_FORMAT_MRV_B, "V", 31, (8,), False),
}
TYPES = {
    "P": travel_document_pb2.DOCUMENT_TYPE_PASSPORT,
    "V": travel_document_pb2.DOCUMENT_TYPE_VISA,
    "A": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
    "C": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
    "I": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
}
ACCEPTED = {"MRZ_COUNTRY_CODE", "MRZ_FIELD_EMPTY", "MRZ_NAME_TRUNCATED"}
"""Findings a valid generated MRZ may have: unknown country codes (kept raw), no nationality,
a name that happens to fill its field."""


def _country(value: str) -> common_pb2.CountryCode:
    """The CountryCode decoding gives for a code (Part 3 §5 lists, else raw and UNMAPPED)."""
    if value in ISO_ALPHA3:
        return common_pb2.CountryCode(code=value, system=ISO)
    if value in ICAO_CODES:
        field = value.ljust(3, "<")
        return common_pb2.CountryCode(code=value, system=ICAO, raw=field if field != value else "")
    return common_pb2.CountryCode(system=UNMAPPED, raw=value)


countries = st.one_of(
    st.sampled_from(sorted(ISO_ALPHA3)),
    st.sampled_from(sorted(ICAO_CODES)),
    st.text(LETTERS, min_size=3, max_size=3),
).map(_country)
words = st.lists(st.text(LETTERS, min_size=1, max_size=9), max_size=3).map(" ".join)


def _data(max_size: int) -> st.SearchStrategy[str]:
    """Optional data as decoding gives it back: MRZ characters, no trailing filler."""
    return st.text(ALPHANUMERIC + "<", max_size=max_size).map(lambda text: text.rstrip("<"))


@st.composite
def partial_dates(
    draw: st.DrawFn, low: datetime.date, high: datetime.date
) -> common_pb2.PartialDate:
    date = draw(st.dates(min_value=low, max_value=high))
    precision = draw(st.sampled_from(["day", "month", "year"]))
    return common_pb2.PartialDate(
        year=date.year,
        month=date.month if precision != "year" else 0,
        day=date.day if precision == "day" else 0,
    )


# Years that read back unchanged: a birth date up to 99 years before the reference date and not
# after it; an expiry from 79 years before to 20 years after (adapters.icao_mrz.dates).
births = partial_dates(TODAY.replace(year=TODAY.year - 99), TODAY)
expiries = partial_dates(
    datetime.date(TODAY.year - 79, 1, 1), datetime.date(TODAY.year + 20, 12, 31)
)


@dataclass(frozen=True)
class Case:
    """A generated document and the travel document decoding must give back (lines aside)."""

    records: list[record_pb2.Record]
    expected: travel_document_pb2.TravelDocument


@st.composite
def cases(draw: st.DrawFn, layout: str) -> Case:
    shape = SHAPES[layout]
    code = draw(st.sampled_from(shape.first_letters)) + draw(st.sampled_from(LETTERS + "<"))
    family, given_names = draw(words), draw(words)
    name_field = family.replace(" ", "<") + (
        f"<<{given_names.replace(' ', '<')}" if given_names else ""
    )
    assume(name_field and len(name_field) <= shape.name_width)
    long_number = shape.long_number and draw(st.booleans())
    overflow_room = shape.optional_widths[0] - 1  # the check digit closes the continuation
    number = draw(
        st.text(ALPHANUMERIC, min_size=10, max_size=9 + overflow_room)
        if long_number
        else st.text(ALPHANUMERIC, min_size=1, max_size=9)
    )
    optional = []
    for index, width in enumerate(shape.optional_widths):
        if index == 0 and long_number:
            width -= len(number) - 9 + 2  # continuation, its check digit, a filler
        optional.append(draw(_data(max(width, 0))))
    nationality = draw(st.none() | countries)
    document = travel_document_pb2.TravelDocument(
        document_code=code,
        document_number=number,
        issuing_state=draw(countries),
        holder_name=common_pb2.Name(family=family, given=given_names),
        holder_birth_date=draw(st.none() | births),
        holder_sex=draw(st.sampled_from(list(common_pb2.Sex.values()))),
        expiry_date=draw(expiries),
        holder_nationality=nationality,
    )
    if layout == "TD3":
        document.personal_number = optional[0]
    else:
        document.mrz.optional_data.extend(optional)
    document.mrz.format = shape.mrz_format

    expected = travel_document_pb2.TravelDocument()
    expected.CopyFrom(document)
    expected.document_type = TYPES[code[0]]
    expected.holder_name.type = common_pb2.NAME_TYPE_PRIMARY
    expected.mrz.check_digits_valid = True
    if long_number:
        continuation = f"{number[9:]}{reference_check_digit(number)}"
        optional[0] = f"{continuation}<{optional[0]}" if optional[0] else continuation
    del expected.mrz.optional_data[:]
    expected.mrz.optional_data.extend(optional)

    record = record_pb2.Record(record_id="document-1", travel_document=document)
    if not draw(st.booleans()):
        return Case([record], expected)
    # The same holder data, but on a linked Person record instead of the document.
    holder = person_pb2.Person(
        names=[document.holder_name],
        birth_date=document.holder_birth_date,
        sex=document.holder_sex,
        nationalities=[nationality] if nationality is not None else [],
    )
    for field in ("holder_name", "holder_birth_date", "holder_sex", "holder_nationality"):
        document.ClearField(field)
    record.links.add(type=record_pb2.LINK_TYPE_HOLDER, target_record_id="person-1")
    return Case([record_pb2.Record(record_id="person-1", person=holder), record], expected)


def _check_round_trip(case: Case) -> None:
    encoded = adapter().encode(case.records)
    assert encoded.diagnostics == ()
    decoded = adapter().decode(encoded.payload)
    assert {d.code for d in decoded.diagnostics} <= ACCEPTED
    assert not decoded.has_errors
    document_record, person_record = decoded.records
    document = document_record.travel_document
    assert list(document.mrz.lines) == encoded.payload.decode("ascii").split("\n")[:-1]
    without_lines = travel_document_pb2.TravelDocument()
    without_lines.CopyFrom(document)
    del without_lines.mrz.lines[:]
    assert without_lines == case.expected
    person = person_record.person
    assert list(person.names) == [document.holder_name]
    assert person.birth_date == document.holder_birth_date
    assert person.sex == document.holder_sex
    assert list(person.nationalities) == (
        [document.holder_nationality] if document.HasField("holder_nationality") else []
    )
    for record in decoded.records:
        assert validate_record(record) == []
    # And once decoded, encoding reproduces the same MRZ, hence the same records.
    again = adapter().encode(decoded.records)
    assert again.payload == encoded.payload
    assert adapter().decode(again.payload).records == decoded.records


@reproducible_settings(max_examples=60)
@given(cases("TD1"))
def test_td1_records_survive_encode_and_decode(case: Case) -> None:
    _check_round_trip(case)


@reproducible_settings(max_examples=60)
@given(cases("TD2"))
def test_td2_records_survive_encode_and_decode(case: Case) -> None:
    _check_round_trip(case)


@reproducible_settings(max_examples=60)
@given(cases("TD3"))
def test_td3_records_survive_encode_and_decode(case: Case) -> None:
    _check_round_trip(case)


@reproducible_settings(max_examples=60)
@given(cases("MRV-A"))
def test_mrv_a_records_survive_encode_and_decode(case: Case) -> None:
    _check_round_trip(case)


@reproducible_settings(max_examples=60)
@given(cases("MRV-B"))
def test_mrv_b_records_survive_encode_and_decode(case: Case) -> None:
    _check_round_trip(case)


def _check_result(result: DecodeResult) -> None:
    """What holds of every decode: well formed, errors name existing records, clean validates."""
    ids = {record.record_id for record in result.records}
    assert len(ids) == len(result.records)
    assert result.diagnostics or result.records
    for diagnostic in result.diagnostics:
        assert set(diagnostic.record_ids) <= ids
        assert diagnostic.location.line >= 0
        assert diagnostic.location.column >= 0
    for record in result.clean:
        assert validate_record(record) == []
    jsonform.dumps(result)


@reproducible_settings(max_examples=200)
@given(st.binary(max_size=600))
def test_decoding_arbitrary_bytes_never_raises(data: bytes) -> None:
    _check_result(adapter().decode(data))


mrz_like_lines = st.text(MRZ_CHARACTERS + "a \t\r\xff", min_size=0, max_size=46)


@reproducible_settings(max_examples=200)
@given(st.lists(mrz_like_lines, max_size=8))
def test_decoding_mrz_like_text_never_raises(lines: list[str]) -> None:
    _check_result(adapter().decode("\n".join(lines).encode("utf-8", "surrogatepass")))


@reproducible_settings(max_examples=150)
@given(
    st.sampled_from(sorted(SHAPES)).flatmap(cases),
    st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(MRZ_CHARACTERS + "x\n")), max_size=4
    ),
)
def test_damaged_valid_mrzs_decode_to_diagnostics_never_to_exceptions(
    case: Case, damage: list[tuple[int, str]]
) -> None:
    """Characters of a valid MRZ replaced: whatever still decodes cleanly is a valid record."""
    text = bytearray(adapter().encode(case.records).payload)
    for position, char in damage:
        text[position % len(text)] = ord(char)
    result = adapter().decode(bytes(text))
    _check_result(result)
    if not damage:
        assert not result.has_errors
    for diagnostic in result.diagnostics:
        if diagnostic.severity is Severity.ERROR and diagnostic.code == "MRZ_CHECK_DIGIT":
            assert diagnostic.record_ids
