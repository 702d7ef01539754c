"""Encoding: ``Seizure`` records of CITES specimens back into a comparative tabulation.

What a record cannot give (the columns decode does not carry) is written empty; what the format
cannot take (another kind of record, a route it has no columns for, a unit it does not know) is
left out with an error naming the record's index; Seizure fields the format has no column for are
named in a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters import EncodeBuilder, EncodeResult
from liaison.v1 import common_pb2, record_pb2, seizure_pb2
from liaison_cites_csv.csvtext import format_row
from liaison_cites_csv.layout import (
    COLUMNS,
    ISO_ALPHA3_TO_ALPHA2,
    REC20_TO_UNIT,
    split_description,
)

__all__ = ["encode_records"]

# Seizure fields with no column in the comparative tabulation.
_NOT_WRITTEN = (
    "place",
    "hs_code",
    "concealment_method",
    "concealment_description",
    "detection_method",
    "transport_mode",
    "estimated_value",
    "case_reference",
)


class _Refused(Exception):
    """A record this format cannot hold, and why (no value of the record in the message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _country(country: common_pb2.CountryCode) -> str:
    alpha2 = ISO_ALPHA3_TO_ALPHA2.get(country.code)
    if alpha2 is not None:
        return alpha2
    if country.raw and not country.code:
        return country.raw
    raise _Refused("CITES_ENCODE_COUNTRY", "a route country has no ISO 3166-1 alpha-2 form")


def _row(seizure: seizure_pb2.Seizure) -> list[str]:
    if seizure.commodity_category != seizure_pb2.COMMODITY_CATEGORY_CITES_SPECIES:
        raise _Refused("CITES_ENCODE_CATEGORY", "the seizure is not of CITES-listed species")
    if not seizure.date.year:
        raise _Refused("CITES_ENCODE_YEAR", "the seizure has no year")
    route = [_country(country) for country in seizure.route_countries]
    if len(route) not in (2, 3):
        raise _Refused(
            "CITES_ENCODE_ROUTE",
            "the route must be exporter and importer, or origin, exporter and importer",
        )
    origin = route[0] if len(route) == 3 else ""
    exporter, importer = route[-2:]
    unit = ""
    if seizure.HasField("quantity"):
        if seizure.quantity.unit not in REC20_TO_UNIT:
            raise _Refused("CITES_ENCODE_UNIT", "the quantity's unit is not one CITES reports in")
        unit = REC20_TO_UNIT[seizure.quantity.unit]
    taxon, term = split_description(seizure.commodity_description)
    values = dict.fromkeys(COLUMNS, "")
    values.update(
        {
            "Year": f"{seizure.date.year:04d}",
            "Taxon": taxon,
            "Importer": importer,
            "Exporter": exporter,
            "Origin": origin,
            "Importer reported quantity": seizure.quantity.amount,
            "Term": term,
            "Unit": unit,
        }
    )
    return [values[column] for column in COLUMNS]


def encode_records(records: Sequence[record_pb2.Record]) -> EncodeResult:
    """A comparative tabulation with one row per encodable record, in order."""
    out = EncodeBuilder()
    lines = [format_row(COLUMNS)]
    for index, record in enumerate(records):
        if record.WhichOneof("body") != "seizure":
            out.error("CITES_ENCODE_BODY", f"records[{index}] is not a seizure; it is left out")
            continue
        try:
            lines.append(format_row(_row(record.seizure)))
        except _Refused as refused:
            out.error(refused.code, f"records[{index}]: {refused.message}; it is left out")
            continue
        present = {field.name for field, _ in record.seizure.ListFields()}
        unwritten = [name for name in _NOT_WRITTEN if name in present]
        if unwritten:
            message = f"records[{index}]: no column for {', '.join(unwritten)}; not written"
            out.warning("CITES_ENCODE_NOT_CARRIED", message)
    return out.result("".join(lines).encode("utf-8"))
