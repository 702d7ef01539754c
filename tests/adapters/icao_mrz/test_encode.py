"""Encoding records into MRZs: reproduction, generation from fields, and what cannot be written."""

from __future__ import annotations

import pytest

from adapters.base import EncodeResult
from adapters.diagnostics import Severity
from liaison.v1 import common_pb2, person_pb2, record_pb2, travel_document_pb2
from tests.adapters.icao_mrz.support import (
    MRV_A,
    MRV_B,
    SAMPLES,
    TD1,
    TD1_LONG_NUMBER,
    TD2,
    TD3,
    adapter,
    payload,
    reference_check_digit,
)

ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED
SPECIMENS = {"TD3": TD3, "TD1": TD1, "TD2": TD2, "MRV-A": MRV_A, "MRV-B": MRV_B}


def _codes(result: EncodeResult) -> list[tuple[Severity, str]]:
    return [(d.severity, d.code) for d in result.diagnostics]


def _from_fields(lines: tuple[str, ...]) -> list[record_pb2.Record]:
    """The decoded records of ``lines`` with the MRZ lines dropped: only the fields remain."""
    records = list(adapter().decode(payload(lines)).records)
    del records[0].travel_document.mrz.lines[:]
    return records


def _document(**fields: object) -> record_pb2.Record:
    record = record_pb2.Record(record_id="doc-1")
    record.travel_document.CopyFrom(travel_document_pb2.TravelDocument(**fields))  # type: ignore[arg-type]
    return record


def _passport(**overrides: object) -> record_pb2.Record:
    fields: dict[str, object] = {
        "document_type": travel_document_pb2.DOCUMENT_TYPE_PASSPORT,
        "document_number": "X12345678",
        "issuing_state": common_pb2.CountryCode(code="FRA", system=ISO),
        "holder_nationality": common_pb2.CountryCode(code="FRA", system=ISO),
        "holder_name": common_pb2.Name(family="Dupont", given="Marie Claire"),
        "holder_birth_date": common_pb2.PartialDate(year=1985, month=3, day=9),
        "holder_sex": common_pb2.SEX_FEMALE,
        "expiry_date": common_pb2.PartialDate(year=2031, month=6, day=30),
    }
    fields.update(overrides)
    return _document(**fields)


def _lines(result: EncodeResult) -> list[str]:
    return result.payload.decode("ascii").split("\n")[:-1]


@pytest.mark.parametrize(
    "sample", sorted(p.name for p in SAMPLES.glob("*.mrz") if "specimen" in p.name)
)
def test_decoded_specimens_are_written_back_character_for_character(sample: str) -> None:
    data = (SAMPLES / sample).read_bytes()
    encoded = adapter().encode(adapter().decode(data).records)
    assert encoded.diagnostics == ()
    assert encoded.payload == data


@pytest.mark.parametrize("name", [*SPECIMENS, "TD1 long number"])
def test_the_specimens_are_generated_from_their_fields_alone(name: str) -> None:
    """Layouts, fillers, every check digit (Parts 4-7 §4.2.2), the long number (Part 5)."""
    lines = SPECIMENS.get(name, TD1_LONG_NUMBER)
    encoded = adapter().encode(_from_fields(lines))
    assert encoded.diagnostics == ()
    assert _lines(encoded) == list(lines)


def test_several_documents_are_separated_by_a_blank_line() -> None:
    records = list(adapter().decode(payload(TD3, TD1, MRV_B)).records)
    assert adapter().encode(records).payload == payload(TD3, TD1, MRV_B)


def test_a_passport_from_fields_only() -> None:
    encoded = adapter().encode([_passport()])
    assert encoded.diagnostics == ()
    line1, line2 = _lines(encoded)
    assert line1 == "P<FRADUPONT<<MARIE<CLAIRE".ljust(44, "<")
    digit = reference_check_digit
    assert line2[:28] == (
        f"X12345678{digit('X12345678')}FRA850309{digit('850309')}F310630{digit('310630')}"
    )
    assert line2[28:42] == "<" * 14
    # An unused personal number gets the check digit of its fillers, 0 (Part 4 §4.2.2).
    assert line2[42] == "0"
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    assert line2[43] == str(reference_check_digit(composite))


