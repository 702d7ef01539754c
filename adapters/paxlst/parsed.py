"""What the meaning layer reads a message into, before ids, links and multi-part joining.

A ``ParsedMessage`` holds records under construction (without ids): the message's manifest and
its travellers' persons and documents. As subjects of findings, a message stands for all its
records, ``ManifestOf`` for the manifest the message ends up in (its multi-part group's), and
``TravellerOf`` for one traveller's person and documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from adapters.paxlst.findings import Subject
from adapters.paxlst.lexer import Segment
from liaison.v1 import manifest_pb2, record_pb2

__all__ = ["ManifestOf", "ParsedMessage", "ParsedTraveller", "TravellerOf"]


@dataclass(slots=True, eq=False)
class ParsedTraveller:
    """One Gr. 4 traveller: the person, its documents, and its entry in the manifest."""

    person: record_pb2.Record
    documents: list[record_pb2.Record]
    entry: manifest_pb2.ManifestTraveller


class ManifestOf(Subject):
    """The manifest record a message ends up in (its multi-part group's)."""

    def __init__(self, message: ParsedMessage) -> None:
        self.message = message

    def records(self) -> Iterator[record_pb2.Record]:
        yield self.message.group_record or self.message.record


class TravellerOf(Subject):
    """A traveller's person and document records."""

    def __init__(self, traveller: ParsedTraveller) -> None:
        self.traveller = traveller

    def records(self) -> Iterator[record_pb2.Record]:
        yield self.traveller.person
        yield from self.traveller.documents


@dataclass(slots=True, eq=False)
class ParsedMessage(Subject):
    """One PAXLST message as read; as a finding's subject it stands for all its records."""

    record: record_pb2.Record
    """A record with the passenger_manifest body of this message alone."""
    unh: Segment
    travellers: list[ParsedTraveller] = field(default_factory=list)
    common_access_reference: str = ""
    part_number: int = 0
    part_indicator: str = ""
    """S010 0073: "C" (first of several), "F" (final), or empty."""
    declared: int | None = None
    """CNT 6066, when the message has a usable CNT."""
    cnt: Segment | None = None
    group_record: record_pb2.Record | None = None
    """The manifest record of the multi-part group this message was joined into."""
    manifest_subject: Subject = field(init=False)

    def __post_init__(self) -> None:
        self.manifest_subject = ManifestOf(self)

    @property
    def manifest(self) -> manifest_pb2.PassengerManifest:
        return self.record.passenger_manifest

    def records(self) -> Iterator[record_pb2.Record]:
        yield from self.manifest_subject.records()
        for traveller in self.travellers:
            yield traveller.person
            yield from traveller.documents
