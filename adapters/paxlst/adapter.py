"""The ``paxlst`` adapter: UN/EDIFACT PAXLST passenger and crew lists in and out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from adapters.base import Adapter, DecodeResult, EncodeResult
from adapters.paxlst.decode import decode_payload
from adapters.paxlst.encode import encode_records
from liaison.v1 import record_pb2

__all__ = ["PaxlstAdapter"]


class PaxlstAdapter(Adapter):
    """UN/EDIFACT PAXLST (WCO/IATA/ICAO API guidelines, directories D.02B and D.05B).

    ``decode`` gives one ``PassengerManifest`` record per message (per multi-part group) and,
    per traveller, one ``Person`` record and one ``TravelDocument`` record per DOC, linked.
    ``encode`` writes those records back as a D.05B interchange (or the directory version the
    manifest came in).
    """

    name: ClassVar[str] = "paxlst"
    version: ClassVar[str] = "1.2.0"
    description: ClassVar[str] = (
        "UN/EDIFACT PAXLST passenger and crew lists (WCO/IATA/ICAO API, D.02B and D.05B)"
    )
    source_format: ClassVar[str] = "UN/EDIFACT PAXLST"
    media_types: ClassVar[tuple[str, ...]] = ("application/EDIFACT",)
    file_extensions: ClassVar[tuple[str, ...]] = ("edi", "edifact", "paxlst")

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        """Decode a PAXLST interchange. Never raises on bad input: see the diagnostics."""
        return decode_payload(self, payload, source_reference)

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        """Write manifests and their linked persons and documents as a PAXLST interchange."""
        return encode_records(records)