def test_holder_data_comes_from_the_linked_person_when_the_document_lacks_it() -> None:
    document = _passport(holder_name=None, holder_birth_date=None, holder_nationality=None)
    document.travel_document.ClearField("holder_sex")
    document.links.add(type=record_pb2.LINK_TYPE_HOLDER, target_record_id="person-1")
    person = record_pb2.Record(record_id="person-1")
    person.person.CopyFrom(
        person_pb2.Person(
            names=[
                common_pb2.Name(type=common_pb2.NAME_TYPE_ALIAS, family="ALIAS"),
                common_pb2.Name(type=common_pb2.NAME_TYPE_PRIMARY, family="DUPONT", given="MARIE"),
            ],
            birth_date=common_pb2.PartialDate(year=1985, month=3),
            sex=common_pb2.SEX_X,
            nationalities=[common_pb2.CountryCode(code="BEL", system=ISO)],
        )
    )
    encoded = adapter().encode([person, document])
    assert encoded.diagnostics == ()  # the person is consumed as the holder, not skipped
    decoded = adapter().decode(encoded.payload).records[0].travel_document
    assert decoded.holder_name.family == "DUPONT"
    assert decoded.holder_birth_date == common_pb2.PartialDate(year=1985, month=3)
    assert decoded.holder_sex == common_pb2.SEX_X
    assert decoded.holder_nationality.code == "BEL"


def test_names_are_transliterated_per_part_3() -> None:
    record = _passport(holder_name=common_pb2.Name(family="Müller-Lüdenscheidt", given="Jörg Åke"))
    line1 = _lines(adapter().encode([record]))[0]
    assert line1.startswith("P<FRAMUELLER<LUEDENSCHEIDT<<JOERG<AAKE<")


def test_a_record_transliteration_is_used_for_other_scripts() -> None:
    name = common_pb2.Name(
        family="Иванов",
        given="Иван",
        script="Cyrl",
        transliteration=common_pb2.Transliteration(
            family="IVANOV", given="IVAN", scheme="ICAO-9303"
        ),
    )
    assert _lines(adapter().encode([_passport(holder_name=name)]))[0].startswith(
        "P<FRAIVANOV<<IVAN<"
    )
    name.ClearField("transliteration")
    result = adapter().encode([_passport(holder_name=name)])
    assert _codes(result) == [(Severity.ERROR, "MRZ_ENCODE_TRANSLITERATION")]
    assert result.diagnostics[0].location.json_pointer == "/records/0/travelDocument/holderName"
    assert result.payload == b""


def test_a_long_name_is_truncated_with_an_info() -> None:
    record = _passport(
        holder_name=common_pb2.Name(
            family="VANDERBERGHE DE LA CRUZ", given="MARIA ANTONIETTA CONSTANZA"
        )
    )
    result = adapter().encode([record])
    assert _codes(result) == [(Severity.INFO, "MRZ_NAME_TRUNCATED")]
    assert _lines(result)[0] == "P<FRAVANDERBERGHE<DE<LA<CRUZ<<MARIA<ANTONIET"


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"document_number": ""}, "documentNumber"),
        ({"issuing_state": None}, "issuingState"),
        ({"holder_name": None}, "holderName"),
        ({"document_type": 0}, "documentCode"),
    ],
)
def test_a_record_without_a_required_field_is_an_error_naming_it(
    overrides: dict[str, object], pointer: str
) -> None:
    result = adapter().encode([_passport(**overrides)])
    (error,) = result.diagnostics
    assert (error.severity, error.code) == (Severity.ERROR, "MRZ_ENCODE_MISSING_FIELD")
    assert error.record_ids == ("doc-1",)
    assert error.location.json_pointer == f"/records/0/travelDocument/{pointer}"
    assert result.payload == b""


