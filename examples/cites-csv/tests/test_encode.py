"""Encoding Seizure records as a comparative tabulation, and what the format cannot take."""

from __future__ import annotations

from liaison_cites_csv import COLUMNS, CitesCsvAdapter

from adapters import Severity
from liaison.v1 import common_pb2, record_pb2, seizure_pb2

HEADER = ",".join(COLUMNS) + "\r\n"


def _seizure() -> record_pb2.Record:
    """A record the format takes as it is; tests change what they need."""
    seizure = seizure_pb2.Seizure(
        commodity_category=seizure_pb2.COMMODITY_CATEGORY_CITES_SPECIES,
        date=common_pb2.PartialDate(year=2019),
        commodity_description="Loxodonta africana (tusks)",
        route_countries=[common_pb2.CountryCode(code="ZAF"), common_pb2.CountryCode(code="USA")],
        quantity=common_pb2.Quantity(amount="2", unit="H87"),
    )
    return record_pb2.Record(record_id="cites:x", seizure=seizure)


def _route(record: record_pb2.Record, *countries: common_pb2.CountryCode) -> record_pb2.Record:
    del record.seizure.route_countries[:]
    record.seizure.route_countries.extend(countries)
    return record


def test_a_seizure_becomes_a_row() -> None:
    result = CitesCsvAdapter().encode([_seizure()])
    assert result.diagnostics == ()
    assert result.payload.decode() == HEADER + "2019,,Loxodonta africana,,,,,US,ZA,,2,,tusks,,,\r\n"


def test_origin_units_and_unmapped_countries() -> None:
    record = _route(
        _seizure(),
        common_pb2.CountryCode(raw="XX"),
        common_pb2.CountryCode(code="HKG", raw="HK"),
        common_pb2.CountryCode(code="CHN"),
    )
    record.seizure.quantity.CopyFrom(common_pb2.Quantity(amount="3.5", unit="KGM"))
    row = CitesCsvAdapter().encode([record]).payload.decode().splitlines()[1]
    assert row == "2019,,Loxodonta africana,,,,,CN,HK,XX,3.5,,tusks,kg,,"


def test_description_without_term_and_without_quantity() -> None:
    record = _seizure()
    record.seizure.commodity_description = "Hybrid"
    record.seizure.ClearField("quantity")
    row = CitesCsvAdapter().encode([record]).payload.decode().splitlines()[1]
    assert row == "2019,,Hybrid,,,,,US,ZA,,,,,,,"


def test_what_the_format_cannot_take_is_left_out_with_an_error() -> None:
    person = record_pb2.Record(record_id="p:1")
    person.person.names.add(family="X")
    drugs, no_year, no_unit = _seizure(), _seizure(), _seizure()
    drugs.seizure.commodity_category = seizure_pb2.COMMODITY_CATEGORY_DRUGS
    no_year.seizure.ClearField("date")
    no_unit.seizure.quantity.unit = "EUR"
    cases = {
        "CITES_ENCODE_BODY": person,
        "CITES_ENCODE_CATEGORY": drugs,
        "CITES_ENCODE_YEAR": no_year,
        "CITES_ENCODE_ROUTE": _route(_seizure(), common_pb2.CountryCode(code="USA")),
        "CITES_ENCODE_COUNTRY": _route(
            _seizure(), common_pb2.CountryCode(code="D"), common_pb2.CountryCode(code="USA")
        ),
        "CITES_ENCODE_UNIT": no_unit,
    }
    result = CitesCsvAdapter().encode([*cases.values(), _seizure()])
    assert [(d.severity, d.code) for d in result.diagnostics] == [
        (Severity.ERROR, code) for code in cases
    ]
    assert [d.message.split(":")[0] for d in result.diagnostics[1:]] == [
        f"records[{index}]" for index in range(1, len(cases))
    ]
    assert result.payload.decode().count("\r\n") == 2  # the header and the one good record


def test_seizure_fields_without_a_column_are_named_in_a_warning() -> None:
    record = _seizure()
    record.seizure.hs_code = "050710"
    record.seizure.case_reference = "CASE-1"
    result = CitesCsvAdapter().encode([record])
    (warning,) = result.diagnostics
    assert warning.severity is Severity.WARNING
    assert warning.code == "CITES_ENCODE_NOT_CARRIED"
    assert "hs_code, case_reference" in warning.message
    assert "050710" not in warning.message
