"""Record ids of decoded PAXLST records: derived from the identity of the source, stable.

A manifest's id hashes its envelope (sender, recipient, interchange and message references,
common access reference), its flight and first scheduled departure, and its position among the
manifests of the interchange; a traveller's person adds the traveller's position, a document
the document's position too. Decoding the same content again, or the PAXLST the encoder wrote
for the records, gives the same ids; the hashing keeps personal data out of them.
"""

from __future__ import annotations

from adapters.base import stable_record_id
from liaison.v1 import manifest_pb2

__all__ = ["departure_key", "document_record_id", "manifest_record_id", "person_record_id"]


def departure_key(manifest: manifest_pb2.PassengerManifest) -> str:
    """The first scheduled departure as text ("2025-11-27T09:00"), empty without legs."""
    if not manifest.legs:
        return ""
    departure = manifest.legs[0].scheduled_departure
    date = departure.date
    return (
        f"{date.year:04d}-{date.month:02d}-{date.day:02d}"
        f"T{departure.hour:02d}:{departure.minute:02d}"
    )


def manifest_record_id(manifest: manifest_pb2.PassengerManifest, ordinal: int) -> str:
    """The id of the ``ordinal``-th (0-based) manifest of an interchange."""
    envelope = manifest.envelope
    return stable_record_id(
        "paxlst-manifest",
        envelope.sender,
        envelope.recipient,
        envelope.interchange_reference,
        envelope.message_reference,
        envelope.common_access_reference,
        manifest.flight_number,
        departure_key(manifest),
        str(ordinal),
    )


def person_record_id(manifest_id: str, traveller: int) -> str:
    """The id of the person of the ``traveller``-th (0-based) traveller of a manifest."""
    return stable_record_id("paxlst-person", manifest_id, str(traveller))


def document_record_id(manifest_id: str, traveller: int, document: int) -> str:
    """The id of a traveller's ``document``-th (0-based) travel document."""
    return stable_record_id("paxlst-document", manifest_id, str(traveller), str(document))