def test_an_unwritable_record_does_not_stop_the_others() -> None:
    good = _passport()
    good.record_id = "doc-2"
    result = adapter().encode([_passport(document_number=""), good])
    assert [d.record_ids for d in result.diagnostics] == [("doc-1",)]
    assert len(_lines(result)) == 2


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"document_number": "X1234567890"}, "MRZ_ENCODE_FIELD_TOO_LONG"),  # TD3: nine at most
        ({"document_number": "X-123"}, "MRZ_ENCODE_INVALID_FIELD"),
        ({"personal_number": "TOO LONG FOR THE FIELD"}, "MRZ_ENCODE_FIELD_TOO_LONG"),
        ({"document_code": "1P"}, "MRZ_ENCODE_INVALID_FIELD"),
        ({"document_code": "V"}, "MRZ_ENCODE_FORMAT"),  # a visa code in a TD3 layout
        (
            {"issuing_state": common_pb2.CountryCode(system=UNMAPPED, raw="914")},
            "MRZ_ENCODE_INVALID_FIELD",
        ),
    ],
)
def test_values_an_mrz_cannot_carry_are_errors(overrides: dict[str, object], code: str) -> None:
    if overrides.get("document_code") == "V":
        overrides["mrz"] = travel_document_pb2.MachineReadableZone(
            format=travel_document_pb2.MRZ_FORMAT_TD3
        )
    result = adapter().encode([_passport(**overrides)])
    assert _codes(result) == [(Severity.ERROR, code)]
    assert result.payload == b""


def test_a_long_document_number_overflows_into_the_td1_optional_data() -> None:
    """Part 5 §4.2.2 note: nine characters, a filler, then the rest and the check digit."""
    record = _passport(
        document_code="I<",
        document_number="D23145890734",
        mrz=travel_document_pb2.MachineReadableZone(optional_data=["ABC", "XYZ"]),
    )
    line1, line2, _ = _lines(adapter().encode([record]))
    assert line1 == "I<FRAD23145890<7349<ABC<<<<<<<"
    assert line2[18:29] == "XYZ<<<<<<<<"
    decoded = adapter().decode(payload((line1, line2, _))).records[0].travel_document
    assert decoded.document_number == "D23145890734"
    assert list(decoded.mrz.optional_data) == ["7349<ABC", "XYZ"]
    assert decoded.mrz.check_digits_valid


def test_a_long_number_and_optional_data_that_do_not_fit_are_an_error() -> None:
    record = _passport(
        document_code="I<",
        document_number="D2314589073400",
        mrz=travel_document_pb2.MachineReadableZone(optional_data=["ABCDEFGHIJ"]),
    )
    assert _codes(adapter().encode([record])) == [(Severity.ERROR, "MRZ_ENCODE_FIELD_TOO_LONG")]


def test_a_year_that_would_read_back_in_another_century_is_a_warning() -> None:
    record = _passport(holder_birth_date=common_pb2.PartialDate(year=1900, month=1, day=1))
    result = adapter().encode([record])
    assert _codes(result) == [(Severity.WARNING, "MRZ_ENCODE_CENTURY")]
    assert result.diagnostics[0].location.json_pointer == (
        "/records/0/travelDocument/holderBirthDate"
    )


def test_stale_mrz_lines_are_regenerated_from_the_fields() -> None:
    records = list(adapter().decode(payload(TD3)).records)
    records[0].travel_document.holder_name.given = "ANNA"
    result = adapter().encode(records)
    assert _codes(result) == [(Severity.INFO, "MRZ_ENCODE_REGENERATED")]
    assert _lines(result)[0] == "P<UTOERIKSSON<<ANNA".ljust(44, "<")


def test_lines_with_wrong_check_digits_are_never_written_back() -> None:
    bad = (TD3[0], TD3[1][:9] + "7" + TD3[1][10:])
    records = adapter().decode(payload(bad)).records
    result = adapter().encode(records)
    assert _lines(result) == list(TD3)


def test_records_that_are_not_travel_documents_are_skipped_with_a_warning() -> None:
    person = record_pb2.Record(record_id="p-1")
    person.person.names.add(family="ALONE")
    notice = record_pb2.Record(record_id="n-1")
    notice.notice.entity_id = "2019/12345"
    result = adapter().encode([person, notice])
    assert _codes(result) == [(Severity.WARNING, "MRZ_ENCODE_SKIPPED")] * 2
    assert [d.record_ids for d in result.diagnostics] == [("p-1",), ("n-1",)]
    assert result.payload == b""
