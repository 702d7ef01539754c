"""Decoding comparative tabulations: the mapping of each column and every diagnostic.

Layout and codes: *A guide to using the CITES Trade Database*, version 9 (2022), section 3.1 and
annexes 1 (terms and units), 2 (purpose and source) and 3 (country codes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from liaison_cites_csv import COLUMNS, CitesCsvAdapter, record_id

from adapters import DecodeResult, Location, Severity
from liaison.v1 import common_pb2, seizure_pb2

SAMPLES = Path(__file__).parent / "samples"
HEADER = ",".join(COLUMNS) + "\n"
ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED


def _decode(rows: str, reference: str = "") -> DecodeResult:
    return CitesCsvAdapter().decode((HEADER + rows).encode(), source_reference=reference)


def _sample(name: str) -> DecodeResult:
    return CitesCsvAdapter().decode((SAMPLES / name).read_bytes(), source_reference=name)


def _codes(result: DecodeResult) -> list[tuple[str, int, int]]:
    return [(d.code, d.location.line, d.location.column) for d in result.diagnostics]


def test_public_surface() -> None:
    import liaison_cites_csv

    assert liaison_cites_csv.__all__ == ["COLUMNS", "CitesCsvAdapter", "record_id"]
    assert len(COLUMNS) == 16


def test_a_row_becomes_a_cites_seizure() -> None:
    result = _sample("elephant-ivory.csv")
    first = result.records[0]
    seizure = first.seizure
    assert seizure.commodity_category == seizure_pb2.COMMODITY_CATEGORY_CITES_SPECIES
    assert seizure.date == common_pb2.PartialDate(year=2019)
    assert seizure.commodity_description == "Loxodonta africana (tusks)"
    # No unit: a number of specimens (annex 1), Recommendation 20 "piece".
    assert seizure.quantity == common_pb2.Quantity(amount="2", unit="H87")
    # Route from departure to destination: (origin,) exporter, importer.
    assert [(c.code, c.system, c.raw) for c in seizure.route_countries] == [
        ("ZAF", ISO, "ZA"),
        ("USA", ISO, "US"),
    ]
    assert first.provenance.source_reference == "elephant-ivory.csv:2"
    assert not result.has_errors


def test_origin_unit_and_exporter_quantity() -> None:
    third = _sample("elephant-ivory.csv").records[2].seizure
    assert [c.code for c in third.route_countries] == ["KEN", "HKG", "CHN"]
    # Only the exporter reported: that quantity is carried; "kg" is KGM.
    assert third.quantity == common_pb2.Quantity(amount="3.5", unit="KGM")
    assert third.commodity_description == "Loxodonta africana (ivory carvings)"


def test_columns_without_a_seizure_field_are_named_once() -> None:
    result = _sample("elephant-ivory.csv")
    (info,) = [d for d in result.diagnostics if d.severity is Severity.INFO]
    assert info.code == "CITES_NOT_CARRIED"
    assert info.message.endswith(
        "App., Class, Order, Family, Genus, Exporter reported quantity, Purpose, Source"
    )


def test_exporter_quantity_alone_is_carried_without_mention() -> None:
    row = "2019,,Hybrid,,,,,US,ZA,,,7,live,,,\n"
    result = _decode(row)
    assert result.records[0].seizure.quantity.amount == "7"
    assert result.diagnostics == ()


def test_byte_order_mark_crlf_blank_lines_and_quoted_commas() -> None:
    result = _sample("parrots-and-corals.csv")
    assert [r.provenance.source_reference for r in result.records] == [
        "parrots-and-corals.csv:2",
        "parrots-and-corals.csv:4",
        "parrots-and-corals.csv:5",
    ]
    assert result.records[2].seizure.commodity_description == "Tridacna gigas (shells, polished)"


def test_unknown_country_is_kept_raw_with_a_warning() -> None:
    result = _sample("parrots-and-corals.csv")
    corals = result.records[1]
    assert corals.seizure.route_countries[0] == common_pb2.CountryCode(system=UNMAPPED, raw="XX")
    (warning,) = [d for d in result.diagnostics if d.severity is Severity.WARNING]
    assert (warning.code, warning.location) == ("CITES_COUNTRY_UNMAPPED", Location(4, 57))
    assert warning.record_ids == (corals.record_id,)
    assert corals.record_id not in result.tainted_ids


def test_bad_header_stops_with_its_column() -> None:
    result = _sample("bad-header.csv")
    assert result.records == ()
    assert _codes(result) == [("CITES_HEADER", 1, 6)]
    assert "'App.'" in result.diagnostics[0].message


def test_header_too_short_or_too_long() -> None:
    short = CitesCsvAdapter().decode(b"Year,App.\n")
    assert _codes(short) == [("CITES_HEADER", 1, 10)]
    long = CitesCsvAdapter().decode(HEADER.strip().encode() + b",Notes\n")
    assert _codes(long) == [("CITES_HEADER", 1, len(HEADER) + 1)]  # where "Notes" starts


def test_empty_payload() -> None:
    result = CitesCsvAdapter().decode(b"")
    assert _codes(result) == [("CITES_HEADER", 0, 0)]


def test_wrong_column_counts_point_at_the_end_or_the_extra_field() -> None:
    result = _sample("wrong-column-count.csv")
    line_three = (SAMPLES / "wrong-column-count.csv").read_text().splitlines()[2]
    line_four = (SAMPLES / "wrong-column-count.csv").read_text().splitlines()[3]
    assert _codes(result)[:2] == [
        ("CITES_COLUMN_COUNT", 3, len(line_three) + 1),
        ("CITES_COLUMN_COUNT", 4, line_four.rindex(",") + 2),
    ]
    assert "15 columns" in result.diagnostics[0].message
    assert "17 columns" in result.diagnostics[1].message
    assert len(result.records) == 1


def test_bad_values_taint_their_record() -> None:
    result = _sample("bad-values.csv")
    by_code = {d.code: d for d in result.diagnostics}
    errors = {code for code, d in by_code.items() if d.severity is Severity.ERROR}
    assert errors == {"CITES_YEAR", "CITES_QUANTITY", "CITES_COUNTRY_MISSING", "CITES_CSV_SYNTAX"}
    lines = {r.record_id: int(r.provenance.source_reference.rsplit(":")[1]) for r in result.records}
    assert sorted(lines[i] for i in result.tainted_ids) == [2, 3, 4]
    assert by_code["CITES_YEAR"].location == Location(2, 1)
    assert by_code["CITES_QUANTITY"].location == Location(3, 64)
    assert by_code["CITES_COUNTRY_MISSING"].location == Location(4, 61)
    assert by_code["CITES_CSV_SYNTAX"].location == Location(7, 16)
    # The row the reader could not read gives no record: 7 data rows, 6 records.
    assert len(result.records) == 6
    year_record = result.records[0]
    assert not year_record.seizure.HasField("date")


def test_warnings_leave_records_clean() -> None:
    result = _sample("bad-values.csv")
    by_code = {d.code: d for d in result.diagnostics}
    assert by_code["CITES_UNIT_UNMAPPED"].severity is Severity.WARNING
    assert by_code["CITES_QUANTITY_MISSING"].severity is Severity.WARNING
    unmapped = by_code["CITES_COUNTRY_UNMAPPED"]
    assert (unmapped.severity, unmapped.location) == (Severity.WARNING, Location(8, 65))
    clean_lines = sorted(r.provenance.source_reference for r in result.clean)
    assert clean_lines == ["bad-values.csv:5", "bad-values.csv:6", "bad-values.csv:8"]
    bags = result.clean[0].seizure
    assert not bags.HasField("quantity")


def test_bytes_that_are_not_utf8_drop_their_row_only() -> None:
    result = _sample("not-utf8.csv")
    assert _codes(result)[0] == ("CITES_ENCODING", 3, 107)
    assert [r.provenance.source_reference for r in result.records] == ["not-utf8.csv:2"]


def test_years_before_cites_are_refused() -> None:
    result = _decode("1974,,Hybrid,,,,,US,ZA,,1,,live,,,\n")
    assert _codes(result) == [("CITES_YEAR", 2, 1)]
    assert result.diagnostics[0].record_ids == (result.records[0].record_id,)


def test_messages_never_quote_values() -> None:
    result = _sample("bad-values.csv")
    for diagnostic in result.diagnostics:
        for value in ("19x9", "1,5", "bags", "Manis", "VN"):
            assert value not in diagnostic.message


def test_ids_come_from_content_not_position() -> None:
    row = "2019,,Hybrid,,,,,US,ZA,,1,,live,,,\n"
    other = "2020,,Hybrid,,,,,US,ZA,,1,,live,,,\n"
    first = _decode(row + other)
    swapped = _decode(other + row)
    assert [r.record_id for r in first.records] == [r.record_id for r in swapped.records][::-1]
    expected = record_id("2019", "Hybrid (live)", ("ZAF", "USA"), "1", "H87", 0)
    assert first.records[0].record_id == expected


def test_rows_the_record_cannot_tell_apart_are_numbered() -> None:
    # The same row with another purpose code: same record content, distinct ids.
    rows = "2019,,Hybrid,,,,,US,ZA,,1,,live,,T,W\n2019,,Hybrid,,,,,US,ZA,,1,,live,,Z,W\n"
    result = _decode(rows)
    ids = [r.record_id for r in result.records]
    assert ids == [
        record_id("2019", "Hybrid (live)", ("ZAF", "USA"), "1", "H87", occurrence)
        for occurrence in (0, 1)
    ]


def test_provenance() -> None:
    payload = (SAMPLES / "elephant-ivory.csv").read_bytes()
    record = CitesCsvAdapter().decode(payload).records[0]
    assert record.provenance.adapter_name == "cites-csv"
    assert record.provenance.adapter_version == CitesCsvAdapter.version
    assert record.provenance.source_format == CitesCsvAdapter.source_format
    assert record.provenance.payload_sha256 == hashlib.sha256(payload).digest()
    assert record.provenance.source_reference == "line 2"
