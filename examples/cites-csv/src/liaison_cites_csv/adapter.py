"""``CitesCsvAdapter``: the adapter class, its identity, and its two methods."""

from __future__ import annotations

from collections.abc import Sequence

from adapters import Adapter, DecodeResult, EncodeResult
from liaison.v1 import record_pb2
from liaison_cites_csv.decoding import decode_payload
from liaison_cites_csv.encoding import encode_records

__all__ = ["CitesCsvAdapter"]


class CitesCsvAdapter(Adapter):
    """CITES Trade Database comparative tabulations (CSV), one ``Seizure`` record per row.

    Each row becomes a Seizure of commodity category ``CITES_SPECIES``: the year as its date, the
    taxon and term as its description (``Loxodonta africana (tusks)``), the quantity (the
    importer's, else the exporter's) with its unit as a UN/ECE Recommendation 20 code, and the
    countries of origin, export and import as its route. Columns with no field in a Seizure are
    named in one info diagnostic.
    """

    name = "cites-csv"
    version = "1.0.0"
    description = "CITES Trade Database comparative tabulations (CSV) as CITES-species seizures"
    source_format = "CITES Trade Database comparative tabulation (CSV)"
    media_types = ("text/csv",)
    file_extensions = ("csv",)

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        """Decode an export; never raises on bad input.

        Args:
            payload: The CSV file as downloaded (UTF-8, with or without a byte order mark).
            source_reference: Where it came from (a file name); each record's provenance refers
                to its line, ``NAME:LINE``.

        Returns:
            One record per data row that could be read, and the diagnostics, located by line and
            column.
        """
        out = self.builder(payload, source_reference)
        decode_payload(out, payload)
        return out.result()

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        """Write Seizure records of CITES specimens as a comparative tabulation.

        Args:
            records: Seizure records; what the format cannot hold is reported, not guessed.

        Returns:
            The UTF-8 CSV (CRLF line ends) and the diagnostics of what was left out.
        """
        return encode_records(records)
