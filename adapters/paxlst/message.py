"""The PAXLST meaning layer: the segments of one message (UNH .. UNT) into contract records.

The message follows the segment groups of the WCO/IATA/ICAO PAXLST implementation guide
(section 3, message structure; section 4, segment details):

- header: BGM (4.5), then Gr. 1 NAD+MS with COM (4.6, 4.7), the reporting party;
- Gr. 2 TDT (4.8), the flight, with Gr. 3 LOC + DTM (4.9, 4.10), its itinerary and final
  destination; a further TDT naming another flight gives that flight to the legs its group
  builds;
- Gr. 4 NAD+FL/FM/DDU/DDT (4.11), one traveller each with its name and address, with ATT, DTM,
  FTX, LOC, NAT, RFF (4.12-4.20), and Gr. 5 DOC + DTM + LOC (4.21-4.23), the traveller's
  documents;
- CNT (4.24), the declared number of travellers.

Each traveller becomes a ``Person`` record and each DOC a ``TravelDocument`` record; the message
becomes a ``PassengerManifest``. Ids and links are set later (``assemble``), once multi-part
messages are joined. A segment out of its place is reported and ignored, never guessed into
another traveller's data.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

from adapters.paxlst import codes
from adapters.paxlst.dates import DateValue, YearRule, parse_date
from adapters.paxlst.findings import (
    Findings,
    Subject,
    Unmapped,
    report_charset_problem,
    report_forbidden,
    report_undefined_releases,
)
from adapters.paxlst.lexer import Segment
from adapters.paxlst.parsed import ParsedMessage, ParsedTraveller, TravellerOf
from adapters.paxlst.values import number, set_country, set_location
from liaison.v1 import common_pb2, manifest_pb2, person_pb2, record_pb2, travel_document_pb2

__all__ = ["MessageParser", "carrier_of_flight"]

_HEADER, _TRANSPORT, _TRAVELLER, _DOCUMENT, _SKIPPED, _TRAILER = range(6)
_PRIMARY = common_pb2.NAME_TYPE_PRIMARY
_OTHER_DOCUMENT = travel_document_pb2.DOCUMENT_TYPE_OTHER
_UNSPECIFIED_SEX = common_pb2.SEX_UNSPECIFIED
_MAX_PARTS = 99  # UNH S010 0070 is n..2
_NO_FLIGHT = ("", "")

# IATA airline designator (two characters, letters or digits) or ICAO three-letter designator,
# then one to four digits and an optional operational suffix: "UA123", "9W1234", "EZY12A".
_FLIGHT = re.compile(r"([A-Z0-9]{2}[A-Z]?)([0-9]{1,4}[A-Z]?)")

# Segments of the traveller group the contract has no field for -> what to call them.
_UNMAPPED_TRAVELLER_SEGMENTS = {
    "MEA": "MEA measurements (baggage count and weight)",
    "GEI": "GEI processing indicators",
    "EMP": "EMP employment details (crew function)",
    "COM": "COM contact numbers of a traveller",
    "CPI": "CPI charge payment instructions",
    "QTY": "QTY quantities",
    "GID": "GID goods item details",
    "PDI": "PDI person demographic information",
    "CTA": "CTA contact information",
}


def carrier_of_flight(flight: str) -> str:
    """The airline designator at the start of a flight identifier, or empty."""
    match = _FLIGHT.fullmatch(flight)
    return match.group(1) if match else ""


class MessageParser:
    """Reads the segments of one PAXLST message, in order, into a ``ParsedMessage``."""

    def __init__(
        self,
        unh: Segment,
        envelope: manifest_pb2.EdifactEnvelope,
        findings: Findings,
        reference: datetime.date,
    ) -> None:
        self.findings = findings
        self.reference = reference
        self.unmapped = Unmapped()
        record = record_pb2.Record()
        self.message = ParsedMessage(record, unh)
        self.manifest = record.passenger_manifest
        self.manifest.envelope.CopyFrom(envelope)
        self.section = _HEADER
        self.seen_bgm = False
        self.seen_tdt = False
        self.reporting_party = False
        self.leg: manifest_pb2.FlightLeg | None = None
        # (flight, carrier) of the TDT group being read when it names another flight than the
        # manifest's: the legs it builds carry them. Empty for the manifest's own flight.
        self.group_flight = _NO_FLIGHT
        self.traveller: ParsedTraveller | None = None
        self.document: record_pb2.Record | None = None
        self.handlers: dict[str, Callable[[Segment, Segment | None], None]] = {
            "BGM": self._bgm,
            "NAD": self._nad,
            "COM": self._com,
            "TDT": self._tdt,
            "LOC": self._loc,
            "DTM": self._dtm,
            "ATT": self._att,
            "NAT": self._nat,
            "RFF": self._rff,
            "FTX": self._ftx,
            "DOC": self._doc,
            "CNT": self._cnt,
        }
        self._unh(unh)

    # --- helpers ---

    def _subjects(self) -> list[Subject]:
        """What the segment being read contributes to: the traveller, or the manifest."""
        if self.traveller is not None and self.section in (_TRAVELLER, _DOCUMENT):
            return [TravellerOf(self.traveller)]
        return [self.message.manifest_subject]

    def _traveller_for(
        self, segment: Segment, belongs: str = "a traveller (NAD)"
    ) -> ParsedTraveller | None:
        """The traveller a traveller segment belongs to; ``None`` (reported unless the group is
        being skipped) when no traveller group is open."""
        if self.traveller is not None and self.section in (_TRAVELLER, _DOCUMENT):
            return self.traveller
        if self.section != _SKIPPED:
            self._unexpected(segment, f"does not belong to {belongs}")
        return None

    def _unexpected(self, segment: Segment, why: str) -> None:
        self.findings.warning("PAXLST_UNEXPECTED_SEGMENT", f"{segment.tag} {why}; ignored", segment)

    def _code(self, segment: Segment, what: str) -> None:
        self.findings.warning("PAXLST_CODE", f"{segment.tag}: {what}; ignored", segment)

    def _note(self, segment: Segment, what: str) -> None:
        self.unmapped.note(what, lambda: self.findings.at(segment))

    def _date(self, segment: Segment, rule: YearRule) -> DateValue | None:
        value = segment.value(0, 1)
        if not value:
            self.findings.warning(
                "PAXLST_MISSING_DATA",
                f"DTM+{segment.value(0)}: no date value (C507 2380); ignored",
                segment,
            )
            return None
        parsed = parse_date(value, segment.value(0, 2), rule, self.reference)
        if isinstance(parsed, str):
            self.findings.error(
                "PAXLST_DATE", f"DTM+{segment.value(0)}: {parsed}", segment, self._subjects()
            )
            return None
        return parsed

    def _duplicate(self, segment: Segment, what: str) -> None:
        self.findings.warning(
            "PAXLST_DUPLICATE", f"{segment.tag}: {what} given twice; the first is kept", segment
        )

    # --- reading ---

    def feed(self, segment: Segment, following: Segment | None) -> None:
        """Read ``segment``; ``following`` is the segment right after it, if any (a look-ahead)."""
        handler = self.handlers.get(segment.tag)
        if handler is not None:
            handler(segment, following)
            if segment.charset_problem:
                self._charset_problem(segment)
            if segment.forbidden is not None:
                self._forbidden(segment)
            if segment.undefined_releases:
                report_undefined_releases(self.findings, segment, self._subjects())
            return
        if segment.charset_problem:
            self._charset_problem(segment)
        if segment.forbidden is not None:
            self._forbidden(segment)
        if segment.undefined_releases:
            report_undefined_releases(self.findings, segment, self._subjects())
        if segment.tag not in codes.PAXLST_TAGS:
            self.findings.warning(
                "PAXLST_UNKNOWN_SEGMENT",
                f"{segment.tag} is not a segment of the PAXLST message; ignored",
                segment,
            )
        elif self.section in (_TRAVELLER, _DOCUMENT):
            self._note(segment, _UNMAPPED_TRAVELLER_SEGMENTS.get(segment.tag, segment.tag))
        elif self.section == _SKIPPED:
            return
        elif self.section == _TRAILER:
            self._unexpected(segment, "after CNT")
        else:
            self._note(segment, f"{segment.tag} in the message header")

    def _charset_problem(self, segment: Segment) -> None:
        report_charset_problem(self.findings, segment, self._subjects())

    def _forbidden(self, segment: Segment) -> None:
        # A traveller's values go into the manifest's traveller entry too (places, references):
        # both records would be refused, so both are named.
        subjects = self._subjects()
        if self.message.manifest_subject not in subjects:
            subjects.append(self.message.manifest_subject)
        report_forbidden(self.findings, segment, subjects)

    def finish(self, end: Segment | None) -> ParsedMessage:
        """Check what the message must have and return it. ``end``: its UNT, if any."""
        where = end or self.message.unh
        subject = [self.message.manifest_subject]
        if not self.seen_bgm:
            self.findings.error(
                "PAXLST_MISSING_SEGMENT",
                "the message has no BGM: it does not say whether it lists passengers or crew",
                where,
                subject,
            )
        if not self.seen_tdt:
            self.findings.error(
                "PAXLST_MISSING_SEGMENT",
                "the message has no TDT: the flight is not identified",
                where,
                subject,
            )
        self.unmapped.report(self.findings)
        return self.message

    # --- UNH, BGM ---

    def _unh(self, unh: Segment) -> None:
        envelope = self.manifest.envelope
        if unh.tag != "UNH":
            return
        envelope.message_reference = unh.value(0)
        envelope.message_identifier = unh.joined(1)
        self.message.common_access_reference = envelope.common_access_reference = unh.value(2)
        sequence, indicator = unh.value(3, 0), unh.value(3, 1)
        if sequence:
            part = number(sequence)
            if part and part <= _MAX_PARTS:
                self.message.part_number = part
            else:
                self.findings.warning(
                    "PAXLST_PART_SEQUENCE",
                    "UNH S010: the sequence of transfers (0070) is not a number from 1 to 99",
                    unh,
                )
        if indicator in ("C", "F"):
            self.message.part_indicator = indicator
        elif indicator:
            self.findings.warning(
                "PAXLST_CODE",
                "UNH S010: the first/last transfer indicator (0073) is not C or F; ignored",
                unh,
            )

    def _bgm(self, segment: Segment, following: Segment | None) -> None:
        if self.seen_bgm:
            self._unexpected(segment, "repeats the BGM of the message")
            return
        self.seen_bgm = True
        manifest_type = codes.MANIFEST_TYPE_BY_BGM.get(segment.value(0))
        if manifest_type is None:
            self.findings.error(
                "PAXLST_CODE",
                "BGM: the document name code (1001) is neither 745 (passenger list) "
                "nor 250 (crew list)",
                segment,
                [self.message.manifest_subject],
            )
        else:
            self.manifest.manifest_type = manifest_type  # type: ignore[assignment]
        self.manifest.envelope.document_identifier = segment.value(1)

    # --- Gr. 1: reporting party ---

    def _nad(self, segment: Segment, following: Segment | None) -> None:
        qualifier = segment.value(0)
        if qualifier == codes.REPORTING_PARTY:
            self._reporting_party(segment)
            return
        role = codes.ROLE_BY_NAD.get(qualifier)
        if self.section == _TRAILER:
            self._unexpected(segment, "after CNT")
            return
        if role is None:
            self.findings.warning(
                "PAXLST_CODE",
                "NAD: the party function code qualifier (3035) is not MS, FL, FM, DDU or DDT; "
                "the segment group is skipped",
                segment,
            )
            self.section = _SKIPPED
            self.traveller = None
            return
        self._traveller(segment, role)

    def _reporting_party(self, segment: Segment) -> None:
        if self.reporting_party:
            self._unexpected(segment, "repeats the reporting party (NAD+MS)")
            return
        if self.section != _HEADER:
            self._unexpected(segment, "(reporting party) comes after the flight or travellers")
            return
        self.reporting_party = True
        name = " ".join(part for part in segment.components(3) if part)
        if not name:
            name = " ".join(part for part in segment.components(2) if part)
        self.manifest.reporting_party.name = name
        if segment.value(1):
            self._note(segment, "NAD+MS party identification (C082)")
        if any(segment.value(element) for element in range(4, 9)):
            self._note(segment, "NAD+MS address")

    def _com(self, segment: Segment, following: Segment | None) -> None:
        if self.section in (_TRAVELLER, _DOCUMENT):
            self._note(segment, _UNMAPPED_TRAVELLER_SEGMENTS["COM"])
            return
        if not self.reporting_party or self.section != _HEADER:
            self._unexpected(segment, "does not follow the reporting party (NAD+MS)")
            return
        party = self.manifest.reporting_party
        for element in segment.elements:
            address = element[0]
            channel = element[1] if len(element) > 1 else ""
            if channel == "TE" and not party.telephone:
                party.telephone = address
            elif channel == "FX" and not party.fax:
                party.fax = address
            elif channel == "EM" and not party.email:
                party.email = address
            else:
                self._note(segment, "COM numbers other than one TE, FX and EM")

    # --- Gr. 2 and 3: the flight ---

    def _tdt(self, segment: Segment, following: Segment | None) -> None:
        if self.section not in (_HEADER, _TRANSPORT):
            self._unexpected(segment, "comes after the travellers")
            return
        if segment.value(0) != codes.TDT_MAIN_CARRIAGE:
            self._code(segment, "the transport stage code qualifier (8051) is not 20")
            return
        flight = segment.value(1)
        self.section = _TRANSPORT
        self.leg = None
        self.group_flight = _NO_FLIGHT
        if self.seen_tdt:
            if flight and flight != self.manifest.flight_number:
                self.group_flight = (flight, segment.value(4) or carrier_of_flight(flight))
            elif not flight:
                # Its legs are then taken as the manifest's flight's.
                self.findings.warning(
                    "PAXLST_MISSING_DATA",
                    "TDT: a further flight group without a conveyance reference number (8028); "
                    "its legs are read as the manifest's flight",
                    segment,
                )
            return
        self.seen_tdt = True
        if not flight:
            self.findings.error(
                "PAXLST_MISSING_DATA",
                "TDT: no conveyance reference number (8028), the flight",
                segment,
                [self.message.manifest_subject],
            )
            return
        self.manifest.flight_number = flight
        self.manifest.carrier_code = segment.value(4) or carrier_of_flight(flight)

    def _new_leg(self) -> manifest_pb2.FlightLeg:
        flight, carrier = self.group_flight
        self.leg = self.manifest.legs.add(flight_number=flight, carrier_code=carrier)
        return self.leg

    def _flight_loc(self, segment: Segment, following: Segment | None) -> None:
        qualifier = segment.value(0)
        # LOC+92 is a departure or an arrival of a further leg when a DTM+189 or DTM+232
        # follows it (the guide's multi-leg example); otherwise a routing point.
        if qualifier == codes.LOC_ROUTING and following is not None and following.tag == "DTM":
            if following.value(0) == codes.DTM_DEPARTURE:
                qualifier = codes.LOC_DEPARTURE
            elif following.value(0) == codes.DTM_ARRIVAL:
                qualifier = codes.LOC_ARRIVAL
        leg = self.leg
        if qualifier == codes.LOC_DEPARTURE:
            if leg is None or leg.HasField("departure") or leg.HasField("arrival"):
                leg = self._new_leg()
            place = leg.departure
        elif qualifier == codes.LOC_ARRIVAL:
            if leg is None or leg.HasField("arrival"):
                leg = self._new_leg()
            place = leg.arrival
        elif qualifier == codes.LOC_ROUTING:
            if leg is None or leg.HasField("arrival"):
                leg = self._new_leg()
            place = leg.routing.add()
        elif qualifier == codes.LOC_FINAL_DESTINATION:
            # The flight's, not a leg's: it may come anywhere in the itinerary.
            place = self.manifest.final_destination
            if place.ListFields():
                self._duplicate(segment, "the flight's final destination (LOC+130)")
                return
        else:
            self._code(segment, "the location function code (3227) is not 125, 87, 92 or 130")
            return
        if not _fill_place(place, segment):
            self.findings.warning(
                "PAXLST_MISSING_DATA", f"LOC+{qualifier}: no location (C517)", segment
            )

    def _flight_dtm(self, segment: Segment) -> None:
        leg = self.leg
        if leg is None:
            self._unexpected(segment, "does not follow a LOC of the flight itinerary")
            return
        qualifier = segment.value(0)
        if qualifier == codes.DTM_DEPARTURE:
            present, target = leg.HasField("scheduled_departure"), leg.scheduled_departure
        elif qualifier == codes.DTM_ARRIVAL:
            present, target = leg.HasField("scheduled_arrival"), leg.scheduled_arrival
        else:
            self._code(segment, "the date function code (2005) is not 189 or 232")
            return
        if present:
            self._duplicate(segment, "a departure or arrival time of the leg")
            return
        value = self._date(segment, YearRule.NEAREST)
        if value is not None:
            _set_local(target, value)

    # --- Gr. 4: travellers ---

    def _traveller(self, segment: Segment, role: int) -> None:
        person_record = record_pb2.Record()
        person = person_record.person
        parts = segment.components(3)
        family = parts[0] if parts else ""
        given = parts[1] if len(parts) > 1 else ""
        middle = " ".join(part for part in parts[2:] if part)
        entry = self.manifest.travellers.add(role=role)
        traveller = ParsedTraveller(person_record, [], entry)
        self.message.travellers.append(traveller)
        self.traveller = traveller
        self.document = None
        self.section = _TRAVELLER
        if family or given or middle:
            person.names.add(type=_PRIMARY, family=family, given=given, middle=middle)
        else:
            unstructured = " ".join(part for part in segment.components(2) if part)
            if unstructured:
                person.names.add(type=_PRIMARY, full=unstructured)
            else:
                self.findings.error(
                    "PAXLST_MISSING_DATA",
                    f"NAD+{segment.value(0)}: the traveller has no name (C080)",
                    segment,
                    [TravellerOf(traveller)],
                )
        if segment.value(1):
            self._note(segment, "traveller party identification (NAD C082)")
        self._address(segment, person)

    def _address(self, segment: Segment, person: person_pb2.Person) -> None:
        """NAD C059 street, 3164 city, C819 subdivision, 3251 postal code, 3207 country."""
        street = [line for line in segment.components(4) if line]
        city, postal, country = segment.value(5), segment.value(7), segment.value(8)
        # C819: the subdivision's code (3229), or its name (3228) when no code is given.
        code, name = segment.value(6), segment.value(6, 3)
        if not (street or city or code or name or postal or country):
            return
        address = person.addresses.add(
            street_lines=street, city=city, country_subdivision=code or name, postal_code=postal
        )
        if code and name:
            self._note(segment, "a country subdivision name beside its code (NAD C819 3228)")
        if country:
            self._mapped(segment, set_country(address.country, country))

    def _att(self, segment: Segment, following: Segment | None) -> None:
        traveller = self._traveller_for(segment)
        if traveller is None:
            return
        if segment.value(0) != codes.ATT_SEX:
            self._note(segment, "ATT attributes other than gender")
            return
        sex = codes.SEX_BY_ATT.get(segment.value(2))
        if sex is None:
            self._code(segment, "the gender (C956 9019) is not M, F, X or U")
            return
        person = traveller.person.person
        if person.sex != _UNSPECIFIED_SEX:
            self._duplicate(segment, "the traveller's gender")
            return
        person.sex = sex  # type: ignore[assignment]

    def _dtm(self, segment: Segment, following: Segment | None) -> None:
        section = self.section
        if section == _TRANSPORT:
            self._flight_dtm(segment)
            return
        if section == _HEADER:
            self._note(segment, "DTM in the message header")
            return
        traveller = self._traveller_for(segment, "the flight or a traveller")
        if traveller is None:
            return
        qualifier = segment.value(0)
        document = self.document
        if qualifier == codes.DTM_BIRTH:
            person = traveller.person.person
            if person.HasField("birth_date"):
                self._duplicate(segment, "the date of birth")
                return
            value = self._date(segment, YearRule.PAST)
            if value is not None:
                _set_date(person.birth_date, value)
        elif document is not None and qualifier in (codes.DTM_EXPIRY, codes.DTM_ISSUE):
            expiry = qualifier == codes.DTM_EXPIRY
            body = document.travel_document
            if body.HasField("expiry_date" if expiry else "issue_date"):
                self._duplicate(segment, "a date of the document")
                return
            value = self._date(segment, YearRule.NEAREST if expiry else YearRule.PAST)
            if value is not None:
                _set_date(body.expiry_date if expiry else body.issue_date, value)
        else:
            self._code(
                segment,
                "the date function code (2005) is not 329 for a traveller, "
                "or 36 or 182 for a document",
            )

    def _loc(self, segment: Segment, following: Segment | None) -> None:
        section = self.section
        if section == _TRANSPORT:
            self._flight_loc(segment, following)
            return
        if section == _HEADER:
            self._note(segment, "LOC in the message header")
            return
        traveller = self._traveller_for(segment, "the flight or a traveller")
        if traveller is None:
            return
        qualifier = segment.value(0)
        entry = traveller.entry
        if qualifier == codes.LOC_ISSUE_PLACE and self.document is not None:
            self._issue_place(segment, self.document)
            return
        if qualifier == codes.LOC_EMBARKATION:
            place = entry.embarkation
        elif qualifier == codes.LOC_DEBARKATION:
            place = entry.debarkation
        elif qualifier == codes.LOC_FINAL_DESTINATION:
            place = entry.final_destination
        elif qualifier == codes.LOC_RESIDENCE:
            person = traveller.person.person
            if person.HasField("residence_country"):
                self._duplicate(segment, "the country of residence")
                return
            self._country(segment, person.residence_country)
            return
        elif qualifier == codes.LOC_BIRTH_PLACE:
            person = traveller.person.person
            if person.HasField("birth_place"):
                self._duplicate(segment, "the place of birth")
                return
            self._birth_place(segment, person.birth_place)
            return
        elif qualifier == "22":
            self._note(segment, "LOC+22 (customs clearance place at first arrival)")
            return
        else:
            self._code(
                segment,
                "the location function code (3227) is not one of 178, 179, 130, 174, 180 "
                "for a traveller, or 91 for a document",
            )
            return
        if place.ListFields():
            self._duplicate(segment, f"LOC+{qualifier}")
            return
        if not _fill_place(place, segment):
            self.findings.warning(
                "PAXLST_MISSING_DATA", f"LOC+{qualifier}: no location (C517)", segment
            )

    def _country(self, segment: Segment, target: common_pb2.CountryCode) -> bool:
        code = segment.value(1)
        if not code:
            self.findings.warning(
                "PAXLST_MISSING_DATA",
                f"{_label(segment)}: no country code",
                segment,
            )
            return False
        self._mapped(segment, set_country(target, code))
        return True

    def _mapped(self, segment: Segment, mapped: bool) -> None:
        if not mapped:
            self.findings.warning(
                "PAXLST_COUNTRY",
                f"{_label(segment)}: the country code is neither ISO 3166-1 "
                "alpha-3 nor an ICAO 9303 code; kept as written",
                segment,
            )

    def _birth_place(self, segment: Segment, place: common_pb2.Place) -> None:
        name = _place_name(segment)
        if segment.value(1):
            self._country(segment, place.country)
        elif not name:
            self.findings.warning(
                "PAXLST_MISSING_DATA", "LOC+180: no place of birth (C517)", segment
            )
            return
        if name:
            place.name = name

    def _nat(self, segment: Segment, following: Segment | None) -> None:
        traveller = self._traveller_for(segment)
        if traveller is None:
            return
        code = segment.value(1)
        if not code:
            self.findings.warning("PAXLST_MISSING_DATA", "NAT: no nationality code", segment)
            return
        self._mapped(segment, set_country(traveller.person.person.nationalities.add(), code))

    def _rff(self, segment: Segment, following: Segment | None) -> None:
        if self.section == _HEADER:
            self._note(segment, "RFF in the message header (transaction reference)")
            return
        traveller = self._traveller_for(segment)
        if traveller is None:
            return
        qualifier, reference = segment.value(0, 0), segment.value(0, 1)
        if not qualifier or not reference:
            self.findings.warning(
                "PAXLST_MISSING_DATA",
                "RFF: the reference qualifier (1153) or identifier (1154) is missing; ignored",
                segment,
            )
            return
        entry = traveller.entry
        if qualifier == codes.RFF_PNR and not entry.pnr_locator:
            entry.pnr_locator = reference
        else:
            entry.references.append(f"{qualifier}:{reference}")

    def _ftx(self, segment: Segment, following: Segment | None) -> None:
        if self.section == _HEADER:
            self._note(segment, "FTX in the message header")
            return
        traveller = self._traveller_for(segment)
        if traveller is None:
            return
        text = segment.components(3)
        while text and not text[-1]:
            text = text[:-1]
        qualifier = segment.value(0)
        if not qualifier and not text:
            self.findings.warning(
                "PAXLST_MISSING_DATA", "FTX: neither subject (4451) nor text (C108)", segment
            )
            return
        if segment.value(1) or segment.value(2):
            self._note(segment, "FTX coded text (4453, C107)")
        traveller.entry.notes.append(":".join([qualifier, *text]))

    # --- Gr. 5: documents ---

    def _doc(self, segment: Segment, following: Segment | None) -> None:
        traveller = self._traveller_for(segment)
        if traveller is None:
            return
        record = record_pb2.Record()
        document = record.travel_document
        code, number = segment.value(0), segment.value(1)
        traveller.documents.append(record)
        self.document = record
        self.section = _DOCUMENT
        document.document_code = code
        document.document_number = number
        document.document_type = codes.DOCUMENT_TYPE_BY_CODE.get(  # type: ignore[assignment]
            code, _OTHER_DOCUMENT
        )
        if not code or not number:
            self.findings.error(
                "PAXLST_MISSING_DATA",
                "DOC: the document name code (1001) or the document number (1004) is missing",
                segment,
                [TravellerOf(traveller)],
            )

    def _issue_place(self, segment: Segment, record: record_pb2.Record) -> None:
        document = record.travel_document
        if document.HasField("issuing_state") or document.HasField("issue_place"):
            self._duplicate(segment, "the place of issue")
            return
        name = _place_name(segment)
        if self._country(segment, document.issuing_state):
            document.issue_place.country.CopyFrom(document.issuing_state)
        if name:
            document.issue_place.name = name

    # --- CNT ---

    def _cnt(self, segment: Segment, following: Segment | None) -> None:
        if self.message.cnt is not None:
            self._unexpected(segment, "repeats the control total")
            return
        qualifier, value = segment.value(0, 0), segment.value(0, 1)
        expected = codes.CNT_BY_MANIFEST_TYPE.get(self.manifest.manifest_type)
        if qualifier not in (codes.CNT_PASSENGERS, codes.CNT_CREW):
            self._code(segment, "the control total qualifier (6069) is not 42 or 41")
            return
        declared = number(value)
        if declared is None:
            self._code(segment, "the control total (6066) is not a number")
            return
        if expected is not None and qualifier != expected:
            self.findings.warning(
                "PAXLST_CODE",
                f"CNT+{qualifier} counts "
                + (
                    "passengers in a crew list"
                    if expected == codes.CNT_CREW
                    else "crew in a passenger list"
                ),
                segment,
            )
        self.message.declared = declared
        self.message.cnt = segment
        self.section = _TRAILER
        self.traveller = None


def _label(segment: Segment) -> str:
    """``LOC+174`` for a LOC (whose qualifiers are known here), the bare tag otherwise: a
    diagnostic names structure, and an unchecked qualifier could be anything."""
    return f"LOC+{segment.value(0)}" if segment.tag == "LOC" else segment.tag


def _place_name(segment: Segment) -> str:
    """LOC 3224, with the names of the related locations (C519 3222, C553 3232) after it."""
    names = [segment.value(1, 3), segment.value(2, 3), segment.value(3, 3)]
    return ", ".join(name for name in names if name)


def _fill_place(place: common_pb2.Place, segment: Segment) -> bool:
    """An airport or city from LOC C517; False when the segment names no location."""
    code, name = segment.value(1), _place_name(segment)
    if not (code or name):
        return False
    set_location(place, code, name)
    return True


def _set_date(target: common_pb2.PartialDate, value: DateValue) -> None:
    target.year = value.year
    target.month = value.month
    target.day = value.day


def _set_local(target: manifest_pb2.LocalDateTime, value: DateValue) -> None:
    _set_date(target.date, value)
    if value.has_time:
        target.has_time = True
        target.hour = value.hour
        target.minute = value.minute
