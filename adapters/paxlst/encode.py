"""Encoding records as a PAXLST interchange (D.05B unless the manifest came as another).

Input: ``PassengerManifest`` records with the ``Person`` and ``TravelDocument`` records their
travellers refer to (``person_record_id``, ``document_record_ids``). Output: one interchange,
``UNA:+.? '`` then UNB, an optional UNG, one message per manifest (several when the manifest
came as a multi-part message), UNZ; counts and references consistent. The segments and their
order are those of the WCO/IATA/ICAO guide (sections 3 and 4), so the payload decodes back to
the same records.

What PAXLST has no place for (aliases, physical descriptions, MRZ lines, partial dates, ...) is
left out with a ``PAXLST_NOT_ENCODED`` warning per kind; a traveller whose person record is not
among the records, or has no name, cannot be written and is an error.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from adapters.base import EncodeBuilder, EncodeResult
from adapters.diagnostics import Location
from adapters.paxlst import codes
from adapters.paxlst.dates import DateValue, YearRule, format_date, reference_date
from adapters.paxlst.syntax import DEFAULT_CHARACTERS, charset_for, outside_level_a
from adapters.paxlst.values import country_text, place_code
from adapters.paxlst.writer import Element, MessageWriter, segment_text
from liaison.v1 import (
    common_pb2,
    manifest_pb2,
    person_pb2,
    record_pb2,
    travel_document_pb2,
)

__all__ = ["encode_records"]

_PERSON = "person"
_DOCUMENT = "travel_document"
_MANIFEST = "passenger_manifest"
_OTHER_DOCUMENT = travel_document_pb2.DOCUMENT_TYPE_OTHER
_CREW_ROLES = (manifest_pb2.TRAVELLER_ROLE_CREW, manifest_pb2.TRAVELLER_ROLE_INTRANSIT_CREW)
_MAX_REFERENCE = 14  # UNH 0062 is an..14
_MAX_PARTS = 99  # UNH S010 0070 is n..2
_MAX_STREET_LINES = 4  # NAD C059 has four 3042 components
_MAX_SUBDIVISION_CODE = 9  # NAD C819 3229 is an..9; a longer subdivision goes in 3228 (an..70)
_MANIFEST_FLIGHT = ("", "")


def encode_records(
    records: Sequence[record_pb2.Record],
    now: Callable[[], datetime.datetime] | None = None,
) -> EncodeResult:
    """Encode ``records`` as a PAXLST interchange; ``now`` dates a UNB that has no date."""
    encoder = _Encoder(records, now or (lambda: datetime.datetime.now(datetime.UTC)))
    return encoder.encode()


@dataclass(slots=True)
class _Traveller:
    entry: manifest_pb2.ManifestTraveller
    person: person_pb2.Person
    documents: list[tuple[travel_document_pb2.TravelDocument, str]]
    pointer: str
    """JSON pointer of the person record, for diagnostics."""


@dataclass(slots=True)
class _NotCarried:
    pointer: str
    count: int = 1


@dataclass(slots=True)
class _Encoder:
    records: Sequence[record_pb2.Record]
    now: Callable[[], datetime.datetime]
    out: EncodeBuilder = field(default_factory=EncodeBuilder)
    by_id: dict[str, int] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)
    not_carried: dict[str, _NotCarried] = field(default_factory=dict)
    reference: datetime.date = datetime.date(2000, 1, 1)

    # --- diagnostics ---

    def _lost(self, what: str, pointer: str) -> None:
        entry = self.not_carried.get(what)
        if entry is None:
            self.not_carried[what] = _NotCarried(pointer)
        else:
            entry.count += 1

    def _error(self, code: str, message: str, pointer: str) -> None:
        self.out.error(code, message, Location(json_pointer=pointer))

    def _warning(self, code: str, message: str, pointer: str) -> None:
        self.out.warning(code, message, Location(json_pointer=pointer))

    # --- the interchange ---

    def encode(self) -> EncodeResult:
        for index, record in enumerate(self.records):
            self.by_id.setdefault(record.record_id, index)
        manifests = [
            (index, record)
            for index, record in enumerate(self.records)
            if record.WhichOneof("body") == _MANIFEST
        ]
        if not manifests:
            self.out.error(
                "PAXLST_ENCODE_NO_MANIFEST",
                "no PassengerManifest record among the records: nothing to write",
                Location(json_pointer=""),
            )
            return self.out.result(b"")
        envelope = manifests[0][1].passenger_manifest.envelope
        prepared = self._prepared(*manifests[0])
        self.reference = reference_date(prepared.split(":")[0]) or self.now().date()
        interchange_reference = envelope.interchange_reference or "1"
        messages: list[str] = []
        for number, (index, record) in enumerate(manifests, start=1):
            self.used.add(index)
            if number > 1 and _interchange_fields(record) != _interchange_fields(manifests[0][1]):
                self._warning(
                    "PAXLST_ENCODE_ENVELOPE",
                    "one interchange is written: its header (UNB, UNG) is the first manifest's",
                    f"/{index}/passengerManifest/envelope",
                )
            messages.extend(self._manifest(index, record, number))
        payload = self._interchange(manifests[0], prepared, interchange_reference, messages)
        self._unreferenced()
        self._report_not_carried()
        return self.out.result(payload)

    def _prepared(self, index: int, record: record_pb2.Record) -> str:
        manifest = record.passenger_manifest
        if manifest.envelope.prepared_at:
            if manifest.HasField("transmitted_at"):
                self._lost(
                    "a transmission time beside the UNB date",
                    f"/{index}/passengerManifest/transmittedAt",
                )
            return manifest.envelope.prepared_at
        if manifest.HasField("transmitted_at"):
            moment = manifest.transmitted_at.ToDatetime(datetime.UTC)
        else:
            moment = self.now().astimezone(datetime.UTC)
        return moment.strftime("%y%m%d:%H%M")

    def _interchange(
        self,
        first: tuple[int, record_pb2.Record],
        prepared: str,
        interchange_reference: str,
        messages: list[str],
    ) -> bytes:
        index, record = first
        manifest = record.passenger_manifest
        envelope = manifest.envelope
        pointer = f"/{index}/passengerManifest/envelope"
        sender = envelope.sender or manifest.carrier_code
        if not sender:
            sender = "UNKNOWN"
            self._warning(
                "PAXLST_ENCODE_VALUE", "no interchange sender: written as UNKNOWN", pointer
            )
        recipient = envelope.recipient
        if not recipient:
            recipient = "UNKNOWN"
            self._warning(
                "PAXLST_ENCODE_VALUE", "no interchange recipient: written as UNKNOWN", pointer
            )
        body: list[str] = []
        grouped = bool(envelope.group_sender or envelope.group_recipient)
        if grouped:
            version = envelope.message_identifier.split(":")[1:3]
            if len(version) != 2 or not envelope.message_identifier.startswith("PAXLST:"):
                version = codes.DEFAULT_MESSAGE_IDENTIFIER.split(":")[1:3]
            body.append(
                segment_text(
                    "UNG",
                    [
                        "PAXLST",
                        envelope.group_sender.split(":"),
                        envelope.group_recipient.split(":"),
                        prepared.split(":"),
                        interchange_reference,
                        "UN",
                        version,
                    ],
                )
            )
        body.extend(messages)
        if grouped:
            body.append(segment_text("UNE", [str(len(messages)), interchange_reference]))
        count = 1 if grouped else len(messages)
        body.append(segment_text("UNZ", [str(count), interchange_reference]))
        rest = "".join(body)

        def unb(syntax: str) -> str:
            return segment_text(
                "UNB",
                [
                    syntax.split(":"),
                    sender.split(":"),
                    recipient.split(":"),
                    prepared.split(":"),
                    interchange_reference,
                ],
            )

        declared = envelope.syntax_identifier
        text = DEFAULT_CHARACTERS.una + unb(declared or "UNOA:4") + rest
        syntax, codec = self._syntax(declared, text, f"{pointer}/syntaxIdentifier")
        if syntax != declared:
            text = DEFAULT_CHARACTERS.una + unb(syntax) + rest
        return text.encode(codec)

    def _syntax(self, declared: str, text: str, pointer: str) -> tuple[str, str]:
        """The syntax identifier to declare, and the codec: the declared one if it can hold
        the text, else the narrowest that can (UNOA, UNOB, UNOC, UNOY)."""
        identifier, _, version = declared.partition(":")
        if not (version.isascii() and version.isdigit()):
            version = "4"
        charset = charset_for(identifier)
        if charset is not None and _fits(text, charset.codec):
            return declared, charset.codec
        if text.isascii():
            choice = ("UNOA", "ascii") if outside_level_a(text) < 0 else ("UNOB", "ascii")
        elif _fits(text, "latin-1"):
            choice = ("UNOC", "latin-1")
        else:
            choice = ("UNOY", "utf-8")
        if declared:
            self._warning(
                "PAXLST_ENCODE_CHARSET",
                "the declared character set (UNB S001) cannot hold the text; "
                f"declared as {choice[0]} instead",
                pointer,
            )
        return f"{choice[0]}:{version}", choice[1]

    def _unreferenced(self) -> None:
        for index in range(len(self.records)):
            if index not in self.used:
                self._warning(
                    "PAXLST_ENCODE_UNREFERENCED",
                    "the record is not a manifest nor a traveller's person or document of one; "
                    "not written",
                    f"/{index}",
                )

    def _report_not_carried(self) -> None:
        for what, entry in self.not_carried.items():
            times = "once" if entry.count == 1 else f"{entry.count} times"
            self._warning(
                "PAXLST_NOT_ENCODED",
                f"PAXLST cannot carry {what} ({times}); left out",
                entry.pointer,
            )

    # --- one manifest ---

    def _manifest(self, index: int, record: record_pb2.Record, number: int) -> list[str]:
        manifest = record.passenger_manifest
        pointer = f"/{index}/passengerManifest"
        if record.HasField("handling"):
            self._lost("handling codes", f"/{index}/handling")
        travellers = self._travellers(index, manifest)
        header = self._header(index, manifest, travellers)
        envelope = manifest.envelope
        reference = envelope.message_reference or str(number)
        identifier = envelope.message_identifier or codes.DEFAULT_MESSAGE_IDENTIFIER
        if not identifier.startswith("PAXLST:"):
            self._warning(
                "PAXLST_ENCODE_VALUE",
                "the message identifier is not a PAXLST one; written as "
                + codes.DEFAULT_MESSAGE_IDENTIFIER,
                f"{pointer}/envelope/messageIdentifier",
            )
            identifier = codes.DEFAULT_MESSAGE_IDENTIFIER
        parts = max(envelope.part_number, 1)
        if parts > _MAX_PARTS:
            parts = 1
            self._warning(
                "PAXLST_ENCODE_VALUE",
                "UNH S010 numbers at most 99 parts: written as one message",
                f"{pointer}/envelope/partNumber",
            )
        common_access = envelope.common_access_reference
        if parts > 1 and not common_access:
            common_access = reference
            self._warning(
                "PAXLST_ENCODE_VALUE",
                "a multi-part message needs a common access reference: the message reference "
                "is used",
                f"{pointer}/envelope/commonAccessReference",
            )
        sizes = [
            len(travellers) // parts + (1 if k < len(travellers) % parts else 0)
            for k in range(parts)
        ]
        declared = manifest.declared_traveller_count
        per_part = declared == len(travellers)
        cnt_code = codes.CNT_BY_MANIFEST_TYPE.get(
            self._manifest_type(manifest), codes.CNT_PASSENGERS
        )
        messages: list[str] = []
        start = 0
        for part in range(1, parts + 1):
            writer = MessageWriter()
            part_reference = reference
            if part > 1:
                suffix = f"{part:02d}"
                part_reference = reference[: _MAX_REFERENCE - len(suffix)] + suffix
            sequence: Element = ""
            if envelope.part_number:
                indicator = ""
                if parts > 1 and part == 1:
                    indicator = "C"
                if part == parts and envelope.last_part:
                    indicator = "F"
                sequence = (f"{part:02d}", indicator)
            writer.add("UNH", part_reference, identifier.split(":"), common_access, sequence)
            for tag, elements in header:
                writer.add(tag, *elements)
            chunk = travellers[start : start + sizes[part - 1]]
            start += sizes[part - 1]
            for traveller in chunk:
                self._traveller(writer, traveller)
            if per_part:
                writer.add("CNT", (cnt_code, str(len(chunk))))
            elif part == parts and declared:
                writer.add("CNT", (cnt_code, str(declared)))
            writer.close(part_reference)
            messages.append("".join(writer.segments))
        return messages

    def _manifest_type(self, manifest: manifest_pb2.PassengerManifest) -> int:
        if manifest.manifest_type in codes.BGM_BY_MANIFEST_TYPE:
            return manifest.manifest_type
        crew = bool(manifest.travellers) and all(
            traveller.role in _CREW_ROLES for traveller in manifest.travellers
        )
        return manifest_pb2.MANIFEST_TYPE_CREW if crew else manifest_pb2.MANIFEST_TYPE_PASSENGER

    def _header(
        self, index: int, manifest: manifest_pb2.PassengerManifest, travellers: list[_Traveller]
    ) -> list[tuple[str, list[Element]]]:
        pointer = f"/{index}/passengerManifest"
        manifest_type = self._manifest_type(manifest)
        if manifest.manifest_type not in codes.BGM_BY_MANIFEST_TYPE:
            self._warning(
                "PAXLST_ENCODE_VALUE",
                "the manifest type is not given: written as a "
                + (
                    "crew list (BGM 250)"
                    if manifest_type == manifest_pb2.MANIFEST_TYPE_CREW
                    else "passenger list (BGM 745)"
                ),
                f"{pointer}/manifestType",
            )
        header: list[tuple[str, list[Element]]] = [
            (
                "BGM",
                [codes.BGM_BY_MANIFEST_TYPE[manifest_type], manifest.envelope.document_identifier],
            )
        ]
        party = manifest.reporting_party
        if party.name or party.telephone or party.fax or party.email:
            header.append(("NAD", [codes.REPORTING_PARTY, "", "", (party.name,)]))
            channels: list[Element] = [
                (number, channel)
                for number, channel in (
                    (party.telephone, "TE"),
                    (party.fax, "FX"),
                    (party.email, "EM"),
                )
                if number
            ]
            if channels:
                header.append(("COM", channels))
        if not manifest.flight_number:
            self._error(
                "PAXLST_ENCODE_VALUE",
                "the manifest has no flight number, which TDT requires",
                f"{pointer}/flightNumber",
            )
        header.append(_tdt(manifest.flight_number, manifest.carrier_code))
        # A leg with a flight of its own is written in a further TDT group (Gr. 2) naming it;
        # consecutive legs of one flight share a group, and a leg of the manifest's flight after
        # them opens a group naming the manifest's flight again. The flight's final destination
        # (LOC+130) closes the first group.
        group = _MANIFEST_FLIGHT
        destination_written = False
        for number, leg in enumerate(manifest.legs):
            leg_pointer = f"{pointer}/legs/{number}"
            flight = self._leg_flight(manifest, leg, leg_pointer)
            if flight != group:
                if not destination_written:
                    self._final_destination(header, manifest, pointer)
                    destination_written = True
                header.append(
                    _tdt(*flight)
                    if flight[0]
                    else _tdt(manifest.flight_number, manifest.carrier_code)
                )
                group = flight
            self._leg(header, leg, leg_pointer)
        if not destination_written:
            self._final_destination(header, manifest, pointer)
        return header

    def _leg_flight(
        self, manifest: manifest_pb2.PassengerManifest, leg: manifest_pb2.FlightLeg, pointer: str
    ) -> tuple[str, str]:
        """(flight, carrier) of a leg with a flight of its own; empty for the manifest's."""
        if leg.flight_number and leg.flight_number != manifest.flight_number:
            return leg.flight_number, leg.carrier_code
        if leg.carrier_code and leg.carrier_code != manifest.carrier_code:
            self._lost("a leg's carrier without a flight of its own", f"{pointer}/carrierCode")
        return _MANIFEST_FLIGHT

    def _final_destination(
        self,
        header: list[tuple[str, list[Element]]],
        manifest: manifest_pb2.PassengerManifest,
        pointer: str,
    ) -> None:
        if manifest.HasField("final_destination"):
            place = self._airport(manifest.final_destination, f"{pointer}/finalDestination")
            header.append(("LOC", [codes.LOC_FINAL_DESTINATION, place]))

    def _leg(
        self, header: list[tuple[str, list[Element]]], leg: manifest_pb2.FlightLeg, pointer: str
    ) -> None:
        if leg.HasField("departure"):
            header.append(("LOC", [codes.LOC_DEPARTURE, self._airport(leg.departure, pointer)]))
        if leg.HasField("scheduled_departure"):
            value = self._local(leg.scheduled_departure, YearRule.NEAREST, pointer)
            if value is not None:
                header.append(("DTM", [(codes.DTM_DEPARTURE, *value)]))
        for place in leg.routing:
            header.append(("LOC", [codes.LOC_ROUTING, self._airport(place, pointer)]))
        if leg.HasField("arrival"):
            header.append(("LOC", [codes.LOC_ARRIVAL, self._airport(leg.arrival, pointer)]))
        if leg.HasField("scheduled_arrival"):
            value = self._local(leg.scheduled_arrival, YearRule.NEAREST, pointer)
            if value is not None:
                header.append(("DTM", [(codes.DTM_ARRIVAL, *value)]))

    # --- values ---

    def _airport(self, place: common_pb2.Place, pointer: str) -> Element:
        code = place_code(place)
        codes_given = sum(
            1 for value in (place.iata_code, place.unlocode, place.other_code) if value
        )
        if codes_given > 1 or place.HasField("country"):
            self._lost("more than one code of a place, or its country", pointer)
        return (code, "", "", place.name)

    def _date(
        self, date: common_pb2.PartialDate, rule: YearRule, pointer: str
    ) -> tuple[str, str] | None:
        if not (date.year and date.month and date.day):
            self._lost("partial dates", pointer)
            return None
        return format_date(
            DateValue(date.year, date.month, date.day), rule, self.reference, with_time=False
        )

    def _local(
        self, moment: manifest_pb2.LocalDateTime, rule: YearRule, pointer: str
    ) -> tuple[str, str] | None:
        date = moment.date
        if not (date.year and date.month and date.day):
            self._lost("partial dates", pointer)
            return None
        value = DateValue(
            date.year, date.month, date.day, moment.hour, moment.minute, moment.has_time
        )
        return format_date(value, rule, self.reference, with_time=moment.has_time)

    # --- travellers ---

    def _travellers(self, index: int, manifest: manifest_pb2.PassengerManifest) -> list[_Traveller]:
        travellers: list[_Traveller] = []
        for number, entry in enumerate(manifest.travellers):
            pointer = f"/{index}/passengerManifest/travellers/{number}"
            # The traveller's records are accounted for here, written or not: a record left out
            # because its traveller cannot be written is reported with that traveller.
            documents = self._documents(entry, pointer)
            person_index = self._find(entry.person_record_id, _PERSON)
            if person_index is None:
                self._error(
                    "PAXLST_ENCODE_MISSING_RECORD",
                    "the traveller's person record is not among the records; "
                    "the traveller is not written",
                    f"{pointer}/personRecordId",
                )
                continue
            self.used.add(person_index)
            person = self.records[person_index].person
            if not person.names or not any(_name_parts(person.names[0])):
                self._error(
                    "PAXLST_ENCODE_VALUE",
                    "the traveller's person has no name, which NAD requires; "
                    "the traveller is not written",
                    f"/{person_index}/person/names",
                )
                continue
            travellers.append(_Traveller(entry, person, documents, f"/{person_index}"))
        return travellers

    def _documents(
        self, entry: manifest_pb2.ManifestTraveller, pointer: str
    ) -> list[tuple[travel_document_pb2.TravelDocument, str]]:
        documents: list[tuple[travel_document_pb2.TravelDocument, str]] = []
        for position, document_id in enumerate(entry.document_record_ids):
            document_index = self._find(document_id, _DOCUMENT)
            if document_index is None:
                self._error(
                    "PAXLST_ENCODE_MISSING_RECORD",
                    "a travel document record of the traveller is not among the records; "
                    "it is not written",
                    f"{pointer}/documentRecordIds/{position}",
                )
                continue
            self.used.add(document_index)
            documents.append((self.records[document_index].travel_document, f"/{document_index}"))
        return documents

    def _find(self, record_id: str, body: str) -> int | None:
        index = self.by_id.get(record_id)
        if index is None or self.records[index].WhichOneof("body") != body:
            return None
        return index

    def _traveller(self, writer: MessageWriter, traveller: _Traveller) -> None:
        entry, person, pointer = traveller.entry, traveller.person, traveller.pointer
        self._person_losses(person, pointer)
        role = codes.NAD_BY_ROLE.get(entry.role)
        if role is None:
            role = "FL"
            self._warning(
                "PAXLST_ENCODE_VALUE",
                "the traveller's role is not given: written as a passenger (NAD+FL)",
                pointer,
            )
        name = person.names[0]
        family, given, middle = _name_parts(name)
        writer.add("NAD", role, "", "", (family, given, middle), *self._address(person, pointer))
        writer.add("ATT", codes.ATT_SEX, "", (codes.ATT_BY_SEX.get(person.sex, "U"),))
        if person.HasField("birth_date"):
            birth = self._date(person.birth_date, YearRule.PAST, f"{pointer}/person/birthDate")
            if birth is not None:
                writer.add("DTM", (codes.DTM_BIRTH, *birth))
        for note in entry.notes:
            qualifier, *text = note.split(":")
            if not (qualifier or any(text)):
                self._lost("empty notes", pointer)
                continue
            writer.add("FTX", qualifier, "", "", text)
        for qualifier, place in (
            (codes.LOC_EMBARKATION, entry.embarkation),
            (codes.LOC_DEBARKATION, entry.debarkation),
            (codes.LOC_FINAL_DESTINATION, entry.final_destination),
        ):
            if place.ListFields():
                writer.add("LOC", qualifier, self._airport(place, pointer))
        if person.HasField("residence_country"):
            writer.add("LOC", codes.LOC_RESIDENCE, (country_text(person.residence_country),))
        if person.HasField("birth_place"):
            place = person.birth_place
            code = country_text(place.country) if place.HasField("country") else ""
            if place.iata_code or place.unlocode or place.other_code:
                self._lost("codes of a place of birth (only its country and name)", pointer)
            writer.add("LOC", codes.LOC_BIRTH_PLACE, (code, "", "", place.name))
        for nationality in person.nationalities:
            writer.add("NAT", "2", (country_text(nationality),))
        if entry.pnr_locator:
            writer.add("RFF", (codes.RFF_PNR, entry.pnr_locator))
        for reference in entry.references:
            qualifier, _, identifier = reference.partition(":")
            if not qualifier or not identifier:
                self._lost("references not written QUALIFIER:VALUE", pointer)
                continue
            writer.add("RFF", (qualifier, identifier))
        for document, document_pointer in traveller.documents:
            self._document(writer, document, person, document_pointer)

    def _address(self, person: person_pb2.Person, pointer: str) -> list[Element]:
        """NAD C059, 3164, C819, 3251 and 3207 of the person's first address (IG 4.11)."""
        if not person.addresses:
            return []
        if len(person.addresses) > 1:
            self._lost("more than one address per person", f"{pointer}/person/addresses/1")
        address = person.addresses[0]
        lines = list(address.street_lines)
        if len(lines) > _MAX_STREET_LINES:
            self._lost(
                "more than four street lines of an address",
                f"{pointer}/person/addresses/0/streetLines",
            )
        subdivision = address.country_subdivision
        region = (
            (subdivision,)
            if len(subdivision) <= _MAX_SUBDIVISION_CODE
            else ("", "", "", subdivision)
        )
        country = country_text(address.country) if address.HasField("country") else ""
        return [lines[:_MAX_STREET_LINES], address.city, region, address.postal_code, country]

    def _person_losses(self, person: person_pb2.Person, pointer: str) -> None:
        if len(person.names) > 1:
            self._lost("more than one name per person (aliases)", f"{pointer}/person/names/1")
        name = person.names[0]
        if name.full and (name.family or name.given or name.middle):
            self._lost("a full name beside its parts", f"{pointer}/person/names/0/full")
        if name.script or name.HasField("transliteration"):
            self._lost("name scripts and transliterations", f"{pointer}/person/names/0")
        if name.qualification:
            self._lost("name qualifications", f"{pointer}/person/names/0/qualification")
        for label, present in (
            ("alternative dates of birth", bool(person.alternative_birth_dates)),
            ("languages", bool(person.languages)),
            ("physical descriptions", person.HasField("physical_description")),
            ("identifiers of persons", bool(person.identifiers)),
            ("parents' names", bool(person.mother_names or person.father_names)),
            ("occupations", bool(person.occupation)),
        ):
            if present:
                self._lost(label, f"{pointer}/person")

    def _document(
        self,
        writer: MessageWriter,
        document: travel_document_pb2.TravelDocument,
        person: person_pb2.Person,
        pointer: str,
    ) -> None:
        code = document.document_code or codes.DOCUMENT_CODE_BY_TYPE.get(document.document_type, "")
        if not code:
            self._error(
                "PAXLST_ENCODE_VALUE",
                "the document has neither a PAXLST document code nor a type that has one; "
                "not written",
                f"{pointer}/travelDocument/documentType",
            )
            return
        if not document.document_number:
            self._error(
                "PAXLST_ENCODE_VALUE",
                "the document has no number, which DOC requires",
                f"{pointer}/travelDocument/documentNumber",
            )
        self._document_losses(document, person, pointer)
        writer.add("DOC", code, document.document_number)
        if document.HasField("expiry_date"):
            value = self._date(document.expiry_date, YearRule.NEAREST, pointer)
            if value is not None:
                writer.add("DTM", (codes.DTM_EXPIRY, *value))
        if document.HasField("issue_date"):
            value = self._date(document.issue_date, YearRule.PAST, pointer)
            if value is not None:
                writer.add("DTM", (codes.DTM_ISSUE, *value))
        country = (
            document.issuing_state
            if document.HasField("issuing_state")
            else (document.issue_place.country)
        )
        name = document.issue_place.name
        if document.HasField("issuing_state") or document.HasField("issue_place"):
            writer.add("LOC", codes.LOC_ISSUE_PLACE, (country_text(country), "", "", name))

    def _document_losses(
        self,
        document: travel_document_pb2.TravelDocument,
        person: person_pb2.Person,
        pointer: str,
    ) -> None:
        for label, present in (
            ("issuing authorities", bool(document.issuing_authority)),
            ("personal numbers of documents", bool(document.personal_number)),
            ("machine readable zones", document.HasField("mrz")),
            (
                "visa entries and durations",
                bool(
                    document.visa_entries
                    or document.visa_multiple_entries
                    or document.visa_duration_days
                ),
            ),
            (
                "document holder data that differs from the traveller's",
                _holder_differs(document, person),
            ),
            (
                "a place of issue other than the issuing state",
                document.HasField("issuing_state")
                and document.issue_place.HasField("country")
                and document.issue_place.country != document.issuing_state,
            ),
        ):
            if present:
                self._lost(label, f"{pointer}/travelDocument")
        if document.document_type == _OTHER_DOCUMENT and not document.document_code:
            self._lost("document types without a code", f"{pointer}/travelDocument")


