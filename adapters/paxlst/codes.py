"""The code values of the WCO/IATA/ICAO PAXLST implementation guide that the adapter maps.

Clause numbers refer to the WCO/IATA/ICAO Passenger List Message (PAXLST) Implementation Guide
(Appendix II/IIA to the API Guidelines; version 3.0 of 2010 for D.02B, version 5.0 of 2015 for
D.05B), section 4 "Segment details".
"""

from __future__ import annotations

from liaison.v1 import manifest_pb2, travel_document_pb2
from liaison.v1.common_pb2 import SEX_FEMALE, SEX_MALE, SEX_UNSPECIFIED, SEX_X

__all__ = [
    "ATT_BY_SEX",
    "ATT_SEX",
    "BGM_BY_MANIFEST_TYPE",
    "CNT_BY_MANIFEST_TYPE",
    "CNT_CREW",
    "CNT_PASSENGERS",
    "DEFAULT_MESSAGE_IDENTIFIER",
    "DOCUMENT_CODE_BY_TYPE",
    "DOCUMENT_TYPE_BY_CODE",
    "DTM_ARRIVAL",
    "DTM_BIRTH",
    "DTM_DEPARTURE",
    "DTM_EXPIRY",
    "DTM_ISSUE",
    "KNOWN_VERSIONS",
    "LOC_ARRIVAL",
    "LOC_BIRTH_PLACE",
    "LOC_DEBARKATION",
    "LOC_DEPARTURE",
    "LOC_EMBARKATION",
    "LOC_FINAL_DESTINATION",
    "LOC_ISSUE_PLACE",
    "LOC_RESIDENCE",
    "LOC_ROUTING",
    "MANIFEST_TYPE_BY_BGM",
    "NAD_BY_ROLE",
    "PAXLST_TAGS",
    "REPORTING_PARTY",
    "RFF_PNR",
    "ROLE_BY_NAD",
    "SEX_BY_ATT",
    "TDT_MAIN_CARRIAGE",
]

DEFAULT_MESSAGE_IDENTIFIER = "PAXLST:D:05B:UN:IATA"
"""UNH S009 as the guide writes it (4.4): type, version, release, agency, association code."""
KNOWN_VERSIONS = frozenset({"D:02B", "D:05B"})
"""Directory versions (S009 0052:0054) the guide defines the message for."""

# 4.5 BGM C002 1001 document name code.
MANIFEST_TYPE_BY_BGM: dict[str, int] = {
    "745": manifest_pb2.MANIFEST_TYPE_PASSENGER,  # Passenger list
    "250": manifest_pb2.MANIFEST_TYPE_CREW,  # Crew list declaration
}
BGM_BY_MANIFEST_TYPE: dict[int, str] = {value: code for code, value in MANIFEST_TYPE_BY_BGM.items()}

# 4.6 / 4.11 NAD 3035 party function code qualifier.
REPORTING_PARTY = "MS"  # Gr. 1: the party reporting the manifest
ROLE_BY_NAD: dict[str, int] = {
    "FL": manifest_pb2.TRAVELLER_ROLE_PASSENGER,
    "FM": manifest_pb2.TRAVELLER_ROLE_CREW,
    "DDU": manifest_pb2.TRAVELLER_ROLE_INTRANSIT_PASSENGER,
    "DDT": manifest_pb2.TRAVELLER_ROLE_INTRANSIT_CREW,
}
NAD_BY_ROLE: dict[int, str] = {value: code for code, value in ROLE_BY_NAD.items()}

# 4.12 ATT: 9017 attribute function code qualifier "2" (gender), C956 9019 M / F / U, and X
# (unspecified, as ICAO Doc 9303 writes it) in the later profiles.
ATT_SEX = "2"
SEX_BY_ATT: dict[str, int] = {
    "M": SEX_MALE,
    "F": SEX_FEMALE,
    "X": SEX_X,
    "U": SEX_UNSPECIFIED,
}
ATT_BY_SEX: dict[int, str] = {SEX_MALE: "M", SEX_FEMALE: "F", SEX_X: "X", SEX_UNSPECIFIED: "U"}

