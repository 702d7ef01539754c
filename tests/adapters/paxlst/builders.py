"""Small PAXLST interchanges for tests: a message body in, correct envelope and counts around it.

Tests state only the segments they are about; ``interchange`` adds UNA, UNB, UNH/UNT (with the
right segment count) and UNZ, so a test's diagnostics come from what it states.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.base import DecodeResult
from adapters.diagnostics import Diagnostic
from adapters.paxlst import PaxlstAdapter
from liaison.v1 import manifest_pb2, person_pb2, record_pb2, travel_document_pb2

ADAPTER = PaxlstAdapter()

UNA = "UNA:+.? '"
UNB = "UNB+UNOA:4+SENDER:ZZ+RECIPIENT:ZZ+251127:0900+REF1"
FLIGHT = [
    "BGM+745",
    "NAD+MS+++API DESK",
    "TDT+20+AB123+++AB",
    "LOC+125+CDG",
    "DTM+189:2511271000:201",
    "LOC+87+YUL",
    "DTM+232:2511271230:201",
]
"""A passenger list header: BGM, reporting party, one flight leg CDG-YUL on 27 November 2025."""
TRAVELLER = ["NAD+FL+++DOE:JANE", "ATT+2++F", "DTM+329:850315"]


def message(
    body: Sequence[str],
    *,
    reference: str = "M1",
    identifier: str = "PAXLST:D:05B:UN:IATA",
    tail: str = "",
) -> list[str]:
    """UNH, ``body``, UNT with the right count; ``tail`` after the identifier (0068, S010)."""
    unh = f"UNH+{reference}+{identifier}" + (f"+{tail}" if tail else "")
    segments = [unh, *body]
    return [*segments, f"UNT+{len(segments) + 1}+{reference}"]


def interchange(
    *messages: Sequence[str],
    una: str | None = UNA,
    unb: str | None = UNB,
    unz: bool = True,
    separator: str = "'",
    line_break: str = "",
) -> bytes:
    """The interchange text of ``messages`` (each a list of segments), as ASCII bytes."""
    segments: list[str] = [unb] if unb else []
    for segments_of_message in messages:
        segments.extend(segments_of_message)
    if unz:
        segments.append(f"UNZ+{len(messages)}+REF1")
    text = (una + line_break if una else "") + "".join(
        segment + separator + line_break for segment in segments
    )
    return text.encode("ascii")


def passenger_list(*traveller_segments: str, header: Sequence[str] = FLIGHT) -> bytes:
    """One passenger-list message: ``header`` (BGM to the itinerary), the segments, CNT."""
    travellers = sum(1 for segment in traveller_segments if segment.startswith("NAD+F"))
    body = [*header, *traveller_segments, f"CNT+42:{travellers}"]
    return interchange(message(body))


def decode(payload: bytes) -> DecodeResult:
    return ADAPTER.decode(payload, source_reference="test.edi")


def codes(result: DecodeResult) -> list[str]:
    """The diagnostic codes, in order."""
    return [diagnostic.code for diagnostic in result.diagnostics]


def only(result: DecodeResult, code: str) -> Diagnostic:
    """The single diagnostic with ``code``."""
    found = [diagnostic for diagnostic in result.diagnostics if diagnostic.code == code]
    assert len(found) == 1, f"{len(found)} diagnostics {code} in {codes(result)}"
    return found[0]


def bodies(result: DecodeResult, body: str) -> list[record_pb2.Record]:
    return [record for record in result.records if record.WhichOneof("body") == body]


def manifest(result: DecodeResult) -> manifest_pb2.PassengerManifest:
    (record,) = bodies(result, "passenger_manifest")
    return record.passenger_manifest


def persons(result: DecodeResult) -> list[person_pb2.Person]:
    return [record.person for record in bodies(result, "person")]


def documents(result: DecodeResult) -> list[travel_document_pb2.TravelDocument]:
    return [record.travel_document for record in bodies(result, "travel_document")]


def tainted_bodies(result: DecodeResult) -> list[str]:
    """The body kinds of the records an error names, in record order."""
    tainted = result.tainted_ids
    return [str(r.WhichOneof("body")) for r in result.records if r.record_id in tainted]