def _interchange_fields(record: record_pb2.Record) -> tuple[str, ...]:
    envelope = record.passenger_manifest.envelope
    return (
        envelope.syntax_identifier,
        envelope.sender,
        envelope.recipient,
        envelope.prepared_at,
        envelope.interchange_reference,
        envelope.group_sender,
        envelope.group_recipient,
    )


def _tdt(flight: str, carrier: str) -> tuple[str, list[Element]]:
    """TDT+20 (IG 4.8): the flight (8028) and its carrier (C040 3127)."""
    return ("TDT", [codes.TDT_MAIN_CARRIAGE, flight, "", "", (carrier,)])


def _name_parts(name: common_pb2.Name) -> tuple[str, str, str]:
    """Surname, first given name, further given names: NAD C080 3036 one to three."""
    if name.family or name.given or name.middle:
        return name.family, name.given, name.middle
    return name.full, "", ""


def _holder_differs(
    document: travel_document_pb2.TravelDocument, person: person_pb2.Person
) -> bool:
    if document.HasField("holder_name") and (
        not person.names or document.holder_name != person.names[0]
    ):
        return True
    if document.HasField("holder_nationality") and (
        not person.nationalities or document.holder_nationality != person.nationalities[0]
    ):
        return True
    if document.HasField("holder_birth_date") and document.holder_birth_date != person.birth_date:
        return True
    return bool(document.holder_sex and document.holder_sex != person.sex)


def _fits(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True
