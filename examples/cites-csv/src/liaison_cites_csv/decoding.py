"""Decoding: comparative tabulation rows into ``Seizure`` records, with diagnostics.

One row gives one record. A row that cannot be read as a row (wrong number of columns, not CSV,
not UTF-8) gives an error and no record; a row that can be read but holds a bad value gives its
record *and* an error naming that record, so that the record is tainted, never taken for clean.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from adapters import FORBIDDEN_CHARACTER, DecodeBuilder, Location, Severity
from liaison.codes import ISO_ALPHA2_TO_ALPHA3
from liaison.rules.text import describe as describe_forbidden
from liaison.rules.text import forbidden_in
from liaison.v1 import common_pb2, seizure_pb2
from liaison_cites_csv.csvtext import Field, Row, SyntaxProblem, read_rows
from liaison_cites_csv.layout import CARRIED_COLUMNS, COLUMNS, UNIT_TO_REC20, describe, record_id

__all__ = ["FIRST_YEAR", "decode_payload"]

FIRST_YEAR = 1975
"""CITES entered into force on 1 July 1975; the Trade Database starts that year."""

_YEAR = re.compile(r"[0-9]{4}")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Bytes that are not UTF-8 come out of the "surrogateescape" decoding as lone surrogates.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_IMPORTER_QUANTITY = "Importer reported quantity"
_EXPORTER_QUANTITY = "Exporter reported quantity"
_DESCRIPTION_COLUMNS = ("Taxon", "Term")
"""Columns whose values go to ``Seizure.commodity_description``, a free-text field (lines
allowed); the others that reach a record go to single-line fields."""


@dataclass(frozen=True, slots=True)
class _Finding:
    severity: Severity
    code: str
    message: str
    location: Location


_POSITION = {name: index for index, name in enumerate(COLUMNS)}
_NOT_CARRIED = tuple(name for name in COLUMNS if name not in CARRIED_COLUMNS)


@dataclass(slots=True)
class _RowReader:
    """The values of one well-formed row by column name, and what was found in them."""

    row: Row
    values: list[str] = field(init=False)
    findings: list[_Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = [cell.text.strip() for cell in self.row.fields]

    def text(self, column: str) -> str:
        return self.values[_POSITION[column]]

    def where(self, column: str) -> Location:
        cell = self.row.fields[_POSITION[column]]
        return Location(line=cell.line, column=cell.column)

    def found(self, severity: Severity, code: str, message: str, column: str) -> None:
        self.findings.append(_Finding(severity, code, message, self.where(column)))


def decode_payload(out: DecodeBuilder, payload: bytes) -> None:
    """Decode a whole export into ``out``."""
    text = payload.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    # Checked field by field only when the text holds a byte that was not UTF-8 at all.
    check_encoding = _NOT_UTF8.search(text) is not None
    rows = read_rows(text, max_fields=len(COLUMNS))
    header = next(rows, None)
    if not _header_is_valid(out, header):
        return
    occurrences: Counter[tuple[str, ...]] = Counter()
    not_carried: set[str] = set()
    for item in rows:
        if isinstance(item, SyntaxProblem):
            out.error("CITES_CSV_SYNTAX", item.message, Location(item.line, item.column))
        elif item.is_blank:
            continue
        elif item.field_count != len(COLUMNS):
            _wrong_column_count(out, item)
        elif check_encoding and (bad := _first_not_utf8(item)) is not None:
            out.error(
                "CITES_ENCODING", "the field is not UTF-8 text", Location(bad.line, bad.column)
            )
        else:
            _decode_row(out, _RowReader(item), occurrences, not_carried)
    if not_carried:
        listed = ", ".join(name for name in COLUMNS if name in not_carried)
        out.info(
            "CITES_NOT_CARRIED",
            f"liaison.v1.Seizure has no field for these columns; their values are left out: "
            f"{listed}",
        )


def _first_not_utf8(row: Row) -> Field | None:
    return next((cell for cell in row.fields if _NOT_UTF8.search(cell.text)), None)


def _header_is_valid(out: DecodeBuilder, header: Row | SyntaxProblem | None) -> bool:
    expected = ",".join(COLUMNS)
    if header is None:
        out.error("CITES_HEADER", f"the payload is empty; a header {expected} was expected")
        return False
    if isinstance(header, SyntaxProblem):
        out.error(
            "CITES_HEADER",
            f"the header is not CSV: {header.message}",
            Location(header.line, header.column),
        )
        return False
    names = [cell.text.strip() for cell in header.fields]
    given = header.field_count
    for index, name in enumerate(COLUMNS):
        if index >= len(names):
            where = Location(header.line, header.end_column)
            out.error("CITES_HEADER", f"the header ends before column {index + 1}, {name!r}", where)
            return False
        if names[index] != name:
            cell = header.fields[index]
            message = f"header column {index + 1} must be {name!r} (a comparative tabulation)"
            out.error("CITES_HEADER", message, Location(cell.line, cell.column))
            return False
    if given > len(COLUMNS):
        cell = header.fields[len(COLUMNS)]
        message = f"the header has {given} columns; a comparative tabulation has {len(COLUMNS)}"
        out.error("CITES_HEADER", message, Location(cell.line, cell.column))
        return False
    return True


def _wrong_column_count(out: DecodeBuilder, row: Row) -> None:
    # Point at the first extra field, or at the end of a short row.
    if row.field_count > len(COLUMNS):
        extra = row.fields[len(COLUMNS)]
        where = Location(extra.line, extra.column)
    else:
        where = Location(row.fields[-1].line, row.end_column)
    message = f"the row has {row.field_count} columns; a comparative tabulation has {len(COLUMNS)}"
    out.error("CITES_COLUMN_COUNT", message, where)


def _country(reader: _RowReader, column: str) -> common_pb2.CountryCode | None:
    raw = reader.text(column)
    if not raw:
        return None
    alpha3 = ISO_ALPHA2_TO_ALPHA3.get(raw)
    if alpha3 is not None:
        return common_pb2.CountryCode(
            code=alpha3, system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, raw=raw
        )
    # Not ISO: the guide's "XX" (unknown), or a code the Database kept for a former state.
    reader.found(
        Severity.WARNING,
        "CITES_COUNTRY_UNMAPPED",
        f"the {column} code is not an ISO 3166-1 alpha-2 code; it is kept as given, unmapped",
        column,
    )
    return common_pb2.CountryCode(system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, raw=raw)


def _route(reader: _RowReader, seizure: seizure_pb2.Seizure) -> None:
    # From departure to destination: country of origin, exporter, importer.
    for column in ("Origin", "Exporter", "Importer"):
        country = _country(reader, column)
        if country is not None:
            seizure.route_countries.append(country)
        elif column != "Origin":
            reader.found(Severity.ERROR, "CITES_COUNTRY_MISSING", f"the {column} is empty", column)


def _quantity(reader: _RowReader, seizure: seizure_pb2.Seizure, not_carried: set[str]) -> None:
    imported, exported = reader.text(_IMPORTER_QUANTITY), reader.text(_EXPORTER_QUANTITY)
    if imported and exported:
        not_carried.add(_EXPORTER_QUANTITY)
    column = _IMPORTER_QUANTITY if imported else _EXPORTER_QUANTITY
    amount = imported or exported
    if not amount:
        message = "neither the importer nor the exporter reported a quantity"
        reader.found(Severity.WARNING, "CITES_QUANTITY_MISSING", message, _IMPORTER_QUANTITY)
        return
    if not _AMOUNT.fullmatch(amount):
        message = f"the {column} is not a decimal number"
        reader.found(Severity.ERROR, "CITES_QUANTITY", message, column)
        return
    unit = UNIT_TO_REC20.get(reader.text("Unit"))
    if unit is None:
        message = "the unit has no UN/ECE Recommendation 20 code here; the quantity is left out"
        reader.found(Severity.WARNING, "CITES_UNIT_UNMAPPED", message, "Unit")
        return
    seizure.quantity.amount = amount
    seizure.quantity.unit = unit


def _forbidden_text(reader: _RowReader) -> None:
    """Report every value that reaches the record and holds a character the gateway refuses in
    text (a control character, a bidi override, a noncharacter): an error at its cell, so the
    record is tainted instead of refused by the gateway with no location in the file."""
    for column in sorted(CARRIED_COLUMNS | set(_DESCRIPTION_COLUMNS)):
        free_text = column in _DESCRIPTION_COLUMNS
        forbidden = forbidden_in(reader.text(column), free_text=free_text)
        if forbidden is not None:
            message = f"the {column} {describe_forbidden(forbidden)}"
            reader.found(Severity.ERROR, FORBIDDEN_CHARACTER, message, column)


def _decode_row(
    out: DecodeBuilder,
    reader: _RowReader,
    occurrences: Counter[tuple[str, ...]],
    not_carried: set[str],
) -> None:
    _forbidden_text(reader)
    seizure = seizure_pb2.Seizure(commodity_category=seizure_pb2.COMMODITY_CATEGORY_CITES_SPECIES)
    year = reader.text("Year")
    if _YEAR.fullmatch(year) and int(year) >= FIRST_YEAR:
        seizure.date.year = int(year)
    else:
        message = f"the year must be four digits, {FIRST_YEAR} or later"
        reader.found(Severity.ERROR, "CITES_YEAR", message, "Year")
    taxon = reader.text("Taxon")
    if not taxon:
        reader.found(Severity.ERROR, "CITES_TAXON_MISSING", "the Taxon is empty", "Taxon")
    seizure.commodity_description = describe(taxon, reader.text("Term"))
    _route(reader, seizure)
    _quantity(reader, seizure, not_carried)
    not_carried.update(c for c in _NOT_CARRIED if reader.text(c))

    route = tuple(country.code or country.raw for country in seizure.route_countries)
    amount, unit = seizure.quantity.amount, seizure.quantity.unit
    key = (year, seizure.commodity_description, *route, amount, unit)
    identifier = record_id(
        year, seizure.commodity_description, route, amount, unit, occurrences[key]
    )
    occurrences[key] += 1
    line = reader.row.line
    reference = f"{out.source_reference}:{line}" if out.source_reference else f"line {line}"
    record = out.new_record(identifier, source_reference=reference)
    record.seizure.CopyFrom(seizure)
    for finding in reader.findings:
        out.add(finding.severity, finding.code, finding.message, finding.location, records=[record])