# 4.10 / 4.13 / 4.22 DTM C507 2005 date or time or period function code qualifier.
DTM_DEPARTURE = "189"  # Gr. 3: scheduled departure, local time
DTM_ARRIVAL = "232"  # Gr. 3: scheduled arrival, local time
DTM_BIRTH = "329"  # Gr. 4: date of birth
DTM_EXPIRY = "36"  # Gr. 5: expiry date of the document
DTM_ISSUE = "182"  # Gr. 5: issue date of the document (D.05B profiles)

# 4.9 / 4.17 / 4.23 LOC 3227 location function code qualifier.
LOC_DEPARTURE = "125"  # Gr. 3: last place of call before arrival in the reporting country
LOC_ARRIVAL = "87"  # Gr. 3: first place of arrival in the reporting country
LOC_ROUTING = "92"  # Gr. 3: routing (other airports of the flight)
LOC_FINAL_DESTINATION = "130"  # Gr. 3: the flight's, Gr. 4: the traveller's final destination
LOC_EMBARKATION = "178"  # Gr. 4: port of embarkation
LOC_DEBARKATION = "179"  # Gr. 4: port of debarkation
LOC_RESIDENCE = "174"  # Gr. 4: country of residence
LOC_BIRTH_PLACE = "180"  # Gr. 4: place of birth
LOC_ISSUE_PLACE = "91"  # Gr. 5: place (country) of document issue

# 4.8 TDT 8051 transport stage code qualifier.
TDT_MAIN_CARRIAGE = "20"

# 4.20 RFF C506 1153 reference code qualifier of the passenger name record locator.
RFF_PNR = "AVF"

# 4.24 CNT C270 6069 control total type code qualifier.
CNT_PASSENGERS = "42"  # total number of passengers
CNT_CREW = "41"  # total number of crew members
CNT_BY_MANIFEST_TYPE: dict[int, str] = {
    manifest_pb2.MANIFEST_TYPE_PASSENGER: CNT_PASSENGERS,
    manifest_pb2.MANIFEST_TYPE_CREW: CNT_CREW,
}

# 4.21 DOC C002 1001 document name code. The guide names P (passport), V (visa) and I (other
# state-issued identity document); AC is the crew member certificate and ID the identity-card
# code some national profiles use. Other codes national profiles assign (A, C, F, M, T, IN,
# ...) are kept verbatim with type OTHER.
DOCUMENT_TYPE_BY_CODE: dict[str, int] = {
    "P": travel_document_pb2.DOCUMENT_TYPE_PASSPORT,
    "V": travel_document_pb2.DOCUMENT_TYPE_VISA,
    "I": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
    "ID": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
    "AC": travel_document_pb2.DOCUMENT_TYPE_CREW_MEMBER_CERTIFICATE,
}
DOCUMENT_CODE_BY_TYPE: dict[int, str] = {
    travel_document_pb2.DOCUMENT_TYPE_PASSPORT: "P",
    travel_document_pb2.DOCUMENT_TYPE_VISA: "V",
    travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD: "I",
    travel_document_pb2.DOCUMENT_TYPE_CREW_MEMBER_CERTIFICATE: "AC",
}

# Segments of the PAXLST message (UN/EDIFACT directory D.05B, section 4.3.1 segment table).
# A segment with another tag inside a message is unknown to PAXLST.
PAXLST_TAGS = frozenset(
    {
        "BGM",
        "RFF",
        "DTM",
        "LOC",
        "NAD",
        "CTA",
        "COM",
        "TDT",
        "ATT",
        "MEA",
        "GEI",
        "FTX",
        "EMP",
        "NAT",
        "PDI",
        "DOC",
        "CPI",
        "QTY",
        "GID",
        "AUT",
        "CNT",
    }
)
